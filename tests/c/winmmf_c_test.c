/* The C ABI from C, across two processes.
 *
 *   winmmf_c_test [--child-exe <program>]     the parent: runs every scenario below, starting
 *                                             <program> (default: itself) as the peer
 *   winmmf_c_test child <command> <args...>   the peer, started by the parent
 *
 * The parent exits 0 when every check passed, 1 otherwise; each failed check prints its line.
 * The child's exit code is its result: 0, or the negated winmmf status it met, or 90+ for a
 * usage or data problem, so the parent can check exactly what the other process saw.
 *
 * Plain C11 on purpose: this is what a C caller (or an FFI binding) sees of winmmf_c.h.
 */
#include <winmmf/winmmf_c.h>

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <shellapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);              \
            ++failures;                                                                            \
        }                                                                                          \
    } while (0)

/* Checks a status and prints both messages when it is not the expected one. */
#define CHECK_STATUS(expr, expected) check_status((expr), (expected), #expr, __LINE__)

static void check_status(int got, int expected, const char* what, int line)
{
    if (got != expected) {
        char got_text[256];
        char expected_text[256];
        winmmf_error_message(got, got_text, sizeof got_text);
        winmmf_error_message(expected, expected_text, sizeof expected_text);
        fprintf(stderr, "%s:%d: %s gave %d (%s), expected %d (%s)\n", __FILE__, line, what, got,
                got_text, expected, expected_text);
        ++failures;
    }
}

/* ---- UTF-8 arguments and child processes -------------------------------------------------- */

static char* to_utf8(const wchar_t* wide)
{
    const int n = WideCharToMultiByte(CP_UTF8, 0, wide, -1, NULL, 0, NULL, NULL);
    char* out = (char*)malloc((size_t)n);
    if (out == NULL || WideCharToMultiByte(CP_UTF8, 0, wide, -1, out, n, NULL, NULL) != n) {
        fprintf(stderr, "to_utf8 failed\n");
        exit(95);
    }
    return out;
}

static wchar_t* to_wide(const char* utf8)
{
    const int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, NULL, 0);
    wchar_t* out = (wchar_t*)malloc((size_t)n * sizeof(wchar_t));
    if (out == NULL || MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, out, n) != n) {
        fprintf(stderr, "to_wide failed\n");
        exit(95);
    }
    return out;
}

static wchar_t child_program[MAX_PATH];

/* Starts the peer with the given UTF-8 arguments (none of which contains a quote or ends in a
 * backslash, so plain quoting is enough). Returns the process handle. */
static HANDLE start_child(const char* const* args, int count)
{
    wchar_t line[4096];
    size_t used = 0;
    int i;
    line[0] = L'\0';
    used += (size_t)swprintf(line + used, 4096 - used, L"\"%ls\" child", child_program);
    for (i = 0; i < count; ++i) {
        wchar_t* wide = to_wide(args[i]);
        used += (size_t)swprintf(line + used, 4096 - used, L" \"%ls\"", wide);
        free(wide);
    }
    {
        STARTUPINFOW startup;
        PROCESS_INFORMATION info;
        memset(&startup, 0, sizeof startup);
        startup.cb = sizeof startup;
        if (!CreateProcessW(child_program, line, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &info)) {
            fprintf(stderr, "CreateProcessW failed: %lu\n", (unsigned long)GetLastError());
            exit(96);
        }
        CloseHandle(info.hThread);
        return info.hProcess;
    }
}

/* Waits for the peer and returns its exit code (-1 if it hung and was killed). */
static long finish_child(HANDLE process)
{
    DWORD code = 0;
    if (WaitForSingleObject(process, 120000) != WAIT_OBJECT_0) {
        TerminateProcess(process, 999);
        WaitForSingleObject(process, 10000);
        CloseHandle(process);
        return -1;
    }
    GetExitCodeProcess(process, &code);
    CloseHandle(process);
    return (long)code;
}

static long run_child(const char* const* args, int count)
{
    return finish_child(start_child(args, count));
}

/* Waits until `event` is set, or the process exits first (then 0). */
static int wait_event_or_exit(HANDLE event, HANDLE process)
{
    HANDLE both[2];
    both[0] = event;
    both[1] = process;
    return WaitForMultipleObjects(2, both, FALSE, 120000) == WAIT_OBJECT_0;
}

