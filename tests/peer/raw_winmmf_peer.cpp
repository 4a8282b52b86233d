// A WinMMF peer written from the protocol description alone (docs/reference/winmmf-protocol.md),
// with raw Win32 calls and Interlocked operations: no winmmf header is included. It stands in
// for a Rust process using the WinMMF crate, so the tests can show that both sides see each
// other's locks and data on one mapping.
//
//   create-hold <full-name> <size> <hex> <ready-event> <release-event>
//   expect      <full-name> <size> <hex>
//   write       <full-name> <size> <hex>
//   hold-read   <full-name> <size> <ready-event> <release-event>
//   hold-write  <full-name> <size> <ready-event> <release-event>
//   try-read    <full-name> <size>
//   try-write   <full-name> <size>
//   increment   <full-name> <size> <count> <start-event>
//
// Exit codes: 0 ok, 1 usage, 3 Win32 failure, 10 mismatch, and for a refused lock:
// 40 uninitialized, 41 write-locked, 42 read-locked, 43 max readers, 44 lock violation.
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <shellapi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr LONG initialize_mask = static_cast<LONG>(0xFF000000u);
constexpr LONG write_lock_mask = static_cast<LONG>(0x80000000u);
constexpr LONG read_lock_mask = 0x00FFFFFF;

enum result : int {
    ok = 0,
    usage = 1,
    win32_failure = 3,
    mismatch = 10,
    uninitialized = 40,
    write_locked = 41,
    read_locked = 42,
    max_readers = 43,
    lock_violation = 44,
};

bool is_initialized(LONG w)
{
    return (static_cast<unsigned long>(w) & 0xFF000000u) < 0xFF000000u;
}

// One protocol step: load, check, compare-exchange; retry only when the word moved under us.
template <class Check, class Next>
result step(volatile LONG* word, Check check, Next next)
{
    for (;;) {
        const LONG current = *word; // aligned 32-bit reads are atomic on Windows
        const result why = check(current);
        if (why != ok) {
            return why;
        }
        if (InterlockedCompareExchange(word, next(current), current) == current) {
            MemoryBarrier();
            return ok;
        }
    }
}

result lock_read(volatile LONG* w)
{
    return step(w, [](LONG v) {
        if (!is_initialized(v)) return uninitialized;
        if (v & write_lock_mask) return write_locked;
        if ((v & read_lock_mask) == read_lock_mask) return max_readers;
        return ok;
    }, [](LONG v) { return v + 1; });
}

result unlock_read(volatile LONG* w)
{
    return step(w, [](LONG v) {
        if (!is_initialized(v)) return uninitialized;
        if (v & write_lock_mask) return write_locked;
        if (v == 0) return lock_violation;
        return ok;
    }, [](LONG v) { return v - 1; });
}

result lock_write(volatile LONG* w)
{
    return step(w, [](LONG v) {
        if (!is_initialized(v)) return uninitialized;
        if (v & write_lock_mask) return write_locked;
        if (v & read_lock_mask) return read_locked;
        return ok;
    }, [](LONG v) { return v | write_lock_mask; });
}

result unlock_write(volatile LONG* w)
{
    return step(w, [](LONG v) {
        if (!(v & write_lock_mask)) return lock_violation;
        if (v & read_lock_mask) return read_locked;
        return ok;
    }, [](LONG v) { return v & ~write_lock_mask; });
}

// WinMMF's "_spin" variants retry until they get the lock; this one yields between tries so
// several peers on two cores still make progress.
template <class Op>
result spin(Op op, volatile LONG* w)
{
    for (;;) {
        const result r = op(w);
        if (r == ok || r == lock_violation) {
            return r;
        }
        SwitchToThread();
    }
}

std::vector<unsigned char> from_hex(const std::string& hex)
{
    std::vector<unsigned char> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<unsigned char>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    }
    return out;
}

struct mapping {
    HANDLE section = nullptr;
    unsigned char* view = nullptr;
    volatile LONG* word() const { return reinterpret_cast<volatile LONG*>(view); }
    unsigned char* data() const { return view + 4; }
    ~mapping()
    {
        if (view) UnmapViewOfFile(view);
        if (section) CloseHandle(section);
    }
};

// As WinMMF does it: a section of size + 4 bytes and a view of the same length.
bool create(mapping& m, const std::wstring& name, std::size_t size)
{
    const std::size_t total = size + 4;
    const unsigned long long total64 = total;
    m.section = CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE,
                                   static_cast<DWORD>(total64 >> 32), static_cast<DWORD>(total64), name.c_str());
    if (!m.section) return false;
    m.view = static_cast<unsigned char*>(MapViewOfFile(m.section, FILE_MAP_ALL_ACCESS, 0, 0, total));
    if (!m.view) return false;
    std::memset(m.view, 0, total);
    InterlockedExchange(m.word(), initialize_mask);
    return InterlockedCompareExchange(m.word(), 0, initialize_mask) == initialize_mask;
}

