// The process-based variant of the native lock tests: fork()ed children share one
// MAP_SHARED anonymous mapping - a lock header followed by the protected data, as in a named
// section - and mix readers and writers on it. The robust variant also SIGKILLs children
// while they hold the lock (a writer mid-copy, a reader), and the survivors recover through
// the real /proc liveness oracle. Runs in both sanitizer presets: ThreadSanitizer cannot see
// races between processes, but it does check each process's own use of the atomics, and the
// invariants below fail in any build if exclusion breaks.
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/robust_word.hpp>

#include <catch2/catch_test_macros.hpp>

#include "native_env.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace winmmf;
using namespace std::chrono_literals;
namespace rw = winmmf::protocol::robust_word;

namespace {

constexpr int children = 8;
constexpr std::uint64_t ops_per_child = 10000;
constexpr std::size_t pattern_words = 32;
constexpr std::uint64_t permille[children] = {800, 800, 300, 300, 50, 50, 50, 50};

constexpr bool is_write(std::uint64_t i, std::uint64_t k, std::uint64_t p)
{
    return (i * 2654435761u + k * 40503u) % 1000 < p;
}
constexpr std::uint64_t pattern_word(std::uint64_t total, std::size_t j) { return total * 0x100000001B3ull + j; }

// What follows the lock header in the shared mapping.
struct shared_data {
    std::uint64_t total;
    std::uint64_t writes[children];
    std::uint64_t pattern[pattern_words];
    std::int32_t writers_inside; // touched only through atomic_ref
    std::int32_t readers_inside;

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
};

// One MAP_SHARED anonymous mapping: the lock header at offset 0, the data after it.
class shared_region {
public:
    // The data starts at the next 64-byte boundary: shared_data is read as a struct here (a
    // real mapping's data after the 4-byte WinMMF word is only 4-aligned; callers memcpy).
    explicit shared_region(std::size_t header_size) : header_size_((header_size + 63) / 64 * 64)
    {
        size_ = header_size_ + sizeof(shared_data);
        base_ = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        REQUIRE(base_ != MAP_FAILED);
        std::memset(base_, 0, size_); // fresh, like a new section
        for (std::size_t j = 0; j < pattern_words; ++j) {
            data().pattern[j] = pattern_word(0, j);
        }
    }
    ~shared_region() { ::munmap(base_, size_); }
    shared_region(const shared_region&) = delete;
    shared_region& operator=(const shared_region&) = delete;

    std::byte* header() const { return static_cast<std::byte*>(base_); }
    shared_data& data() const { return *reinterpret_cast<shared_data*>(header() + header_size_); }

private:
    void* base_ = nullptr;
    std::size_t size_ = 0;
    std::size_t header_size_ = 0;
};

// Exit codes of a child.
constexpr int child_ok = 0;
constexpr int child_lock_failed = 3;
constexpr int child_torn = 4;
constexpr int child_overlap = 5;

// Runs `body` in `children` forked processes and returns their wait statuses.
template <class Body>
std::vector<int> run_children(Body body)
{
    std::vector<pid_t> pids;
    for (int k = 0; k < children; ++k) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            // The child never returns into Catch2.
            ::_exit(body(k));
        }
        pids.push_back(pid);
    }
    std::vector<int> statuses;
    for (const pid_t pid : pids) {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        statuses.push_back(status);
    }
    return statuses;
}