static HANDLE make_event(const char* name)
{
    wchar_t* wide = to_wide(name);
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, wide);
    free(wide);
    if (event == NULL) {
        fprintf(stderr, "CreateEventW %s failed\n", name);
        exit(96);
    }
    return event;
}

static HANDLE open_event(const char* name)
{
    wchar_t* wide = to_wide(name);
    HANDLE event = OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, wide);
    free(wide);
    return event;
}

/* ---- the child's commands ------------------------------------------------------------------- */

/* The exit code for a status: 0, or its magnitude for a winmmf status, or 97 for a Win32 one. */
static int exit_for(int status)
{
    if (status == WINMMF_OK) {
        return 0;
    }
    return status < 0 && status > -1000 ? -status : 97;
}

static int child_main(int argc, char** argv)
{
    const char* command;
    const char* name;
    winmmf_mapping* m = NULL;
    int status;
    if (argc < 4) {
        return 90;
    }
    command = argv[2];
    name = argv[3];
    status = winmmf_open(name, 0, 0, &m);
    if (status != WINMMF_OK) {
        return exit_for(status);
    }

    if (strcmp(command, "expect-then-reply") == 0 && argc == 6) {
        /* expect-then-reply <name> <expected text at 0> <reply text for offset 100> */
        const char* expected = argv[4];
        const char* reply = argv[5];
        char got[256];
        size_t length = strlen(expected);
        memset(got, 0, sizeof got);
        status = winmmf_read(m, 0, got, length, 5000);
        if (status == WINMMF_OK && memcmp(got, expected, length) != 0) {
            fprintf(stderr, "child: read \"%s\", expected \"%s\"\n", got, expected);
            winmmf_close(m);
            return 91;
        }
        if (status == WINMMF_OK) {
            status = winmmf_write(m, 100, reply, strlen(reply) + 1, 5000);
        }
    } else if (strcmp(command, "hold-read") == 0 && argc == 6) {
        /* hold-read <name> <ready-event> <release-event> */
        HANDLE ready = open_event(argv[4]);
        HANDLE release = open_event(argv[5]);
        const void* data = NULL;
        size_t length = 0;
        if (ready == NULL || release == NULL) {
            winmmf_close(m);
            return 92;
        }
        status = winmmf_lock_read(m, 5000, &data, &length);
        if (status == WINMMF_OK) {
            SetEvent(ready);
            WaitForSingleObject(release, 120000);
            status = winmmf_unlock(m);
        }
        CloseHandle(ready);
        CloseHandle(release);
    } else if (strcmp(command, "try-read") == 0 && argc == 4) {
        status = winmmf_lock_read(m, WINMMF_NO_WAIT, NULL, NULL);
        if (status == WINMMF_OK) {
            status = winmmf_unlock(m);
        }
    } else if (strcmp(command, "lock-write-and-die") == 0 && argc == 4) {
        /* Takes the write lock and exits without unlocking or closing: a crashed writer. */
        status = winmmf_lock_write(m, 5000, NULL, NULL);
        if (status == WINMMF_OK) {
            ExitProcess(0);
        }
    } else {
        status = WINMMF_E_INVALID_ARGUMENT;
        winmmf_close(m);
        return 90;
    }
    winmmf_close(m);
    return exit_for(status);
}

/* ---- the parent's scenarios ------------------------------------------------------------------- */

static char base_name[200];

static void make_name(char* out, size_t size, const char* tag)
{
    snprintf(out, size, "%s-%s", base_name, tag);
}

