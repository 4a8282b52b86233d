// The robust lock's state machines with a scripted world: a fake clock that only moves when
// the code under test pauses, and a liveness oracle that says when each process dies. That
// makes the recovery bound a deterministic property - "cleared no later than death + bound" -
// instead of a timing measurement, and it runs the same way under Wine and natively.
#include <winmmf/robust_word.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
namespace rw = winmmf::robust_word;
using std::chrono::nanoseconds;

namespace {

constexpr rw::identity me{100, 0x1234};
constexpr rw::identity other{200, 0x2345};
constexpr rw::identity third{300, 0x3456};

// The scripted world.
struct fake_env {
    nanoseconds clock{0};
    nanoseconds step = 250us;      // the longest a single pause lasts
    nanoseconds oversleep{0};      // added to every pause that sleeps (a coarse timer tick)
    std::map<std::uint32_t, nanoseconds> death; // pid -> when it dies; alive before
    std::map<std::uint32_t, std::uint32_t> tag_now; // pid -> tag of the process that has it now
    std::vector<nanoseconds> checks;

    nanoseconds now() const { return clock; }
    bool alive(rw::identity id)
    {
        checks.push_back(clock);
        if (const auto t = tag_now.find(id.pid); t != tag_now.end() && t->second != id.tag) {
            return false; // the id belongs to another process now
        }
        const auto d = death.find(id.pid);
        return d == death.end() || clock < d->second;
    }
    void pause(nanoseconds remaining)
    {
        if (remaining < 0ns) {
            FAIL_CHECK("pause asked to sleep a negative time: " << remaining.count() << " ns");
        }
        clock += std::max(std::min(remaining, step), nanoseconds(1)) + oversleep;
    }
    void relax() { clock += 50ns; }
};

static_assert(rw::environment<fake_env>);

// A header as a mapping would hold it: 1024 bytes, page-aligned enough for the atomics.
struct shared_header {
    std::unique_ptr<rw::header> h = std::make_unique<rw::header>();
    shared_header() { std::memset(h.get(), 0, sizeof(rw::header)); }
    rw::header& operator*() { return *h; }
    rw::header* operator->() { return h.get(); }

    void make_ready()
    {
        h->marker = lock_word::robust_layout_marker;
        h->init = rw::ready_value;
    }
    std::vector<unsigned char> bytes() const
    {
        std::vector<unsigned char> out(sizeof(rw::header));
        std::memcpy(out.data(), h.get(), out.size());
        return out;
    }
};

constexpr rw::word_type held_by(rw::identity id) { return rw::pack(id) | rw::held_bit; }

} // namespace

TEST_CASE("identities pack into 62 bits and the tag separates reused process ids", "[robust]")
{
    STATIC_CHECK(rw::owner_of(rw::pack(me)) == me);
    STATIC_CHECK((rw::pack({0xFFFFFFFFu, 0xFFFFFFFFu}) & ~rw::identity_mask) == 0);
    STATIC_CHECK(rw::classify_writer(0) == rw::writer_state::free);
    STATIC_CHECK(rw::classify_writer(rw::dirty_bit) == rw::writer_state::free);
    STATIC_CHECK(rw::classify_writer(held_by(me) | rw::dirty_bit) == rw::writer_state::owned);
    STATIC_CHECK(rw::classify_writer(rw::held_bit) == rw::writer_state::corrupt);
    STATIC_CHECK(rw::classify_writer(std::uint64_t{5} << 32) == rw::writer_state::corrupt);
    STATIC_CHECK(rw::is_valid_slot(0));
    STATIC_CHECK(rw::is_valid_slot(rw::pack(me)));
    STATIC_CHECK_FALSE(rw::is_valid_slot(rw::pack(me) | rw::held_bit));
    STATIC_CHECK_FALSE(rw::is_valid_slot(std::uint64_t{7} << 32));
    STATIC_CHECK((rw::ready_value & ~rw::identity_mask) != 0); // never mistaken for an identity

    // Creation times a reused id would come with: a tick later, a timer tick later, much
    // later. Every one must give another tag (the mix is a bijection; 30 bits of it differ).
    const std::uint64_t base = 134'401'626'840'887'080ull; // a FILETIME seen under Wine
    std::map<std::uint32_t, std::uint64_t> seen;
    for (std::uint64_t step : {1ull, 10ull, 156'250ull, 10'000'000ull, 36'000'000'000ull}) {
        for (std::uint64_t i = 0; i < 2000; ++i) {
            const std::uint64_t t = base + i * step;
            const auto [it, fresh] = seen.emplace(rw::creation_tag(t), t);
            CHECK((fresh || it->second == t));
            CHECK(rw::creation_tag(t) <= rw::tag_mask);
        }
    }
}