template <class Lock, class Unlock>
int child_work(int k, shared_data& d, Lock lock, Unlock unlock, std::uint64_t die_at = ~std::uint64_t{0},
               bool die_writing = true)
{
    std::atomic_ref<std::int32_t> writers(d.writers_inside);
    std::atomic_ref<std::int32_t> readers(d.readers_inside);
    for (std::uint64_t i = 0; i < ops_per_child; ++i) {
        const bool dying = i == die_at;
        const bool exclusive = dying ? die_writing : is_write(i, static_cast<std::uint64_t>(k), permille[k]);
        bool owner_died = false;
        if (!lock(exclusive, owner_died)) {
            return child_lock_failed;
        }
        if (exclusive) {
            if (writers.fetch_add(1) != 0 || readers.load() != 0) {
                return child_overlap;
            }
            if (owner_died) {
                for (std::size_t j = 0; j < pattern_words; ++j) {
                    d.pattern[j] = pattern_word(d.total, j); // repair
                }
            } else if (!d.whole()) {
                return child_torn;
            }
            ++d.total;
            ++d.writes[k];
            const std::size_t words = dying ? pattern_words / 2 : pattern_words;
            for (std::size_t j = 0; j < words; ++j) {
                d.pattern[j] = pattern_word(d.total, j);
            }
            if (dying) {
                writers.fetch_sub(1); // only so the survivors' overlap check stays meaningful
                ::raise(SIGKILL);     // mid-copy, holding the lock
            }
            writers.fetch_sub(1);
        } else {
            readers.fetch_add(1);
            if (writers.load() != 0) {
                return child_overlap;
            }
            if (!owner_died && !d.whole()) {
                return child_torn;
            }
            readers.fetch_sub(1);
            if (dying) {
                ::raise(SIGKILL); // holding a shared lock
            }
        }
        if (!unlock(exclusive)) {
            return child_lock_failed;
        }
    }
    return child_ok;
}

std::uint64_t writes_of(int k, std::uint64_t ops)
{
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < ops; ++i) {
        if (is_write(i, static_cast<std::uint64_t>(k), permille[k])) {
            ++n;
        }
    }
    return n;
}

} // namespace

TEST_CASE("forked processes share the WinMMF lock word through a MAP_SHARED mapping", "[native][fork]")
{
    shared_region region(sizeof(protocol::lock_word::word_type));
    auto* word = reinterpret_cast<protocol::lock_word::word_type*>(region.header());
    REQUIRE(protocol::lock_word::initialize(std::atomic_ref<protocol::lock_word::word_type>(*word)) == errc{});
    const auto statuses = run_children([&](int k) {
        const auto mode = acquire_mode::wait_for(60s);
        const std::atomic_ref<protocol::lock_word::word_type> ref(*word);
        return child_work(
            k, region.data(),
            [&](bool exclusive, bool&) {
                return detail::acquire_with(mode, [&] {
                           return exclusive ? protocol::lock_word::try_lock_write(ref) : protocol::lock_word::try_lock_read(ref);
                       }) == errc{};
            },
            [&](bool exclusive) {
                return (exclusive ? protocol::lock_word::unlock_write(ref) : protocol::lock_word::unlock_read(ref)) == errc{};
            });
    });
    std::uint64_t total = 0;
    for (int k = 0; k < children; ++k) {
        CAPTURE(k);
        CHECK(WIFEXITED(statuses[static_cast<std::size_t>(k)]));
        CHECK(WEXITSTATUS(statuses[static_cast<std::size_t>(k)]) == child_ok);
        CHECK(region.data().writes[k] == writes_of(k, ops_per_child));
        total += writes_of(k, ops_per_child);
    }
    CHECK(region.data().total == total);
    CHECK(region.data().whole());
    CHECK(std::atomic_ref<protocol::lock_word::word_type>(*word).load() == 0);
}

// One forked child's share of the robust-lock work. `env_for(n)` makes the environment of the
// n-th lock call, and of the unlock that follows it, so a test can stage a death at any step.
template <class EnvFor>
int robust_child_work(int k, shared_data& d, rw::header& header, EnvFor env_for,
                      std::uint64_t die_at = ~std::uint64_t{0}, bool die_writing = true)
{
    const rw::identity self = native::current_identity();
    std::uint16_t slot = rw::no_slot;
    std::uint64_t calls = 0;
    return child_work(
        k, d,
        [&](bool exclusive, bool& owner_died) {
            auto env = env_for(calls++);
            const auto mode = acquire_mode::wait_for(60s);
            const auto r = exclusive ? rw::lock_exclusive(header, self, mode, 20ms, env)
                                     : rw::lock_shared(header, self, static_cast<std::size_t>(k) * 15, mode, 20ms, env);
            slot = r.slot;
            owner_died = r.owner_died;
            return r.error == errc{};
        },
        [&](bool exclusive) {
            auto env = env_for(calls - 1);
            return (exclusive ? rw::unlock_exclusive(header, self) : rw::unlock_shared(header, self, slot, env)) ==
                   errc{};
        },
        die_at, die_writing);
}