static void test_version_and_messages(void)
{
    char text[512];
    char small[8];
    size_t needed;
    CHECK(winmmf_abi_version() == WINMMF_C_ABI_VERSION);
    CHECK(strcmp(winmmf_version_string(), "") != 0);

    needed = winmmf_error_message(WINMMF_E_NOT_FOUND, text, sizeof text);
    CHECK(needed == strlen(text));
    CHECK(strstr(text, "no mapping with this name") != NULL);
    winmmf_error_message(WINMMF_OK, text, sizeof text);
    CHECK(strcmp(text, "success") == 0);
    winmmf_error_message(ERROR_ACCESS_DENIED, text, sizeof text);
    CHECK(strstr(text, "(Win32 error 5)") != NULL);
    winmmf_error_message(WINMMF_E_INVALID_ARGUMENT, text, sizeof text);
    CHECK(strstr(text, "invalid argument") != NULL);
    winmmf_error_message(-1999, text, sizeof text);
    CHECK(strstr(text, "unknown") != NULL);
    /* Every status the header names has a message of its own. */
    {
        int status;
        for (status = WINMMF_E_EMPTY_NAME; status >= WINMMF_E_OPERATION_PENDING; --status) {
            winmmf_error_message(status, text, sizeof text);
            if (strstr(text, "unknown") != NULL || text[0] == '\0') {
                fprintf(stderr, "status %d has no message: \"%s\"\n", status, text);
                ++failures;
            }
        }
    }

    /* snprintf semantics: truncated, NUL-terminated, full length returned; (NULL, 0) measures */
    needed = winmmf_error_message(WINMMF_E_TIMEOUT, small, sizeof small);
    CHECK(needed > sizeof small);
    CHECK(strlen(small) == sizeof small - 1);
    CHECK(winmmf_error_message(WINMMF_E_TIMEOUT, NULL, 0) == needed);
}

static void test_bad_arguments(void)
{
    winmmf_mapping* const sentinel = (winmmf_mapping*)&failures;
    winmmf_mapping* m = sentinel;
    char name[256];
    make_name(name, sizeof name, "bad");

    CHECK_STATUS(winmmf_create(NULL, 100, &m), WINMMF_E_INVALID_ARGUMENT);
    CHECK_STATUS(winmmf_create(name, 100, NULL), WINMMF_E_INVALID_ARGUMENT);
    CHECK_STATUS(winmmf_create(name, 0, &m), WINMMF_E_ZERO_SIZE);
    CHECK_STATUS(winmmf_create(name, SIZE_MAX, &m), WINMMF_E_SIZE_OVERFLOW);
    CHECK_STATUS(winmmf_create("", 100, &m), WINMMF_E_EMPTY_NAME);
    CHECK_STATUS(winmmf_create("Local\\", 100, &m), WINMMF_E_EMPTY_NAME);
    CHECK_STATUS(winmmf_create("Global\\a\\b", 100, &m), WINMMF_E_NAME_CONTAINS_BACKSLASH);
    CHECK_STATUS(winmmf_create("Local\\bad\xff utf8", 100, &m), WINMMF_E_INVALID_UTF8);
    CHECK_STATUS(winmmf_open(name, 0, 0x80u, &m), WINMMF_E_INVALID_ARGUMENT);
    CHECK_STATUS(winmmf_open(name, 0, 0, &m), WINMMF_E_NOT_FOUND);
    CHECK_STATUS(winmmf_create_sddl(name, 100, "this is not SDDL", &m), ERROR_INVALID_PARAMETER);
    CHECK(m == sentinel); /* never written on failure */
    CHECK_STATUS(winmmf_open(name, 0, 0, &m), WINMMF_E_NOT_FOUND); /* the bad SDDL created nothing */

    CHECK_STATUS(winmmf_read(NULL, 0, name, 1, 0), WINMMF_E_INVALID_ARGUMENT);
    CHECK_STATUS(winmmf_unlock(NULL), WINMMF_E_INVALID_ARGUMENT);
    CHECK_STATUS(winmmf_close(NULL), WINMMF_OK);
    CHECK(winmmf_capacity(NULL) == 0);
}