TEST_CASE("the uncontended paths are one compare-exchange each and never ask about liveness", "[robust]")
{
    shared_header h;
    h.make_ready();
    fake_env env;
    const auto w = rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
    CHECK(w.error == errc{});
    CHECK_FALSE(w.owner_died);
    CHECK(h->writer == held_by(me));
    CHECK(rw::unlock_exclusive(*h, me) == errc{});
    CHECK(h->writer == 0);

    const auto r1 = rw::lock_shared(*h, me, 7, acquire_mode::try_once(), 100ms, env);
    const auto r2 = rw::lock_shared(*h, other, 7, acquire_mode::try_once(), 100ms, env);
    REQUIRE(r1.error == errc{});
    REQUIRE(r2.error == errc{});
    CHECK(r1.slot == 7);
    CHECK(r2.slot == 8); // the next free one
    CHECK(h->readers[7] == rw::pack(me));
    CHECK(h->readers[8] == rw::pack(other));
    CHECK(rw::unlock_shared(*h, me, r1.slot) == errc{});
    CHECK(rw::unlock_shared(*h, other, r2.slot) == errc{});
    CHECK(rw::inspect(*h).readers == 0);
    CHECK(env.checks.empty());
    CHECK(env.clock == 0ns); // nobody paused
}

TEST_CASE("readers share, a writer excludes, and a waiting writer keeps new readers out", "[robust]")
{
    shared_header h;
    h.make_ready();
    fake_env env;
    const auto r = rw::lock_shared(*h, other, 0, acquire_mode::try_once(), 100ms, env);
    REQUIRE(r.error == errc{});
    const auto before = h.bytes();
    const auto w = rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
    CHECK(w.error == errc::read_locked);
    CHECK(h.bytes() == before); // the refused try gave its claim back

    // A writer that waits claims the word (without held_bit: it has not touched the data)...
    rw::detail::writer_attempt waiting(*h, me);
    CHECK(waiting() == errc::read_locked);
    CHECK(h->writer == rw::pack(me));
    // ...so a new reader is refused while the old one is still in.
    const auto late = rw::lock_shared(*h, third, 5, acquire_mode::try_once(), 100ms, env);
    CHECK(late.error == errc::write_locked);
    CHECK(rw::inspect(*h).readers == 1);
    // Once the old reader leaves, the waiting writer's next attempt holds the lock.
    CHECK(rw::unlock_shared(*h, other, r.slot) == errc{});
    CHECK(waiting() == errc{});
    CHECK(h->writer == held_by(me));
    CHECK(rw::lock_shared(*h, third, 5, acquire_mode::try_once(), 100ms, env).error == errc::write_locked);
    CHECK(rw::unlock_exclusive(*h, me) == errc{});
}