TEST_CASE("forked processes share the robust lock; some are SIGKILLed holding it", "[native][fork][robust]")
{
    shared_region region(sizeof(rw::header));
    auto& header = *reinterpret_cast<rw::header*>(region.header());
    native::environment init_env;
    REQUIRE(rw::initialize(header, native::current_identity(), init_env) == errc{});
    // Child 0 dies writing, child 4 dies reading, each a third of the way through.
    const auto die_at = [](int k) { return k == 0 || k == 4 ? ops_per_child / 3 : ~std::uint64_t{0}; };
    const auto statuses = run_children([&](int k) {
        // The real /proc oracle for every call.
        return robust_child_work(k, region.data(), header, [](std::uint64_t) { return native::environment{}; },
                                 die_at(k), k == 0);
    });
    std::uint64_t total = 0;
    for (int k = 0; k < children; ++k) {
        CAPTURE(k);
        const int status = statuses[static_cast<std::size_t>(k)];
        if (k == 0 || k == 4) {
            CHECK(WIFSIGNALED(status));
            CHECK(WTERMSIG(status) == SIGKILL);
            std::uint64_t before_death = writes_of(k, ops_per_child / 3);
            if (k == 0) {
                ++before_death; // the fatal write was counted before the kill
            }
            CHECK(region.data().writes[k] == before_death);
            total += before_death;
        } else {
            CHECK(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == child_ok);
            CHECK(region.data().writes[k] == writes_of(k, ops_per_child));
            total += writes_of(k, ops_per_child);
        }
    }
    CHECK(region.data().total == total);
    // Whatever the dead left is cleared by the next acquirer; each dead holder exactly once.
    native::environment env;
    const auto last = rw::lock_exclusive(header, native::current_identity(), acquire_mode::wait_for(10s), 20ms, env);
    REQUIRE(last.error == errc{});
    const auto state = rw::inspect(header);
    CHECK(state.recoveries == 2);
    CHECK(state.readers == 0);
    if (!last.owner_died) {
        CHECK(region.data().whole());
    }
    CHECK(rw::unlock_exclusive(header, native::current_identity()) == errc{});
}

namespace {

// For the next test. A child that is about to die at a step records what it leaves behind
// (set in each child after fork; last_words must be a plain function).
struct death_note {
    std::int32_t step;    // the step it died at, or -1
    std::int32_t records; // holder records it leaves: its writer claim, its reader slot
};
rw::header* dying_header = nullptr;
rw::identity dying_self{};
death_note* dying_note = nullptr;

void last_words(rw::step s)
{
    const bool reader_step = s == rw::step::reader_claimed || s == rw::step::reader_published ||
                             s == rw::step::reader_leaving;
    const bool claims_writer =
        (std::atomic_ref<rw::word_type>(dying_header->writer).load() & rw::identity_mask) == rw::pack(dying_self);
    dying_note->step = static_cast<std::int32_t>(s);
    dying_note->records = (reader_step ? 1 : 0) + (claims_writer ? 1 : 0);
}

} // namespace