static void test_create_open_and_sizes(void)
{
    char name[256];
    char full[300];
    char got[16];
    winmmf_mapping* a = NULL;
    winmmf_mapping* b = NULL;
    int created = -1;
    SYSTEM_INFO si;
    size_t needed;
    GetSystemInfo(&si);
    /* A non-ASCII name travels as UTF-8 and comes back the same. */
    make_name(name, sizeof name, "sizes-\xc3\xbc\xe5\x90\x8d");

    CHECK_STATUS(winmmf_create(name, 5000, &a), WINMMF_OK);
    if (a == NULL) {
        return;
    }
    CHECK(winmmf_size(a) == 5000);
    CHECK(winmmf_capacity(a) == 2 * (size_t)si.dwPageSize - 4); /* 5000 + 4 rounds to 2 pages */
    CHECK(winmmf_created(a) == 1);
    CHECK(winmmf_read_only(a) == 0);
    CHECK(winmmf_native_handle(a) != NULL);

    snprintf(full, sizeof full, "Local\\%s", name);
    needed = winmmf_name(a, NULL, 0);
    CHECK(needed == strlen(full));
    winmmf_name(a, got, sizeof got);
    CHECK(strlen(got) == sizeof got - 1 && memcmp(got, full, sizeof got - 1) == 0);
    {
        char whole[300];
        winmmf_name(a, whole, sizeof whole);
        CHECK(strcmp(whole, full) == 0);
    }

    /* The name is taken whatever size is asked for; open_or_create opens it. */
    CHECK_STATUS(winmmf_create(full, 100, &b), WINMMF_E_ALREADY_EXISTS);
    CHECK_STATUS(winmmf_create(full, 1 << 20, &b), WINMMF_E_ALREADY_EXISTS);
    CHECK_STATUS(winmmf_open_or_create(full, 100, &b, &created), WINMMF_OK);
    CHECK(created == 0);
    CHECK(winmmf_capacity(b) == winmmf_capacity(a));
    CHECK_STATUS(winmmf_close(b), WINMMF_OK);
    b = NULL;
    /* "local\" is the same namespace: the kernel matches the prefix without regard to case */
    full[0] = 'l';
    CHECK_STATUS(winmmf_open(full, 0, 0, &b), WINMMF_OK);
    CHECK_STATUS(winmmf_close(b), WINMMF_OK);
    b = NULL;
    CHECK_STATUS(winmmf_open(name, winmmf_capacity(a) + 1, 0, &b), WINMMF_E_TOO_LARGE);
    CHECK_STATUS(winmmf_open(name, winmmf_capacity(a), 0, &b), WINMMF_OK);
    CHECK(winmmf_size(b) == winmmf_capacity(a));
    CHECK_STATUS(winmmf_close(b), WINMMF_OK);

    /* The mapping dies with its last handle. */
    CHECK_STATUS(winmmf_close(a), WINMMF_OK);
    b = NULL;
    CHECK_STATUS(winmmf_open(name, 0, 0, &b), WINMMF_E_NOT_FOUND);
}

static void test_data_between_processes(void)
{
    char name[256];
    char reply[64];
    const char* greeting = "hello from the C parent";
    winmmf_mapping* m = NULL;
    uint32_t word = 1;
    make_name(name, sizeof name, "data");
    CHECK_STATUS(winmmf_create(name, 4096, &m), WINMMF_OK);
    if (m == NULL) {
        return;
    }
    CHECK_STATUS(winmmf_write(m, 0, greeting, strlen(greeting), 1000), WINMMF_OK);
    {
        const char* args[] = {"expect-then-reply", name, greeting, "and hello from the C child"};
        CHECK(run_child(args, 4) == 0);
    }
    {
        const char* args[] = {"expect-then-reply", name, "something else", "x"};
        CHECK(run_child(args, 4) == 91);
    }
    memset(reply, 0, sizeof reply);
    CHECK_STATUS(winmmf_read(m, 100, reply, sizeof reply, 1000), WINMMF_OK);
    CHECK(strcmp(reply, "and hello from the C child") == 0);
    CHECK_STATUS(winmmf_lock_word(m, &word), WINMMF_OK);
    CHECK(word == 0);

    /* Out of bounds: nothing is copied or written. */
    memset(reply, 'z', sizeof reply);
    CHECK_STATUS(winmmf_read(m, winmmf_capacity(m) - 1, reply, 2, 1000), WINMMF_E_OUT_OF_BOUNDS);
    CHECK(reply[0] == 'z' && reply[1] == 'z');
    CHECK_STATUS(winmmf_write(m, winmmf_capacity(m), "x", 1, 1000), WINMMF_E_OUT_OF_BOUNDS);
    CHECK_STATUS(winmmf_write(m, SIZE_MAX, "x", 1, 1000), WINMMF_E_OUT_OF_BOUNDS);
    CHECK_STATUS(winmmf_write(m, winmmf_capacity(m) - 1, "x", 1, 1000), WINMMF_OK); /* last byte */
    memset(reply, 0, sizeof reply);
    CHECK_STATUS(winmmf_read(m, 0, reply, strlen(greeting), 1000), WINMMF_OK);
    CHECK(memcmp(reply, greeting, strlen(greeting)) == 0);
    CHECK_STATUS(winmmf_close(m), WINMMF_OK);
}