TEST_CASE("a dead writer is cleared within the recovery bound, and the acquirer is told", "[robust]")
{
    const nanoseconds bound = GENERATE(nanoseconds(2ms), nanoseconds(10ms), nanoseconds(100ms), nanoseconds(1s));
    const nanoseconds death = GENERATE(nanoseconds(0), nanoseconds(1ms), nanoseconds(37ms), nanoseconds(345ms));
    const nanoseconds step = GENERATE(nanoseconds(1us), nanoseconds(250us), nanoseconds(20ms));
    CAPTURE(bound.count(), death.count(), step.count());

    shared_header h;
    h.make_ready();
    h->writer = held_by(other);
    fake_env env;
    env.step = step;
    env.death[other.pid] = death;
    const auto r = rw::lock_exclusive(*h, me, acquire_mode::wait_for(1h), bound, env);
    REQUIRE(r.error == errc{});
    CHECK(r.owner_died);
    CHECK(env.clock <= death + bound);
    CHECK(h->writer == (held_by(me) | rw::dirty_bit));
    CHECK(h->recoveries == 1);
    // Liveness was checked at the promised rate, not in a tight loop.
    CHECK(env.checks.size() <= static_cast<std::size_t>(env.clock / rw::check_interval(bound)) + 2);
    CHECK(rw::unlock_exclusive(*h, me) == errc{});
    CHECK(h->writer == 0); // the writer that was told has repaired; the data is clean again
}

TEST_CASE("a waiter that oversleeps by less than half the bound still meets it", "[robust]")
{
    // Sleep(1) on Windows wakes at the next timer tick (15.6 ms by default).
    const nanoseconds bound = 100ms;
    shared_header h;
    h.make_ready();
    h->writer = held_by(other);
    fake_env env;
    env.oversleep = 15600us;
    env.death[other.pid] = 50ms;
    const auto r = rw::lock_shared(*h, me, 0, acquire_mode::wait_for(10s), bound, env);
    REQUIRE(r.error == errc{});
    CHECK(r.owner_died);
    CHECK(env.clock <= 50ms + bound);
}

TEST_CASE("every mode recovers from a holder that was already dead", "[robust]")
{
    const acquire_mode mode = GENERATE(acquire_mode::try_once(), acquire_mode::wait_for(0ms),
                                       acquire_mode::wait_for(1s), acquire_mode::spin(1),
                                       acquire_mode::spin(1000), acquire_mode::spin_forever());
    shared_header h;
    h.make_ready();
    h->writer = held_by(other);
    fake_env env;
    env.death[other.pid] = 0ns;
    const auto r = rw::lock_exclusive(*h, me, mode, 100ms, env);
    REQUIRE(r.error == errc{});
    CHECK(r.owner_died);
    CHECK(env.clock <= 100ms);
}

TEST_CASE("a live holder is never robbed: the waiter times out and the word is unchanged", "[robust]")
{
    shared_header h;
    h.make_ready();
    h->writer = held_by(other);
    const auto before = h.bytes();
    fake_env env;
    CHECK(rw::lock_exclusive(*h, me, acquire_mode::wait_for(500ms), 100ms, env).error == errc::timeout);
    CHECK(rw::lock_shared(*h, me, 0, acquire_mode::spin(10000), 100ms, env).error == errc::max_tries_reached);
    CHECK(rw::lock_shared(*h, me, 0, acquire_mode::try_once(), 100ms, env).error == errc::write_locked);
    CHECK(h.bytes() == before);
    CHECK(env.checks.size() >= 10); // it did look, every 50 ms
}

TEST_CASE("dead readers are cleared without an owner_dead report", "[robust]")
{
    shared_header h;
    h.make_ready();
    fake_env env;
    REQUIRE(rw::lock_shared(*h, other, 3, acquire_mode::try_once(), 100ms, env).error == errc{});
    REQUIRE(rw::lock_shared(*h, third, 3, acquire_mode::try_once(), 100ms, env).error == errc{});
    env.death[other.pid] = 10ms;
    env.death[third.pid] = 70ms;
    const auto w = rw::lock_exclusive(*h, me, acquire_mode::wait_for(10s), 100ms, env);
    REQUIRE(w.error == errc{});
    CHECK_FALSE(w.owner_died); // readers cannot have changed the data
    CHECK(env.clock <= 70ms + 100ms);
    CHECK(h->recoveries == 2);
    CHECK(rw::inspect(*h).readers == 0);
}

