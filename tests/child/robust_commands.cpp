// Child commands for the reliability tests: processes that die holding a lock (the parent
// kills them with TerminateProcess), processes that wait for such a lock and report what
// they were told, creators stopped in the middle of initialisation, and the stress worker.
#include "child.hpp"

#include <winmmf/winmmf.hpp>

#include <test_support.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace winmmf::child {
namespace {

using namespace std::chrono_literals;

// The tests' parent computes the same values (tests/win/crash_tests.cpp); keep them in step.
constexpr std::byte sentinel(std::size_t offset, unsigned seed)
{
    return static_cast<std::byte>((offset * 131u + seed) & 0xFFu);
}

constexpr int exit_not_told = 20; // acquired, but owner_dead was not reported

std::uint64_t qpc_now()
{
    LARGE_INTEGER t{};
    ::QueryPerformanceCounter(&t);
    return static_cast<std::uint64_t>(t.QuadPart);
}

// Waits for ever: the parent kills us. (A bounded wait would let a broken test pass by
// timing out here instead of being killed.)
[[noreturn]] void wait_to_be_killed()
{
    for (;;) {
        ::Sleep(INFINITE);
    }
}

// robust-scribble <scope> <name> <offset> <length> <ready-event>
// Takes the write lock and rewrites [offset, offset + length) for ever: whenever the parent
// kills it, it dies mid-copy with the lock held.
int robust_scribble(const args& a)
{
    if (a.size() != 5) {
        return exit_usage;
    }
    std::error_code ec;
    auto m = robust_memory_mapped_file::open(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "open");
    }
    const std::size_t offset = std::stoul(a[2]);
    const std::size_t length = std::stoul(a[3]);
    auto guard = m.lock_write(acquire_mode::wait_for(30s), ec);
    if (!guard) {
        return report(ec, "lock_write");
    }
    volatile std::byte* region = guard.data() + offset;
    for (std::size_t i = 0; i < length; ++i) {
        region[i] = std::byte{0xAA};
    }
    auto ready = test::named_event::open(a[4]);
    ready.set();
    for (unsigned pass = 0;; ++pass) {
        for (std::size_t i = 0; i < length; ++i) {
            region[i] = static_cast<std::byte>(pass + i);
        }
    }
}

// robust-hold <read|write> <scope> <name> <ready-event>: takes the lock and waits to be killed.
int robust_hold(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    auto m = robust_memory_mapped_file::open(test::parse_name(a[1], a[2]), ec);
    if (ec) {
        return report(ec, "open");
    }
    auto ready = test::named_event::open(a[3]);
    if (a[0] == "write") {
        auto guard = m.lock_write(acquire_mode::wait_for(30s), ec);
        if (!guard) {
            return report(ec, "lock_write");
        }
        ready.set();
        wait_to_be_killed();
    }
    auto guard = m.lock_read(acquire_mode::wait_for(30s), ec);
    if (!guard) {
        return report(ec, "lock_read");
    }
    ready.set();
    wait_to_be_killed();
}

// robust-wait <read|write> <scope> <name> <waiting-event> <results-name> <index> <offset>
//             <length> <seed> [repair]
// Waits (up to 60 s) for a lock some other process holds, then checks what the parent wants
// to know: the time it got the lock (QueryPerformanceCounter, into the results mapping at
// index * 8), that every byte outside [offset, offset + length) still holds the sentinel, and
// whether it was told owner_dead. A writer given "repair" rewrites the region with the
// sentinel before it unlocks, as a real program repairs after owner_dead.
// Exit: 0 told owner_dead; 20 not told; 10 data outside the region changed.
int robust_wait(const args& a)
{
    if (a.size() != 9 && a.size() != 10) {
        return exit_usage;
    }
    const bool exclusive = a[0] == "write";
    const bool repair = a.size() == 10 && a[9] == "repair";
    std::error_code ec;
    auto m = robust_memory_mapped_file::open(test::parse_name(a[1], a[2]), ec);
    if (ec) {
        return report(ec, "open");
    }
    auto results = memory_mapped_file::open(test::parse_name(a[1], a[4]), ec);
    if (ec) {
        return report(ec, "open results");
    }
    const std::size_t index = std::stoul(a[5]);
    const std::size_t offset = std::stoul(a[6]);
    const std::size_t length = std::stoul(a[7]);
    const auto seed = static_cast<unsigned>(std::stoul(a[8]));

    const auto check_outside = [&](std::span<const std::byte> bytes) {
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            if ((i < offset || i >= offset + length) && bytes[i] != sentinel(i, seed)) {
                std::fprintf(stderr, "robust-wait: byte %zu outside the region changed\n", i);
                return false;
            }
        }
        return true;
    };
    auto waiting = test::named_event::open(a[3]);
    waiting.set();
    bool told = false;
    bool intact = false;
    std::uint64_t acquired_at = 0;
    if (exclusive) {
        auto guard = m.lock_write(acquire_mode::wait_for(60s), ec);
        acquired_at = qpc_now();
        if (!guard) {
            return report(ec, "lock_write");
        }
        told = guard.previous_owner_died();
        intact = check_outside(guard.bytes());
        if (repair) {
            for (std::size_t i = offset; i < offset + length; ++i) {
                guard.data()[i] = sentinel(i, seed);
            }
        }
        guard.unlock(ec);
    } else {
        auto guard = m.lock_read(acquire_mode::wait_for(60s), ec);
        acquired_at = qpc_now();
        if (!guard) {
            return report(ec, "lock_read");
        }
        told = guard.previous_owner_died();
        intact = check_outside(guard.bytes());
        guard.unlock(ec);
    }
    if (ec) {
        return report(ec, "unlock");
    }
    results.write(index * sizeof acquired_at, std::as_bytes(std::span(&acquired_at, 1)), ec);
    if (ec) {
        return report(ec, "write results");
    }
    if (!intact) {
        return exit_mismatch;
    }
    return told ? exit_ok : exit_not_told;
}