static void test_locks_between_processes(void)
{
    char name[256];
    char ready_name[300];
    char release_name[300];
    winmmf_mapping* m = NULL;
    winmmf_mapping* ro = NULL;
    HANDLE ready;
    HANDLE release;
    HANDLE child;
    uint32_t word = 0;
    void* data = NULL;
    const void* cdata = NULL;
    size_t length = 0;

    make_name(name, sizeof name, "locks");
    snprintf(ready_name, sizeof ready_name, "%s-ready", name);
    snprintf(release_name, sizeof release_name, "%s-release", name);
    CHECK_STATUS(winmmf_create(name, 100, &m), WINMMF_OK);
    if (m == NULL) {
        return;
    }
    ready = make_event(ready_name);
    release = make_event(release_name);

    /* A reader in the child: we may read too, but not write. */
    {
        const char* args[] = {"hold-read", name, ready_name, release_name};
        child = start_child(args, 4);
    }
    CHECK(wait_event_or_exit(ready, child));
    CHECK_STATUS(winmmf_lock_word(m, &word), WINMMF_OK);
    CHECK(word == 1);
    CHECK_STATUS(winmmf_lock_write(m, WINMMF_NO_WAIT, &data, &length), WINMMF_E_READ_LOCKED);
    CHECK_STATUS(winmmf_lock_write(m, 50, &data, &length), WINMMF_E_TIMEOUT);
    CHECK(data == NULL && length == 0);
    CHECK_STATUS(winmmf_lock_read(m, WINMMF_NO_WAIT, &cdata, &length), WINMMF_OK);
    CHECK(cdata != NULL && length == winmmf_capacity(m));
    CHECK_STATUS(winmmf_lock_word(m, &word), WINMMF_OK);
    CHECK(word == 2);
    CHECK_STATUS(winmmf_unlock(m), WINMMF_OK);
    CHECK_STATUS(winmmf_unlock(m), WINMMF_E_LOCK_VIOLATION); /* this handle holds none now */
    SetEvent(release);
    CHECK(finish_child(child) == 0);
    CHECK_STATUS(winmmf_lock_word(m, &word), WINMMF_OK);
    CHECK(word == 0);

    /* A writer here: the child is refused, with the reason. */
    CHECK_STATUS(winmmf_lock_write(m, 1000, &data, &length), WINMMF_OK);
    if (data != NULL) {
        memcpy(data, "written under the lock", 23);
    }
    {
        const char* args[] = {"try-read", name};
        CHECK(run_child(args, 2) == -WINMMF_E_WRITE_LOCKED);
    }
    CHECK_STATUS(winmmf_unlock(m), WINMMF_OK);
    {
        const char* args[] = {"try-read", name};
        CHECK(run_child(args, 2) == 0);
    }

    /* A read-only handle sees the data but cannot lock or write. */
    CHECK_STATUS(winmmf_open(name, 0, WINMMF_OPEN_READ_ONLY, &ro), WINMMF_OK);
    if (ro != NULL) {
        CHECK(winmmf_read_only(ro) == 1);
        CHECK_STATUS(winmmf_lock_read(ro, 0, &cdata, &length), WINMMF_E_READ_ONLY);
        CHECK_STATUS(winmmf_write(ro, 0, "x", 1, 0), WINMMF_E_READ_ONLY);
        CHECK_STATUS(winmmf_unsynchronized_data(ro, &cdata, &length), WINMMF_OK);
        CHECK(memcmp(cdata, "written under the lock", 23) == 0);
        CHECK_STATUS(winmmf_close(ro), WINMMF_OK);
    }

    /* Closing a handle releases the locks it still holds. */
    {
        winmmf_mapping* other = NULL;
        CHECK_STATUS(winmmf_open(name, 0, 0, &other), WINMMF_OK);
        CHECK_STATUS(winmmf_lock_read(other, 0, NULL, NULL), WINMMF_OK);
        CHECK_STATUS(winmmf_lock_read(other, 0, NULL, NULL), WINMMF_OK);
        CHECK_STATUS(winmmf_lock_word(m, &word), WINMMF_OK);
        CHECK(word == 2);
        CHECK_STATUS(winmmf_close(other), WINMMF_OK);
        CHECK_STATUS(winmmf_lock_word(m, &word), WINMMF_OK);
        CHECK(word == 0);
    }

    /* A writer that dies holding the lock leaves it held; force_unlock recovers it. */
    {
        const char* args[] = {"lock-write-and-die", name};
        CHECK(run_child(args, 2) == 0);
    }
    CHECK_STATUS(winmmf_lock_word(m, &word), WINMMF_OK);
    CHECK(word == 0x80000000u);
    CHECK_STATUS(winmmf_lock_read(m, 50, NULL, NULL), WINMMF_E_TIMEOUT);
    {
        uint32_t previous = 0;
        CHECK_STATUS(winmmf_force_unlock(m, &previous), WINMMF_OK);
        CHECK(previous == 0x80000000u);
    }
    CHECK_STATUS(winmmf_lock_write(m, 0, NULL, NULL), WINMMF_OK);
    CHECK_STATUS(winmmf_unlock(m), WINMMF_OK);

    CloseHandle(ready);
    CloseHandle(release);
    CHECK_STATUS(winmmf_close(m), WINMMF_OK);
}