TEST_CASE("a writer that dies while still waiting for readers leaves no owner_dead behind", "[robust]")
{
    shared_header h;
    h.make_ready();
    h->writer = rw::pack(other); // claimed, held_bit clear: it never had the data
    fake_env env;
    env.death[other.pid] = 0ns;
    const auto r = rw::lock_shared(*h, me, 0, acquire_mode::try_once(), 100ms, env);
    REQUIRE(r.error == errc{});
    CHECK_FALSE(r.owner_died);
    CHECK(h->writer == 0);
}

TEST_CASE("owner_dead is reported to every acquirer until a writer releases the lock", "[robust]")
{
    shared_header h;
    h.make_ready();
    h->writer = held_by(other);
    fake_env env;
    env.death[other.pid] = 0ns;
    const auto r1 = rw::lock_shared(*h, me, 0, acquire_mode::try_once(), 100ms, env);
    const auto r2 = rw::lock_shared(*h, third, 0, acquire_mode::try_once(), 100ms, env);
    REQUIRE(r1.error == errc{});
    REQUIRE(r2.error == errc{});
    CHECK(r1.owner_died);
    CHECK(r2.owner_died);
    CHECK(h->writer == rw::dirty_bit);
    CHECK(rw::unlock_shared(*h, me, r1.slot) == errc{});
    CHECK(rw::unlock_shared(*h, third, r2.slot) == errc{});
    CHECK(h->writer == rw::dirty_bit); // readers cannot repair, so they do not clear it

    // A writer that fails to get in does not clear it either.
    const auto w = rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
    REQUIRE(w.error == errc{});
    CHECK(w.owner_died);
    // And a writer that dies after being told leaves it dirty for the next one.
    h->writer = held_by(third) | rw::dirty_bit;
    env.death[third.pid] = 0ns;
    const auto w2 = rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
    REQUIRE(w2.error == errc{});
    CHECK(w2.owner_died);
    CHECK(rw::unlock_exclusive(*h, me) == errc{});
    const auto clean = rw::lock_shared(*h, me, 0, acquire_mode::try_once(), 100ms, env);
    REQUIRE(clean.error == errc{});
    CHECK_FALSE(clean.owner_died);
}

TEST_CASE("a process that reuses a dead holder's id is not taken for it", "[robust]")
{
    shared_header h;
    h.make_ready();
    h->writer = held_by(other);
    fake_env env;
    env.tag_now[other.pid] = other.tag ^ 1; // the id is alive, but with another creation time
    const auto r = rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
    CHECK(r.error == errc{});
    CHECK(r.owner_died);
}

TEST_CASE("full reader slots wait, and dead readers' slots are reclaimed", "[robust]")
{
    shared_header h;
    h.make_ready();
    fake_env env;
    std::vector<std::uint16_t> slots;
    for (std::uint32_t i = 0; i < rw::reader_slots; ++i) {
        const auto r = rw::lock_shared(*h, {1000 + i, i}, i, acquire_mode::try_once(), 100ms, env);
        REQUIRE(r.error == errc{});
        slots.push_back(r.slot);
    }
    CHECK(rw::lock_shared(*h, me, 0, acquire_mode::try_once(), 100ms, env).error == errc::max_readers);
    CHECK(rw::lock_shared(*h, me, 0, acquire_mode::wait_for(200ms), 100ms, env).error == errc::timeout);
    env.death[1000 + 77] = env.clock + 5ms;
    const auto r = rw::lock_shared(*h, me, 0, acquire_mode::wait_for(10s), 100ms, env);
    REQUIRE(r.error == errc{});
    CHECK(r.slot == slots[77]);
    CHECK_FALSE(r.owner_died);
}