bool open(mapping& m, const std::wstring& name, std::size_t size)
{
    m.section = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name.c_str());
    if (!m.section) return false;
    m.view = static_cast<unsigned char*>(MapViewOfFile(m.section, FILE_MAP_ALL_ACCESS, 0, 0, size + 4));
    return m.view != nullptr;
}

HANDLE open_event(const std::wstring& name)
{
    return OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, name.c_str());
}

std::string narrow(const wchar_t* s)
{
    const int n = WideCharToMultiByte(CP_UTF8, 0, s, -1, nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<std::size_t>(n > 0 ? n - 1 : 0), '\0');
    WideCharToMultiByte(CP_UTF8, 0, s, -1, out.data(), n, nullptr, nullptr);
    return out;
}

int fail_win32(const char* what)
{
    std::fprintf(stderr, "raw_peer: %s failed: %lu\n", what, GetLastError());
    return win32_failure;
}

} // namespace

int main()
{
    int argc = 0;
    LPWSTR* argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv || argc < 4) {
        return usage;
    }
    const std::string cmd = narrow(argv[1]);
    const std::wstring name = argv[2];
    const std::size_t size = std::wcstoul(argv[3], nullptr, 10);
    mapping m;

    if (cmd == "create-hold" && argc == 7) {
        if (!create(m, name, size)) return fail_win32("create");
        const auto data = from_hex(narrow(argv[4]));
        if (const result r = spin(lock_write, m.word()); r != ok) return r;
        std::memcpy(m.data(), data.data(), data.size());
        if (const result r = unlock_write(m.word()); r != ok) return r;
        HANDLE ready = open_event(argv[5]);
        HANDLE release = open_event(argv[6]);
        if (!ready || !release) return fail_win32("OpenEventW");
        SetEvent(ready);
        return WaitForSingleObject(release, 120000) == WAIT_OBJECT_0 ? ok : win32_failure;
    }
    if (!open(m, name, size)) {
        return fail_win32("open");
    }
    if (cmd == "expect" && argc == 5) {
        const auto expected = from_hex(narrow(argv[4]));
        if (const result r = lock_read(m.word()); r != ok) return r;
        const bool same = std::memcmp(m.data(), expected.data(), expected.size()) == 0;
        if (const result r = unlock_read(m.word()); r != ok) return r;
        return same ? ok : mismatch;
    }
    if (cmd == "write" && argc == 5) {
        const auto data = from_hex(narrow(argv[4]));
        if (const result r = lock_write(m.word()); r != ok) return r;
        std::memcpy(m.data(), data.data(), data.size());
        return unlock_write(m.word());
    }
    if ((cmd == "hold-read" || cmd == "hold-write") && argc == 6) {
        const bool exclusive = cmd == "hold-write";
        if (const result r = spin(exclusive ? lock_write : lock_read, m.word()); r != ok) return r;
        HANDLE ready = open_event(argv[4]);
        HANDLE release = open_event(argv[5]);
        if (!ready || !release) return fail_win32("OpenEventW");
        SetEvent(ready);
        if (WaitForSingleObject(release, 120000) != WAIT_OBJECT_0) return win32_failure;
        return exclusive ? unlock_write(m.word()) : unlock_read(m.word());
    }
    if (cmd == "try-read" && argc == 4) {
        const result r = lock_read(m.word());
        return r != ok ? r : unlock_read(m.word());
    }
    if (cmd == "try-write" && argc == 4) {
        const result r = lock_write(m.word());
        return r != ok ? r : unlock_write(m.word());
    }
    if (cmd == "increment" && argc == 6) {
        const unsigned long count = std::wcstoul(argv[4], nullptr, 10);
        HANDLE start = open_event(argv[5]);
        if (!start) return fail_win32("OpenEventW");
        if (WaitForSingleObject(start, 120000) != WAIT_OBJECT_0) return win32_failure;
        for (unsigned long i = 0; i < count; ++i) {
            if (const result r = spin(lock_write, m.word()); r != ok) return r;
            unsigned long long value;
            std::memcpy(&value, m.data(), sizeof value);
            ++value;
            std::memcpy(m.data(), &value, sizeof value);
            if (const result r = unlock_write(m.word()); r != ok) return r;
        }
        return ok;
    }
    return usage;
}