static void test_sddl(void)
{
    char name[256];
    winmmf_mapping* m = NULL;
    winmmf_mapping* other = NULL;
    make_name(name, sizeof name, "sddl");
    /* Everyone: generic all. Under Wine the DACL is stored but barely enforced, so this shows
     * only that a valid descriptor is accepted and used; enforcement is Windows-only. */
    CHECK_STATUS(winmmf_create_sddl(name, 100, "D:P(A;;GA;;;WD)", &m), WINMMF_OK);
    CHECK_STATUS(winmmf_open(name, 0, 0, &other), WINMMF_OK);
    CHECK_STATUS(winmmf_close(other), WINMMF_OK);
    CHECK_STATUS(winmmf_close(m), WINMMF_OK);
}

int main(void)
{
    int argc = 0;
    int i;
    char** argv;
    wchar_t** wide_argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (wide_argv == NULL) {
        return 95;
    }
    argv = (char**)calloc((size_t)argc + 1, sizeof(char*));
    if (argv == NULL) {
        return 95;
    }
    for (i = 0; i < argc; ++i) {
        argv[i] = to_utf8(wide_argv[i]);
    }
    LocalFree(wide_argv);

    if (argc >= 2 && strcmp(argv[1], "child") == 0) {
        return child_main(argc, argv);
    }

    /* The peer: this program, or a sibling named with --child-exe (in the same directory). */
    {
        DWORD n = GetModuleFileNameW(NULL, child_program, MAX_PATH);
        if (n == 0 || n >= MAX_PATH) {
            return 96;
        }
        if (argc == 3 && strcmp(argv[1], "--child-exe") == 0) {
            wchar_t* slash = wcsrchr(child_program, L'\\');
            wchar_t* sibling = to_wide(argv[2]);
            if (slash == NULL || (size_t)(slash - child_program) + 1 + wcslen(sibling) >= MAX_PATH) {
                return 96;
            }
            wcscpy(slash + 1, sibling);
            free(sibling);
        } else if (argc != 1) {
            fprintf(stderr, "usage: winmmf_c_test [--child-exe <program>]\n");
            return 90;
        }
    }
    snprintf(base_name, sizeof base_name, "winmmf-c-test-%lu", (unsigned long)GetCurrentProcessId());

    test_version_and_messages();
    test_bad_arguments();
    test_create_open_and_sizes();
    test_data_between_processes();
    test_locks_between_processes();
    test_sddl();

    if (failures != 0) {
        fprintf(stderr, "winmmf_c_test: %d check(s) failed\n", failures);
        return 1;
    }
    printf("winmmf_c_test: all checks passed (peer: %ls)\n", child_program);
    return 0;
}