// robust-create-stall <scope> <name> <size> <none|locked|claimed|marked> <ready-event>
// Does what robust_memory_mapped_file::create does, by hand, and stops at the given step of the
// creation handshake (protocol/section.hpp): nothing written, WinMMF's write lock taken, init
// naming it, or the marker in place. Then it waits to be killed, as a creator killed (or
// stalled) at that point would have left it.
int robust_create_stall(const args& a)
{
    if (a.size() != 5) {
        return exit_usage;
    }
    std::error_code ec;
    const object_name name = object_name::make(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "name");
    }
    protocol::mapping_layout layout;
    if (const errc e = protocol::compute_layout(std::stoul(a[2]), robust_lock::header_size,
                                      detail::system_memory_info().page_size, layout);
        e != errc{}) {
        return report(make_error_code(e), "layout");
    }
    const detail::unique_handle section(::CreateFileMappingW(
        INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE | SEC_COMMIT,
        static_cast<DWORD>(layout.section_size >> 32), static_cast<DWORD>(layout.section_size),
        name.c_str()));
    if (!section || ::GetLastError() == ERROR_ALREADY_EXISTS) {
        return report(detail::last_error(), "CreateFileMappingW");
    }
    const detail::unique_view view(
        ::MapViewOfFile(section.get(), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, static_cast<std::size_t>(layout.section_size)));
    if (!view) {
        return report(detail::last_error(), "MapViewOfFile");
    }
    auto ready = test::named_event::open(a[4]);
    struct stalling_environment : detail::win32_environment {
        const std::string* phase = nullptr;
        test::named_event* ready = nullptr;
        void at(protocol::creation_step s)
        {
            const char* names[] = {"locked", "claimed", "marked"};
            if (*phase == names[static_cast<int>(s)]) {
                ready->set();
                wait_to_be_killed();
            }
        }
    } env;
    env.phase = &a[3];
    env.ready = &ready;
    if (a[3] != "none") {
        const errc e = protocol::begin_creation(view.get(), sizeof(protocol::robust_word::header), detail::current_identity(),
                                                protocol::robust_word::layout, env);
        return report(make_error_code(e == errc{} ? errc::corrupt_lock_word : e), "begin_creation passed its step");
    }
    ready.set();
    wait_to_be_killed();
}

// compat-create-stall <scope> <name> <size> <ready-event>
// WinMMF's creation stopped between its two steps: the word stays 0xFF000000 (uninitialized).
int compat_create_stall(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    const object_name name = object_name::make(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "name");
    }
    const auto size = static_cast<DWORD>(std::stoul(a[2]) + 4);
    const detail::unique_handle section(
        ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, size, name.c_str()));
    if (!section) {
        return report(detail::last_error(), "CreateFileMappingW");
    }
    const detail::unique_view view(::MapViewOfFile(section.get(), FILE_MAP_ALL_ACCESS, 0, 0, size));
    if (!view) {
        return report(detail::last_error(), "MapViewOfFile");
    }
    std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(view.get()))
        .store(protocol::lock_word::uninitialized_value, std::memory_order_release);
    auto ready = test::named_event::open(a[3]);
    ready.set();
    wait_to_be_killed();
}

const registrar r1{"robust-scribble", robust_scribble};
const registrar r2{"robust-hold", robust_hold};
const registrar r3{"robust-wait", robust_wait};
const registrar r4{"robust-create-stall", robust_create_stall};
const registrar r5{"compat-create-stall", compat_create_stall};

} // namespace
} // namespace winmmf::child
