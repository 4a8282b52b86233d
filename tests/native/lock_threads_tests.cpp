// Many threads hammering one lock word, natively, under ThreadSanitizer and under
// AddressSanitizer + UBSan (the native-tsan / native-asan presets). The data the lock
// protects is plain memory: if the lock let a writer overlap anyone, TSan reports the race,
// and the invariant checks (a writer is alone, readers see a whole pattern, counters come out
// exact) fail in any build.
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/robust_word.hpp>

#include <catch2/catch_test_macros.hpp>

#include "native_env.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
namespace rw = winmmf::protocol::robust_word;

namespace {

constexpr int thread_count = 8;
constexpr std::uint64_t ops_per_thread = 20000;
constexpr std::size_t pattern_words = 32;
constexpr std::uint64_t permille[thread_count] = {800, 800, 300, 300, 50, 50, 50, 50};

constexpr bool is_write(std::uint64_t i, std::uint64_t t, std::uint64_t p)
{
    return (i * 2654435761u + t * 40503u) % 1000 < p;
}
constexpr std::uint64_t pattern_word(std::uint64_t total, std::size_t j) { return total * 0x100000001B3ull + j; }

std::uint64_t expected_writes(int t)
{
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < ops_per_thread; ++i) {
        if (is_write(i, static_cast<std::uint64_t>(t), permille[t])) {
            ++n;
        }
    }
    return n;
}

// What the lock protects: plain, non-atomic memory.
struct protected_data {
    std::uint64_t total = 0;
    std::array<std::uint64_t, thread_count> writes{};
    std::array<std::uint64_t, pattern_words> pattern{};

    protected_data()
    {
        for (std::size_t j = 0; j < pattern_words; ++j) {
            pattern[j] = pattern_word(0, j);
        }
    }
    bool whole() const
    {
        std::uint64_t sum = 0;
        for (const std::uint64_t w : writes) {
            sum += w;
        }
        if (sum != total) {
            return false;
        }
        for (std::size_t j = 0; j < pattern_words; ++j) {
            if (pattern[j] != pattern_word(total, j)) {
                return false;
            }
        }
        return true;
    }
    void write(int t)
    {
        ++total;
        ++writes[static_cast<std::size_t>(t)];
        for (std::size_t j = 0; j < pattern_words; ++j) {
            pattern[j] = pattern_word(total, j);
        }
    }
};

// Who is inside, checked by every thread on entry: exclusion itself, independent of the data.
struct occupancy {
    std::atomic<int> writers{0};
    std::atomic<int> readers{0};
    std::atomic<int> violations{0};

    void enter_write()
    {
        if (writers.fetch_add(1) != 0 || readers.load() != 0) {
            violations.fetch_add(1);
        }
    }
    void leave_write() { writers.fetch_sub(1); }
    void enter_read()
    {
        readers.fetch_add(1);
        if (writers.load() != 0) {
            violations.fetch_add(1);
        }
    }
    void leave_read() { readers.fetch_sub(1); }
};

// Runs the mixed workload; `lock`/`unlock` are the lock under test for thread t.
template <class Lock, class Unlock>
void hammer(protected_data& data, occupancy& inside, std::atomic<int>& failures, Lock lock, Unlock unlock)
{
    std::vector<std::thread> threads;
    std::atomic<bool> go{false};
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load()) {
                std::this_thread::yield();
            }
            for (std::uint64_t i = 0; i < ops_per_thread; ++i) {
                const bool exclusive = is_write(i, static_cast<std::uint64_t>(t), permille[t]);
                if (!lock(t, exclusive)) {
                    failures.fetch_add(1);
                    return;
                }
                if (exclusive) {
                    inside.enter_write();
                    if (!data.whole()) {
                        failures.fetch_add(1);
                    }
                    data.write(t);
                    inside.leave_write();
                } else {
                    inside.enter_read();
                    if (!data.whole()) {
                        failures.fetch_add(1);
                    }
                    inside.leave_read();
                }
                if (!unlock(t, exclusive)) {
                    failures.fetch_add(1);
                    return;
                }
            }
        });
    }
    go.store(true);
    for (auto& th : threads) {
        th.join();
    }
}