TEST_CASE("impossible words refuse every operation and are left as found", "[robust]")
{
    const rw::word_type bad_writer = GENERATE(rw::held_bit, rw::held_bit | rw::dirty_bit,
                                              std::uint64_t{0x1234} << 32);
    shared_header h;
    h.make_ready();
    h->writer = bad_writer;
    const auto before = h.bytes();
    fake_env env;
    CHECK(rw::lock_exclusive(*h, me, acquire_mode::wait_for(1s), 100ms, env).error == errc::corrupt_lock_word);
    CHECK(rw::lock_shared(*h, me, 0, acquire_mode::wait_for(1s), 100ms, env).error == errc::corrupt_lock_word);
    CHECK(rw::unlock_exclusive(*h, me) == errc::corrupt_lock_word);
    CHECK(h.bytes() == before);

    // A corrupt reader slot: the writer reports it and gives its claim back.
    shared_header s;
    s.make_ready();
    s->readers[42] = rw::pack(other) | rw::dirty_bit;
    const auto slot_before = s.bytes();
    CHECK(rw::lock_exclusive(*s, me, acquire_mode::wait_for(1s), 100ms, env).error == errc::corrupt_lock_word);
    CHECK(rw::unlock_shared(*s, other, 42) == errc::corrupt_lock_word);
    CHECK(s.bytes() == slot_before);
}

TEST_CASE("unlocks without a matching lock are refused and change nothing", "[robust]")
{
    shared_header h;
    h.make_ready();
    fake_env env;
    CHECK(rw::unlock_exclusive(*h, me) == errc::lock_violation);
    CHECK(rw::unlock_shared(*h, me, 0) == errc::lock_violation);
    CHECK(rw::unlock_shared(*h, me, rw::no_slot) == errc::lock_violation);
    REQUIRE(rw::lock_exclusive(*h, other, acquire_mode::try_once(), 100ms, env).error == errc{});
    CHECK(rw::unlock_exclusive(*h, me) == errc::lock_violation); // not ours
    CHECK(h->writer == held_by(other));
    CHECK(rw::unlock_exclusive(*h, other) == errc{});
    CHECK(rw::unlock_exclusive(*h, other) == errc::lock_violation); // twice
    const auto r = rw::lock_shared(*h, other, 9, acquire_mode::try_once(), 100ms, env);
    CHECK(rw::unlock_shared(*h, me, r.slot) == errc::lock_violation);
    CHECK(rw::unlock_shared(*h, other, r.slot) == errc{});
    CHECK(rw::unlock_shared(*h, other, r.slot) == errc::lock_violation);
    h->writer = rw::pack(other); // claimed but not held: there is nothing to unlock
    CHECK(rw::unlock_exclusive(*h, other) == errc::lock_violation);
}

TEST_CASE("creation claims the marker first, then init, then publishes ready", "[robust][init]")
{
    shared_header h;
    fake_env env;
    REQUIRE(rw::claim_layout(*h) == errc{});
    CHECK(h->marker == lock_word::robust_layout_marker);
    CHECK(h->init == 0);
    REQUIRE(rw::claim_initialization(*h, me));
    CHECK(h->init == rw::pack(me));
    CHECK(rw::publish_ready(*h, me) == errc{});
    CHECK(h->init == rw::ready_value);
    CHECK(rw::attach(*h, other, 1s, 100ms, env) == errc{});
    CHECK(env.clock == 0ns);

    shared_header fresh;
    CHECK(rw::initialize(*fresh, me, 1s, 100ms, env) == errc{});
    CHECK(fresh.bytes() == h.bytes());
}