TEST_CASE("forked processes SIGKILLed at each step of the protocol: the survivors recover every one",
          "[native][fork][robust]")
{
    shared_region region(sizeof(rw::header));
    auto& header = *reinterpret_cast<rw::header*>(region.header());
    native::environment init_env;
    REQUIRE(rw::initialize(header, native::current_identity(), init_env) == errc{});
    void* notes_memory = ::mmap(nullptr, sizeof(death_note) * children, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(notes_memory != MAP_FAILED);
    auto* notes = static_cast<death_note*>(notes_memory);
    for (int k = 0; k < children; ++k) {
        notes[k] = {-1, 0};
    }
    // Write-heavy children die at the writer's steps, balanced ones at the reader's, read-heavy
    // ones while clearing someone else's slot - if they happen to be the one that clears it
    // (whoever waits and checks first does). Child 7 lives. The first five are armed from
    // different ops on; the two recoverers from the start, so they take the first chance.
    constexpr rw::step death_step[children - 1] = {rw::step::writer_claimed,  rw::step::writer_waiting,
                                                   rw::step::reader_published, rw::step::reader_claimed,
                                                   rw::step::reader_leaving,  rw::step::reclaim_started,
                                                   rw::step::reclaim_unpublished};
    const auto armed_from = [](int k) { return k < 5 ? ops_per_child / 16 * static_cast<std::uint64_t>(k + 1) : 0; };
    const auto statuses = run_children([&](int k) {
        const rw::identity self = native::current_identity();
        dying_header = &header;
        dying_self = self;
        dying_note = &notes[k];
        const auto env_for = [&](std::uint64_t call) {
            native::environment env; // the real /proc oracle
            if (k < children - 1 && call >= armed_from(k)) {
                env.die_at(death_step[k], &last_words);
            }
            return env;
        };
        return robust_child_work(k, region.data(), header, env_for);
    });
    std::uint64_t total = 0;
    std::int32_t records = 0;
    int deaths = 0;
    for (int k = 0; k < children; ++k) {
        CAPTURE(k);
        const int status = statuses[static_cast<std::size_t>(k)];
        if (WIFSIGNALED(status)) {
            CHECK(WTERMSIG(status) == SIGKILL);
            REQUIRE(k < children - 1);
            CHECK(notes[k].step == static_cast<std::int32_t>(death_step[k]));
            CHECK(region.data().writes[k] <= writes_of(k, ops_per_child));
            records += notes[k].records;
            ++deaths;
            std::printf("fork test: child %d died at step %d, leaving %d holder record(s)\n", k,
                        static_cast<int>(notes[k].step), static_cast<int>(notes[k].records));
        } else {
            // Its step never came (a recovery that someone else did first): it simply finished.
            CHECK(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == child_ok);
            CHECK(notes[k].step == -1);
            CHECK(region.data().writes[k] == writes_of(k, ops_per_child));
        }
        total += region.data().writes[k];
    }
    std::printf("fork test: %d of %d children died at their step, leaving %d holder records\n", deaths,
                children - 1, static_cast<int>(records));
    CHECK(deaths >= 4); // every write lock is claimed, every read lock and unlock passes its steps
    CHECK(region.data().total == total);
    // Slots whose bit was never set (died arriving or leaving) block no writer, so nobody had to
    // clear them yet; one scan clears what is left. Then every record was cleared exactly once.
    native::environment env;
    CHECK(rw::detail::recover_dead(header, rw::pack(native::current_identity()), env) != rw::detail::scan_result::corrupt);
    const auto last = rw::lock_exclusive(header, native::current_identity(), acquire_mode::wait_for(10s), 20ms, env);
    REQUIRE(last.error == errc{});
    const auto state = rw::inspect(header);
    CHECK(state.readers == 0);
    CHECK(state.occupied[0] == 0);
    CHECK(state.occupied[1] == 0);
    CHECK_FALSE(state.corrupt);
    CHECK(state.recoveries == static_cast<rw::word_type>(records));
    if (!last.owner_died) {
        CHECK(region.data().whole());
    }
    CHECK(rw::unlock_exclusive(header, native::current_identity()) == errc{});
    ::munmap(notes_memory, sizeof(death_note) * children);
}