void check_counts(const protected_data& data)
{
    std::uint64_t total = 0;
    for (int t = 0; t < thread_count; ++t) {
        CAPTURE(t);
        CHECK(data.writes[static_cast<std::size_t>(t)] == expected_writes(t));
        total += expected_writes(t);
    }
    CHECK(data.total == total);
    CHECK(data.whole());
}

} // namespace

TEST_CASE("threads hammering the WinMMF lock word: exclusion holds, counters are exact", "[native][threads]")
{
    alignas(4) protocol::lock_word::word_type word = 0;
    REQUIRE(protocol::lock_word::initialize(std::atomic_ref<protocol::lock_word::word_type>(word)) == errc{});
    protected_data data;
    occupancy inside;
    std::atomic<int> failures{0};
    const auto mode = acquire_mode::wait_for(60s);
    hammer(
        data, inside, failures,
        [&](int, bool exclusive) {
            const std::atomic_ref<protocol::lock_word::word_type> ref(word);
            return detail::acquire_with(mode, [&] {
                       return exclusive ? protocol::lock_word::try_lock_write(ref) : protocol::lock_word::try_lock_read(ref);
                   }) == errc{};
        },
        [&](int, bool exclusive) {
            const std::atomic_ref<protocol::lock_word::word_type> ref(word);
            return (exclusive ? protocol::lock_word::unlock_write(ref) : protocol::lock_word::unlock_read(ref)) == errc{};
        });
    CHECK(failures.load() == 0);
    CHECK(inside.violations.load() == 0);
    CHECK(std::atomic_ref<protocol::lock_word::word_type>(word).load() == 0);
    check_counts(data);
}

namespace {

void hammer_robust(bool one_process)
{
    auto header = std::make_unique<rw::header>();
    std::memset(header.get(), 0, sizeof(rw::header));
    native::environment init_env(&native::always_alive);
    REQUIRE(rw::initialize(*header, {1, 1}, init_env) == errc{});
    protected_data data;
    occupancy inside;
    std::atomic<int> failures{0};
    std::array<std::uint16_t, thread_count> slots{};
    // As threads of one process (the production case: one identity), or as if each thread
    // were a process of its own.
    const auto identity = [one_process](int t) {
        return one_process ? rw::identity{4242, 7} : rw::identity{static_cast<std::uint32_t>(1000 + t), 5};
    };
    const auto mode = acquire_mode::wait_for(60s);
    hammer(
        data, inside, failures,
        [&](int t, bool exclusive) {
            native::environment env(&native::always_alive);
            const auto r = exclusive ? rw::lock_exclusive(*header, identity(t), mode, 100ms, env)
                                     : rw::lock_shared(*header, identity(t), static_cast<std::size_t>(t) * 15, mode,
                                                       100ms, env);
            slots[static_cast<std::size_t>(t)] = r.slot;
            return r.error == errc{} && !r.owner_died;
        },
        [&](int t, bool exclusive) {
            return (exclusive ? rw::unlock_exclusive(*header, identity(t))
                              : rw::unlock_shared(*header, identity(t), slots[static_cast<std::size_t>(t)])) == errc{};
        });
    CHECK(failures.load() == 0);
    CHECK(inside.violations.load() == 0);
    const auto state = rw::inspect(*header);
    CHECK(state.writer == 0);
    CHECK(state.readers == 0);
    CHECK(state.recoveries == 0);
    check_counts(data);
}

} // namespace

TEST_CASE("threads hammering the robust lock as separate processes", "[native][threads][robust]")
{
    hammer_robust(false);
}

TEST_CASE("threads hammering the robust lock as threads of one process", "[native][threads][robust]")
{
    hammer_robust(true);
}

namespace {

// The liveness oracle of the next test: "process" 1000 + t is dead once its flag is set.
std::array<std::atomic<bool>, thread_count> dead_flags{};
bool thread_alive(rw::identity id)
{
    return id.pid < 1000 || id.pid >= 1000 + thread_count || !dead_flags[id.pid - 1000].load();
}

} // namespace

