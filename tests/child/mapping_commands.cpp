// Child commands for the core multi-process tests: content both ways, shared readers, an
// exclusive writer, a read-only opener, and the contended counter.
#include "child.hpp"

#include <winmmf/winmmf.hpp>

#include <test_support.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace winmmf::child {
namespace {

using namespace std::chrono_literals;

// expect <scope> <name> <offset> <hex> [read-only]
int expect(const args& a)
{
    if (a.size() < 4) {
        return exit_usage;
    }
    open_options options;
    if (a.size() > 4 && a[4] == "read-only") {
        options.access = access_mode::read_only;
    }
    std::error_code ec;
    auto m = memory_mapped_file::open(test::parse_name(a[0], a[1]), options, ec);
    if (ec) {
        return report(ec, "open");
    }
    const auto expected = test::from_hex(a[3]);
    std::vector<std::byte> actual(expected.size());
    const std::size_t offset = std::stoul(a[2]);
    if (m.writable()) {
        m.read(offset, actual, ec);
        if (ec) {
            return report(ec, "read");
        }
    } else {
        const auto bytes = m.unsynchronized_bytes();
        if (offset + actual.size() > bytes.size()) {
            return report(make_error_code(errc::out_of_bounds), "read");
        }
        std::memcpy(actual.data(), bytes.data() + offset, actual.size());
    }
    if (actual != expected) {
        std::fprintf(stderr, "expect: got %s\n", test::to_hex(actual.data(), actual.size()).c_str());
        return exit_mismatch;
    }
    return exit_ok;
}

// write <scope> <name> <offset> <hex>
int write(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    auto m = memory_mapped_file::open(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "open");
    }
    m.write(std::stoul(a[2]), test::from_hex(a[3]), ec);
    return report(ec, "write");
}

// create-hold <scope> <name> <size> <hex> <ready-event> <release-event>
// Creates the mapping, writes, and keeps it alive until the parent has looked at it.
int create_hold(const args& a)
{
    if (a.size() != 6) {
        return exit_usage;
    }
    std::error_code ec;
    auto m = memory_mapped_file::create(test::parse_name(a[0], a[1]), std::stoul(a[2]), ec);
    if (ec) {
        return report(ec, "create");
    }
    m.write(0, test::from_hex(a[3]), ec);
    if (ec) {
        return report(ec, "write");
    }
    auto ready = test::named_event::open(a[4]);
    auto release = test::named_event::open(a[5]);
    ready.set();
    return release.wait() ? exit_ok : exit_other_error;
}

// hold-read|hold-write <scope> <name> <ready-event> <release-event>
template <bool Exclusive>
int hold(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    auto m = memory_mapped_file::open(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "open");
    }
    auto ready = test::named_event::open(a[2]);
    auto release = test::named_event::open(a[3]);
    if constexpr (Exclusive) {
        auto guard = m.lock_write(acquire_mode::wait_for(30s), ec);
        if (ec) {
            return report(ec, "lock_write");
        }
        ready.set();
        if (!release.wait()) {
            return exit_other_error;
        }
        guard.unlock(ec);
    } else {
        auto guard = m.lock_read(acquire_mode::wait_for(30s), ec);
        if (ec) {
            return report(ec, "lock_read");
        }
        ready.set();
        if (!release.wait()) {
            return exit_other_error;
        }
        guard.unlock(ec);
    }
    return report(ec, "unlock");
}

// try-read|try-write <scope> <name>: one attempt; the exit code says what the word said.
template <bool Exclusive>
int try_lock(const args& a)
{
    if (a.size() != 2) {
        return exit_usage;
    }
    std::error_code ec;
    auto m = memory_mapped_file::open(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "open");
    }
    if constexpr (Exclusive) {
        auto guard = m.try_lock_write(ec);
        return ec ? report(ec, "try_lock_write") : exit_ok;
    } else {
        auto guard = m.try_lock_read(ec);
        return ec ? report(ec, "try_lock_read") : exit_ok;
    }
}

// readonly-write <scope> <name> <offset> <hex>: opens read-only and tries to write; the exit
// code is the error the library gave (the parent expects errc::read_only) - never an access
// violation.
int readonly_write(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    auto m = memory_mapped_file::open(test::parse_name(a[0], a[1]),
                                      open_options{.access = access_mode::read_only}, ec);
    if (ec) {
        return report(ec, "open");
    }
    std::error_code lock_ec;
    auto guard = m.try_lock_write(lock_ec);
    if (lock_ec != errc::read_only || guard) {
        std::fprintf(stderr, "readonly-write: lock_write gave %s\n", lock_ec.message().c_str());
        return exit_mismatch;
    }
    m.write(std::stoul(a[2]), test::from_hex(a[3]), ec);
    return ec ? report(ec, "write") : exit_ok;
}

// increment <scope> <name> <count> <start-event>: the contention test. Each iteration takes
// the write lock, bumps a 64-bit counter at offset 0, and releases.
int increment(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    auto m = memory_mapped_file::open(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "open");
    }
    const unsigned long count = std::stoul(a[2]);
    auto start = test::named_event::open(a[3]);
    if (!start.wait()) {
        return exit_other_error;
    }
    for (unsigned long i = 0; i < count; ++i) {
        auto guard = m.lock_write(acquire_mode::wait_for(60s), ec);
        if (ec) {
            return report(ec, "lock_write");
        }
        std::uint64_t value = 0;
        std::memcpy(&value, guard.data(), sizeof value);
        ++value;
        std::memcpy(guard.data(), &value, sizeof value);
    }
    return exit_ok;
}

const registrar r1{"expect", expect};
const registrar r2{"write", write};
const registrar r3{"create-hold", create_hold};
const registrar r4{"hold-read", hold<false>};
const registrar r5{"hold-write", hold<true>};
const registrar r6{"try-read", try_lock<false>};
const registrar r7{"try-write", try_lock<true>};
const registrar r8{"readonly-write", readonly_write};
const registrar r9{"increment", increment};

} // namespace
} // namespace winmmf::child