TEST_CASE("an opener finishes the initialisation of a creator that died", "[robust][init]")
{
    fake_env env;
    SECTION("died after claiming init: noticed at the first liveness check")
    {
        shared_header h;
        REQUIRE(rw::claim_layout(*h) == errc{});
        REQUIRE(rw::claim_initialization(*h, other));
        env.death[other.pid] = 30ms;
        CHECK(rw::attach(*h, me, 10s, 100ms, env) == errc{});
        CHECK(env.clock <= 30ms + 100ms);
        CHECK(h->init == rw::ready_value);
        CHECK(h->recoveries == 1);
    }
    SECTION("a read-only opener cannot take over: it reports uninitialized and writes nothing")
    {
        shared_header h;
        REQUIRE(rw::claim_layout(*h) == errc{});
        REQUIRE(rw::claim_initialization(*h, other));
        env.death[other.pid] = 0ns;
        const auto before = h.bytes();
        CHECK(rw::attach(*h, me, 10s, 100ms, env, false) == errc::uninitialized);
        CHECK(h.bytes() == before);
    }
    SECTION("died between the marker and init: taken over one bound later")
    {
        shared_header h;
        REQUIRE(rw::claim_layout(*h) == errc{});
        CHECK(rw::attach(*h, me, 10s, 100ms, env) == errc{});
        CHECK(env.clock >= 100ms);
        CHECK(env.clock <= 200ms);
        CHECK(h->init == rw::ready_value);
        // The creator was only slow: its claim now fails, and it waits for ready like anyone.
        CHECK_FALSE(rw::claim_initialization(*h, other));
        CHECK(rw::attach(*h, other, 1s, 100ms, env) == errc{});
    }
    SECTION("a live initialiser is waited for, with a timeout")
    {
        shared_header h;
        REQUIRE(rw::claim_layout(*h) == errc{});
        REQUIRE(rw::claim_initialization(*h, other));
        const auto before = h.bytes();
        CHECK(rw::attach(*h, me, 1s, 100ms, env) == errc::timeout);
        CHECK(env.clock >= 1s);
        CHECK(h.bytes() == before);
    }
}

TEST_CASE("attach refuses WinMMF mappings and anything else that is not robust", "[robust][init]")
{
    struct row {
        std::uint32_t word0;
        rw::word_type at8;
        errc expected;
        bool waits; // only an all-zero header is ambiguous enough to wait for
    };
    const row r = GENERATE(row{0, 0, errc::wrong_lock_policy, true},           // fresh WinMMF, or a creator not started
                           row{0, 0x4142434445464748ull, errc::wrong_lock_policy, false}, // free WinMMF with data
                           row{3, 0, errc::wrong_lock_policy, false},          // WinMMF readers
                           row{0x80000000u, 0, errc::wrong_lock_policy, false},
                           row{0xFF000000u, 0, errc::wrong_lock_policy, false}, // WinMMF creation
                           row{lock_word::channel_layout_marker, 0, errc::wrong_lock_policy, false},
                           row{0x12345678u, 0, errc::not_winmmf_mapping, false},
                           row{lock_word::robust_layout_marker, rw::ready_family | 0x20078u, errc::wrong_lock_policy, false},
                           row{lock_word::robust_layout_marker, rw::held_bit | 5u, errc::corrupt_lock_word, false});
    CAPTURE(r.word0, r.at8);
    shared_header h;
    h->marker = r.word0;
    h->init = r.at8;
    const auto before = h.bytes();
    fake_env env;
    CHECK(rw::attach(*h, me, 300ms, 100ms, env) == r.expected);
    CHECK((env.clock >= 300ms) == r.waits);
    CHECK(h.bytes() == before);
}

TEST_CASE("creation refuses a section that a WinMMF peer wrote into first", "[robust][init]")
{
    shared_header locked;
    locked->marker = 0x80000000u; // a peer holds its write lock
    const auto before = locked.bytes();
    CHECK(rw::claim_layout(*locked) == errc::wrong_lock_policy);
    CHECK(locked.bytes() == before);

    shared_header written;
    written->readers[3] = 0x0102030405060708ull; // a peer wrote data and unlocked
    const auto before_written = written.bytes();
    CHECK(rw::claim_layout(*written) == errc::wrong_lock_policy);
    CHECK(written.bytes() == before_written);
}