TEST_CASE("threads that die holding the robust lock are cleared exactly once, and survivors are told",
          "[native][threads][robust]")
{
    for (auto& f : dead_flags) {
        f.store(false);
    }
    auto header = std::make_unique<rw::header>();
    std::memset(header.get(), 0, sizeof(rw::header));
    native::environment init_env(&thread_alive);
    REQUIRE(rw::initialize(*header, {1, 1}, init_env) == errc{});
    protected_data data;
    occupancy inside;
    std::atomic<int> failures{0};
    std::atomic<int> told{0};
    std::atomic<int> deaths{0};
    std::atomic<bool> go{false};
    constexpr std::uint64_t ops = ops_per_thread / 4;
    // Threads 0-2 die as writers half-way through the pattern, threads 3-4 as readers, at
    // different points of their runs; the others live to the end.
    const auto dies_at = [](int t) -> std::uint64_t { return t < 5 ? ops / 6 * static_cast<std::uint64_t>(t + 1) : ops; };

    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            const rw::identity self{static_cast<std::uint32_t>(1000 + t), 3};
            native::environment env(&thread_alive);
            while (!go.load()) {
                std::this_thread::yield();
            }
            for (std::uint64_t i = 0; i < ops; ++i) {
                const bool dying = i == dies_at(t);
                const bool exclusive = dying ? t < 3 : is_write(i, static_cast<std::uint64_t>(t), permille[t]);
                const auto r = exclusive ? rw::lock_exclusive(*header, self, acquire_mode::wait_for(60s), 2ms, env)
                                         : rw::lock_shared(*header, self, 0, acquire_mode::wait_for(60s), 2ms, env);
                if (r.error != errc{}) {
                    failures.fetch_add(1);
                    return;
                }
                if (r.owner_died) {
                    told.fetch_add(1);
                }
                if (exclusive) {
                    inside.enter_write();
                    if (!r.owner_died && !data.whole()) {
                        failures.fetch_add(1);
                    }
                    if (r.owner_died) {
                        // Repair: make the pattern whole again for the current total.
                        for (std::size_t j = 0; j < pattern_words; ++j) {
                            data.pattern[j] = pattern_word(data.total, j);
                        }
                    }
                    if (dying) {
                        // Die mid-copy: counted, half the pattern written, never unlocked.
                        ++data.total;
                        ++data.writes[static_cast<std::size_t>(t)];
                        for (std::size_t j = 0; j < pattern_words / 2; ++j) {
                            data.pattern[j] = pattern_word(data.total, j);
                        }
                        inside.leave_write();
                        deaths.fetch_add(1);
                        dead_flags[static_cast<std::size_t>(t)].store(true);
                        return;
                    }
                    data.write(t);
                    inside.leave_write();
                    if (rw::unlock_exclusive(*header, self) != errc{}) {
                        failures.fetch_add(1);
                    }
                } else {
                    inside.enter_read();
                    if (!r.owner_died && !data.whole()) {
                        failures.fetch_add(1);
                    }
                    inside.leave_read();
                    if (dying) {
                        deaths.fetch_add(1);
                        dead_flags[static_cast<std::size_t>(t)].store(true);
                        return;
                    }
                    if (rw::unlock_shared(*header, self, r.slot) != errc{}) {
                        failures.fetch_add(1);
                    }
                }
            }
        });
    }
    go.store(true);
    for (auto& th : threads) {
        th.join();
    }
    CHECK(failures.load() == 0);
    CHECK(inside.violations.load() == 0);
    CHECK(deaths.load() == 5);
    // The last dead holders may not have been waited for by anyone; one final acquisition
    // clears whatever is left, then every holder ever killed has been cleared exactly once.
    native::environment env(&thread_alive);
    const auto last = rw::lock_exclusive(*header, {999, 1}, acquire_mode::wait_for(10s), 2ms, env);
    REQUIRE(last.error == errc{});
    // What the protocol guarantees: the first acquisition after each writer's death is told.
    // Those acquisitions are distinct (the next death needs an acquisition after the previous
    // one), but the one after the last death may be this final lock, when a writer's death was
    // the last acquisition of the run and nobody was left to be told.
    CHECK(told.load() + (last.owner_died ? 1 : 0) >= 3);
    const auto state = rw::inspect(*header);
    CHECK(state.recoveries == 5);
    CHECK(state.readers == 0);
    if (!last.owner_died) {
        CHECK(data.whole());
    }
    std::uint64_t sum = 0;
    for (const std::uint64_t w : data.writes) {
        sum += w;
    }
    CHECK(sum == data.total);
    CHECK(rw::unlock_exclusive(*header, {999, 1}) == errc{});
}
