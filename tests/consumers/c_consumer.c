/* A C program that uses the C ABI as a consumer's would: create, open a second handle, write
 * through one, read through the other. tests/consumers/find_package builds it twice, against
 * winmmf::c (winmmf_c.dll) and against winmmf::c_static, from an installed package and from the
 * build tree's export. Plain C11: the C side sees winmmf_c.h and a library, nothing C++. */
#include <winmmf/winmmf_c.h>

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdio.h>
#include <string.h>

#if !defined(WINMMF_CONSUMER_HOW)
#define WINMMF_CONSUMER_HOW "one include path"
#endif
#if !defined(WINMMF_CONSUMER_LIBRARY)
#define WINMMF_CONSUMER_LIBRARY "winmmf::c"
#endif

static int fail(const char* what, int status)
{
    char text[256];
    winmmf_error_message(status, text, sizeof text);
    fprintf(stderr, "c consumer: %s: %d (%s)\n", what, status, text);
    return 1;
}

int main(void)
{
    const char message[] = "consumed via " WINMMF_CONSUMER_HOW " and " WINMMF_CONSUMER_LIBRARY;
    char name[64];
    char seen[sizeof message];
    winmmf_mapping* creator = NULL;
    winmmf_mapping* opener = NULL;
    int status;

    if (winmmf_abi_version() != WINMMF_C_ABI_VERSION) {
        fprintf(stderr, "c consumer: the library has ABI %d, the header %d\n", winmmf_abi_version(),
                WINMMF_C_ABI_VERSION);
        return 1;
    }
    snprintf(name, sizeof name, "Local\\winmmf-c-consumer-%lu", (unsigned long)GetCurrentProcessId());
    if ((status = winmmf_create(name, 64, &creator)) != WINMMF_OK) {
        return fail("winmmf_create", status);
    }
    if ((status = winmmf_open(name, sizeof message, 0, &opener)) != WINMMF_OK) {
        winmmf_close(creator);
        return fail("winmmf_open", status);
    }
    status = winmmf_write(creator, 0, message, sizeof message, 1000);
    if (status == WINMMF_OK) {
        status = winmmf_read(opener, 0, seen, sizeof seen, 1000);
    }
    winmmf_close(opener);
    winmmf_close(creator);
    if (status != WINMMF_OK) {
        return fail("winmmf_write / winmmf_read", status);
    }
    if (memcmp(seen, message, sizeof message) != 0) {
        fprintf(stderr, "c consumer: read something else back\n");
        return 1;
    }
    printf("c consumer: %s (winmmf %s)\n", seen, winmmf_version_string());
    return 0;
}
