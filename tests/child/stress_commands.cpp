// The stress worker: one process of many that mix shared and exclusive locks on one mapping.
//
// User data layout (tests/win/stress_tests.cpp builds and checks the same):
//   0            u64 total number of writes
//   8 + 8 k      u64 writes done by process k (k < 16)
//   256          64 u64 pattern words: word j == pattern_word(total, j)
// A writer checks the whole state, bumps both counters and rewrites every pattern word, one
// word at a time; a reader checks the whole state. With a working lock every check passes;
// a reader that overlaps a writer sees a pattern from two totals (torn) or counters that do
// not add up.
#include "child.hpp"

#include <winmmf/winmmf.hpp>

#include <test_support.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>

namespace winmmf::child {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t max_processes = 16;
constexpr std::size_t pattern_offset = 256;
constexpr std::size_t pattern_words = 64;

constexpr std::uint64_t pattern_word(std::uint64_t total, std::size_t j)
{
    return total * 0x100000001B3ull + j;
}

// Whether operation i of process k writes; the parent computes the same to know the counts.
constexpr bool is_write(std::uint64_t i, std::uint64_t k, std::uint64_t permille)
{
    return (i * 2654435761u + k * 40503u) % 1000 < permille;
}

std::uint64_t load(std::span<const std::byte> bytes, std::size_t offset)
{
    std::uint64_t v = 0;
    std::memcpy(&v, bytes.data() + offset, sizeof v);
    return v;
}

void store(std::span<std::byte> bytes, std::size_t offset, std::uint64_t v)
{
    std::memcpy(bytes.data() + offset, &v, sizeof v);
}

// The whole state is consistent: every pattern word matches the total, and the per-process
// counts add up to it.
bool consistent(std::span<const std::byte> bytes, std::uint64_t& total)
{
    total = load(bytes, 0);
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < max_processes; ++k) {
        sum += load(bytes, 8 + 8 * k);
    }
    if (sum != total) {
        std::fprintf(stderr, "stress: counts add up to %llu, total is %llu\n",
                     static_cast<unsigned long long>(sum), static_cast<unsigned long long>(total));
        return false;
    }
    for (std::size_t j = 0; j < pattern_words; ++j) {
        if (load(bytes, pattern_offset + 8 * j) != pattern_word(total, j)) {
            std::fprintf(stderr, "stress: torn pattern at word %zu (total %llu)\n", j,
                         static_cast<unsigned long long>(total));
            return false;
        }
    }
    return true;
}

template <lock_policy Policy>
int run(const args& a)
{
    std::error_code ec;
    auto m = basic_memory_mapped_file<Policy>::open(test::parse_name(a[1], a[2]), ec);
    if (ec) {
        return report(ec, "open");
    }
    const std::uint64_t ops = std::stoull(a[3]);
    const std::uint64_t permille = std::stoull(a[4]);
    const std::size_t k = std::stoul(a[5]);
    if (k >= max_processes) {
        return exit_usage;
    }
    // A barrier: the parent sets "start" once every worker is here, so all of them really run
    // at the same time (starting a process under Wine takes far longer than 20,000 operations).
    auto ready = test::named_event::open(a[6] + "-ready-" + std::to_string(k));
    auto start = test::named_event::open(a[6]);
    ready.set();
    if (!start.wait()) {
        return exit_other_error;
    }
    const auto mode = acquire_mode::wait_for(60s);
    for (std::uint64_t i = 0; i < ops; ++i) {
        std::uint64_t total = 0;
        if (is_write(i, k, permille)) {
            auto guard = m.lock_write(mode, ec);
            if (!guard) {
                return report(ec, "lock_write");
            }
            if (guard.previous_owner_died() || !consistent(guard.bytes(), total)) {
                return exit_mismatch;
            }
            store(guard.bytes(), 0, total + 1);
            store(guard.bytes(), 8 + 8 * k, load(guard.bytes(), 8 + 8 * k) + 1);
            for (std::size_t j = 0; j < pattern_words; ++j) {
                store(guard.bytes(), pattern_offset + 8 * j, pattern_word(total + 1, j));
                if (j == pattern_words / 2 && i % 64 == 0) {
                    // Holders get preempted mid-copy; make it happen often, so that a lock
                    // that let anyone in now would be caught with a half-written pattern.
                    ::SwitchToThread();
                }
            }
            guard.unlock(ec);
            if (ec) {
                return report(ec, "unlock");
            }
        } else {
            auto guard = m.lock_read(mode, ec);
            if (!guard) {
                return report(ec, "lock_read");
            }
            if (guard.previous_owner_died() || !consistent(guard.bytes(), total)) {
                return exit_mismatch;
            }
            if (i % 64 == 1) {
                ::SwitchToThread(); // a reader preempted while it holds the lock
                if (!consistent(guard.bytes(), total)) {
                    return exit_mismatch;
                }
            }
            guard.unlock(ec);
            if (ec) {
                return report(ec, "unlock");
            }
        }
    }
    return exit_ok;
}

// stress <compatible|robust> <scope> <name> <ops> <write-permille> <index> <start-event>
// Sets <start-event>-ready-<index> when it is ready, then waits for <start-event>.
int stress(const args& a)
{
    if (a.size() != 7) {
        return exit_usage;
    }
    if (a[0] == "compatible") {
        return run<compatible_lock>(a);
    }
    if (a[0] == "robust") {
        return run<robust_lock>(a);
    }
    return exit_usage;
}

const registrar r1{"stress", stress};

} // namespace
} // namespace winmmf::child
