// The robust lock's state machines with a scripted world: a fake clock that only moves when
// the code under test pauses, and a liveness oracle that says when each process dies. That
// makes the recovery bound a deterministic property - "cleared no later than death + bound" -
// instead of a timing measurement, and it runs the same way under Wine and natively.
#include <winmmf/protocol/robust_word.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#if defined(_WIN32)
#include <winmmf/detail/win32.hpp>
#else
#include <sys/mman.h>
#include <unistd.h>
#endif

using namespace winmmf;
using namespace std::chrono_literals;
namespace rw = winmmf::protocol::robust_word;
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
    // Called at every rw::step the code under test passes: to stage a death there (snapshot
    // the header), or to run another process's operation at exactly that point.
    std::function<void(rw::step)> on_step;
    // The same for the creation handshake's steps (protocol/section.hpp).
    std::function<void(protocol::creation_step)> on_creation;

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
    void at(rw::step s)
    {
        if (on_step) {
            on_step(s);
        }
    }
    void at(protocol::creation_step s)
    {
        if (on_creation) {
            on_creation(s);
        }
    }
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
        h->marker = protocol::lock_word::robust_layout_marker;
        h->version = rw::layout_version;
        h->init = rw::ready_value;
    }
    std::vector<unsigned char> bytes() const
    {
        std::vector<unsigned char> out(sizeof(rw::header));
        std::memcpy(out.data(), h.get(), out.size());
        return out;
    }
    void restore(const std::vector<unsigned char>& image) { std::memcpy(h.get(), image.data(), sizeof(rw::header)); }
};

constexpr rw::word_type held_by(rw::identity id) { return rw::pack(id) | rw::held_bit; }
constexpr rw::word_type reclaimed_by(rw::identity id) { return rw::pack(id) | rw::reclaim_bit; }

bool bit_set(rw::header& h, std::size_t slot)
{
    return (h.occupied[rw::summary_index(slot)] & rw::summary_bit(slot)) != 0;
}
void set_bit(rw::header& h, std::size_t slot) { h.occupied[rw::summary_index(slot)] |= rw::summary_bit(slot); }

// A reader as it is inside the lock: its slot names it and its summary bit is set.
void plant_reader(rw::header& h, std::size_t slot, rw::identity id)
{
    h.readers[slot] = rw::pack(id);
    set_bit(h, slot);
}

// Runs `op` and gives back the header as it was when `op` passed `where` for the first time:
// the state a process leaves when it dies there. Fails the test if `op` never passes it.
template <class Op>
std::vector<unsigned char> state_at(shared_header& h, fake_env& env, rw::step where, Op op)
{
    std::vector<unsigned char> image;
    env.on_step = [&](rw::step s) {
        if (s == where && image.empty()) {
            image = h.bytes();
        }
    };
    op();
    env.on_step = nullptr;
    REQUIRE_FALSE(image.empty());
    return image;
}

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
    STATIC_CHECK(rw::classify_slot(0) == rw::slot_state::free);
    STATIC_CHECK(rw::classify_slot(rw::pack(me)) == rw::slot_state::reader);
    STATIC_CHECK(rw::classify_slot(reclaimed_by(me)) == rw::slot_state::reclaiming);
    STATIC_CHECK(rw::classify_slot(rw::pack(me) | rw::dirty_bit) == rw::slot_state::corrupt);
    STATIC_CHECK(rw::classify_slot(rw::reclaim_bit) == rw::slot_state::corrupt); // reclaimed by nobody
    STATIC_CHECK(rw::classify_slot(std::uint64_t{7} << 32) == rw::slot_state::corrupt);
    STATIC_CHECK(rw::is_valid_slot(reclaimed_by(me)));
    STATIC_CHECK_FALSE(rw::is_valid_slot(rw::pack(me) | rw::dirty_bit));
    STATIC_CHECK(reclaimed_by(me) != rw::pack(me)); // no identity equals a slot being reclaimed
    STATIC_CHECK((rw::ready_value & ~rw::identity_mask) != 0); // never mistaken for an identity
    // Slot i has bit i % 64 of summary word i / 64; bits past the last slot are never set.
    STATIC_CHECK(rw::summary_mask(0) == ~std::uint64_t{0});
    STATIC_CHECK(rw::summary_mask(1) == (std::uint64_t{1} << (rw::reader_slots - 64)) - 1);
    STATIC_CHECK(rw::summary_index(119) == 1);
    STATIC_CHECK(rw::summary_bit(119) == std::uint64_t{1} << 55);

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

TEST_CASE("the uncontended paths never ask about liveness, and readers publish their slots", "[robust]")
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
    const auto r3 = rw::lock_shared(*h, third, 119, acquire_mode::try_once(), 100ms, env);
    REQUIRE(r1.error == errc{});
    REQUIRE(r2.error == errc{});
    REQUIRE(r3.error == errc{});
    CHECK(r1.slot == 7);
    CHECK(r2.slot == 8); // the next free one
    CHECK(r3.slot == 119);
    CHECK(h->readers[7] == rw::pack(me));
    CHECK(h->readers[8] == rw::pack(other));
    CHECK(h->occupied[0] == ((std::uint64_t{1} << 7) | (std::uint64_t{1} << 8)));
    CHECK(h->occupied[1] == std::uint64_t{1} << 55);
    CHECK(rw::unlock_shared(*h, me, r1.slot) == errc{});
    CHECK(rw::unlock_shared(*h, other, r2.slot) == errc{});
    CHECK(rw::unlock_shared(*h, third, r3.slot) == errc{});
    CHECK(rw::inspect(*h).readers == 0);
    CHECK(h->occupied[0] == 0);
    CHECK(h->occupied[1] == 0);
    CHECK(env.checks.empty());
    CHECK(env.clock == 0ns); // nobody paused
}

namespace {

// A ready header whose reader slots lie on a page nobody may touch: the first 64 bytes
// (marker ... summary) end one accessible page, the slots start the next, inaccessible one.
class fenced_header {
public:
    fenced_header()
    {
#if defined(_WIN32)
        SYSTEM_INFO si{};
        ::GetSystemInfo(&si);
        page_ = si.dwPageSize;
        base_ = static_cast<unsigned char*>(::VirtualAlloc(nullptr, 2 * page_, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
        REQUIRE(base_ != nullptr);
        DWORD old = 0;
        REQUIRE(::VirtualProtect(base_ + page_, page_, PAGE_NOACCESS, &old));
#else
        page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        void* p = ::mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(p != MAP_FAILED);
        base_ = static_cast<unsigned char*>(p);
        REQUIRE(::mprotect(base_ + page_, page_, PROT_NONE) == 0);
#endif
        h_ = reinterpret_cast<rw::header*>(base_ + page_ - offsetof(rw::header, readers));
        std::memset(h_, 0, offsetof(rw::header, readers));
        h_->marker = protocol::lock_word::robust_layout_marker;
        h_->init = rw::ready_value;
    }
    ~fenced_header()
    {
#if defined(_WIN32)
        ::VirtualFree(base_, 0, MEM_RELEASE);
#else
        ::munmap(base_, 2 * page_);
#endif
    }
    fenced_header(const fenced_header&) = delete;
    fenced_header& operator=(const fenced_header&) = delete;
    rw::header& operator*() { return *h_; }
    rw::header* operator->() { return h_; }

private:
    std::size_t page_ = 0;
    unsigned char* base_ = nullptr;
    rw::header* h_ = nullptr;
};

} // namespace

TEST_CASE("an uncontended writer reads no reader slot and asks nobody about liveness", "[robust]")
{
    // Any read of a slot would fault here (access violation / SIGSEGV): this is what makes
    // the writer's fast path O(1).
    fenced_header h;
    fake_env env;
    const acquire_mode mode = GENERATE(acquire_mode::try_once(), acquire_mode::wait_for(1s), acquire_mode::spin(10));
    for (int round = 0; round < 3; ++round) {
        const auto w = rw::lock_exclusive(*h, me, mode, 100ms, env);
        REQUIRE(w.error == errc{});
        CHECK_FALSE(w.owner_died);
        CHECK(h->writer == held_by(me));
        CHECK(rw::unlock_exclusive(*h, me) == errc{});
    }
    // The same after a writer died: the dirty flag is reported without a slot being read.
    h->writer = rw::dirty_bit;
    const auto told = rw::lock_exclusive(*h, other, mode, 100ms, env);
    REQUIRE(told.error == errc{});
    CHECK(told.owner_died);
    CHECK(rw::unlock_exclusive(*h, other) == errc{});
    CHECK(h->writer == 0);
    CHECK(env.checks.empty());
    CHECK(env.clock == 0ns);
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

    // A corrupt reader slot that the summary names: the writer reports it and gives its claim
    // back.
    shared_header s;
    s.make_ready();
    s->readers[42] = rw::pack(other) | rw::dirty_bit;
    set_bit(*s, 42);
    const auto slot_before = s.bytes();
    CHECK(rw::lock_exclusive(*s, me, acquire_mode::wait_for(1s), 100ms, env).error == errc::corrupt_lock_word);
    CHECK(rw::lock_exclusive(*s, me, acquire_mode::try_once(), 100ms, env).error == errc::corrupt_lock_word);
    CHECK(rw::unlock_shared(*s, other, 42) == errc::corrupt_lock_word);
    CHECK(rw::inspect(*s).corrupt);
    CHECK(rw::attach(*s, me, 1s, 100ms, env) == errc::corrupt_lock_word);
    CHECK(s.bytes() == slot_before);

    // Summary bits past the last slot: nothing sets them.
    shared_header b;
    b.make_ready();
    b->occupied[1] = std::uint64_t{1} << 60;
    const auto bits_before = b.bytes();
    CHECK(rw::lock_exclusive(*b, me, acquire_mode::wait_for(1s), 100ms, env).error == errc::corrupt_lock_word);
    CHECK(rw::lock_shared(*b, me, 0, acquire_mode::try_once(), 100ms, env).error == errc{}); // readers do not read it...
    CHECK(rw::unlock_shared(*b, me, 0) == errc{});
    CHECK(rw::inspect(*b).corrupt);
    CHECK(rw::attach(*b, me, 1s, 100ms, env) == errc::corrupt_lock_word); // ...but opening reports it
    CHECK(b.bytes() == bits_before);
}

TEST_CASE("a corrupt slot the summary does not name is reported wherever all slots are read", "[robust]")
{
    shared_header h;
    h.make_ready();
    h->readers[42] = rw::pack(other) | rw::dirty_bit;
    const auto before = h.bytes();
    fake_env env;
    // An uncontended writer does not read slots whose bit is clear (no reader is inside
    // there), so it does not see it; it still excludes everybody correctly.
    const auto w = rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
    REQUIRE(w.error == errc{});
    CHECK(rw::unlock_exclusive(*h, me) == errc{});
    CHECK(h.bytes() == before);
    // Opening, inspect() and every liveness check read all slots, and report it.
    CHECK(rw::attach(*h, me, 1s, 100ms, env) == errc::corrupt_lock_word);
    CHECK(rw::inspect(*h).corrupt);
    // A waiter (here: for a live writer) fails at its first check instead of waiting on.
    h->writer = held_by(other);
    const auto waiting_reader = rw::lock_shared(*h, me, 0, acquire_mode::wait_for(10s), 100ms, env);
    CHECK(waiting_reader.error == errc::corrupt_lock_word);
    CHECK(env.clock <= rw::first_check_delay + 1ms);
    const auto waiting_writer = rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
    CHECK(waiting_writer.error == errc::corrupt_lock_word);
    h->writer = 0;
    CHECK(h.bytes() == before);
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

TEST_CASE("creation locks WinMMF out, names its creator in init, puts the marker in place, then publishes ready",
          "[robust][init]")
{
    shared_header h;
    fake_env env;
    std::map<protocol::creation_step, std::vector<unsigned char>> seen;
    env.on_creation = [&](protocol::creation_step s) { seen[s] = h.bytes(); };
    REQUIRE(rw::initialize(*h, me, env) == errc{});
    env.on_creation = nullptr;
    REQUIRE(seen.size() == 3);
    const auto word0 = [](const std::vector<unsigned char>& b) {
        std::uint32_t w = 0;
        std::memcpy(&w, b.data(), 4);
        return w;
    };
    const auto init = [](const std::vector<unsigned char>& b) {
        rw::word_type w = 0;
        std::memcpy(&w, b.data() + 8, 8);
        return w;
    };
    CHECK(word0(seen[protocol::creation_step::locked]) == protocol::lock_word::write_lock_mask);
    CHECK(init(seen[protocol::creation_step::locked]) == 0);
    CHECK(word0(seen[protocol::creation_step::claimed]) == protocol::lock_word::write_lock_mask);
    CHECK(init(seen[protocol::creation_step::claimed]) == rw::pack(me));
    CHECK(word0(seen[protocol::creation_step::marked]) == protocol::lock_word::robust_layout_marker);
    CHECK(init(seen[protocol::creation_step::marked]) == rw::pack(me));
    CHECK(h->marker == protocol::lock_word::robust_layout_marker);
    CHECK(h->version == rw::layout_version);
    CHECK(h->init == rw::ready_value);
    CHECK(rw::attach(*h, other, 1s, 100ms, env) == errc{});
    CHECK(env.clock == 0ns);
}

TEST_CASE("an opener finishes the creation of a creator that is certainly gone, and only then", "[robust][init]")
{
    fake_env env;
    // The state a creator leaves when it dies (or stalls) at `where`: the header as it was when
    // its creation passed that step.
    const auto stopped_at = [&](shared_header& h, rw::identity creator, protocol::creation_step where) {
        std::vector<unsigned char> image;
        fake_env creating;
        creating.on_creation = [&](protocol::creation_step s) {
            if (s == where) {
                image = h.bytes();
            }
        };
        REQUIRE(rw::initialize(*h, creator, creating) == errc{});
        REQUIRE_FALSE(image.empty());
        h.restore(image);
    };
    const auto marked_by = [&](shared_header& h, rw::identity creator) {
        stopped_at(h, creator, protocol::creation_step::marked);
    };
    SECTION("died with its marker in place: noticed at the first liveness check after its death")
    {
        shared_header h;
        marked_by(h, other);
        env.death[other.pid] = 30ms;
        CHECK(rw::attach(*h, me, 10s, 100ms, env) == errc{});
        CHECK(env.clock <= 30ms + 100ms);
        CHECK(h->init == rw::ready_value);
        CHECK(h->version == rw::layout_version);
        CHECK(h->recoveries == 1);
    }
    SECTION("a read-only opener cannot take over: it reports uninitialized and writes nothing")
    {
        shared_header h;
        marked_by(h, other);
        env.death[other.pid] = 0ns;
        const auto before = h.bytes();
        CHECK(rw::attach(*h, me, 10s, 100ms, env, false) == errc::uninitialized);
        CHECK(h.bytes() == before);
    }
    SECTION("a live creator is waited for, however long it stalls: the opener times out, nothing changes")
    {
        shared_header h;
        marked_by(h, other);
        const auto before = h.bytes();
        CHECK(rw::attach(*h, me, 1s, 100ms, env) == errc::timeout);
        CHECK(env.clock >= 1s);
        CHECK(h.bytes() == before);
    }
    SECTION("killed before its marker (WinMMF's write lock still on the word): refused, never taken over")
    {
        for (const auto where : {protocol::creation_step::locked, protocol::creation_step::claimed}) {
            shared_header h;
            stopped_at(h, other, where);
            env.death[other.pid] = 0ns;
            const auto before = h.bytes();
            CHECK(rw::attach(*h, me, 300ms, 100ms, env) == errc::wrong_lock_policy);
            CHECK(h.bytes() == before);
        }
    }
}

TEST_CASE("a creator that stalls past the recovery bound at any step is never overtaken, and ends consistent",
          "[robust][init][steps]")
{
    // The race of the review: a creator stalls right after a step for longer than the recovery
    // bound while another process opens. Staged deterministically: the opener runs inside the
    // creator's step hook, on the fake clock, with the creator alive throughout.
    const protocol::creation_step where =
        GENERATE(protocol::creation_step::locked, protocol::creation_step::claimed, protocol::creation_step::marked);
    CAPTURE(static_cast<int>(where));
    shared_header h;
    fake_env creator_env;
    fake_env opener_env;
    errc opened = errc::not_open;
    creator_env.on_creation = [&](protocol::creation_step s) {
        if (s == where) {
            opened = rw::attach(*h, other, 500ms, 100ms, opener_env); // 5 bounds of stalling
            // Meanwhile a WinMMF peer is refused every lock, and writes nothing.
            protocol::lock_word::word_type* word = &h->marker;
            CHECK(protocol::lock_word::try_lock_write(std::atomic_ref<protocol::lock_word::word_type>(*word)) != errc{});
            CHECK(protocol::lock_word::try_lock_read(std::atomic_ref<protocol::lock_word::word_type>(*word)) != errc{});
        }
    };
    REQUIRE(rw::initialize(*h, me, creator_env) == errc{});
    CHECK(opener_env.clock >= 500ms);
    // Before the marker the word is WinMMF's write lock (a creator at work, or a WinMMF writer);
    // after it, init names a live creator: either way the opener waited and touched nothing.
    CHECK(opened == (where == protocol::creation_step::marked ? errc::timeout : errc::wrong_lock_policy));
    // One consistent robust header: the marker in front of a ready header, nothing recovered.
    CHECK(h->marker == protocol::lock_word::robust_layout_marker);
    CHECK(h->init == rw::ready_value);
    CHECK(h->recoveries == 0);
    CHECK(rw::attach(*h, other, 1s, 100ms, opener_env) == errc{});
    // And WinMMF peers stay refused.
    CHECK(protocol::lock_word::try_lock_write(std::atomic_ref<protocol::lock_word::word_type>(h->marker)) == errc::wrong_lock_policy);
}

TEST_CASE("attach refuses WinMMF mappings and anything else that is not robust", "[robust][init]")
{
    struct row {
        std::uint32_t word0;
        rw::word_type at8;
        errc expected;
        bool waits; // only states a creator at work could have left are waited for
    };
    const row r = GENERATE(row{0, 0, errc::wrong_lock_policy, true},           // fresh WinMMF, or a creator not started
                           row{0, 0x4142434445464748ull, errc::wrong_lock_policy, false}, // free WinMMF with data
                           row{3, 0, errc::wrong_lock_policy, false},          // WinMMF readers
                           row{0x80000000u, 0, errc::wrong_lock_policy, true},  // a WinMMF writer, or a creator at step 1
                           row{0xFF000000u, 0, errc::wrong_lock_policy, false}, // WinMMF creation
                           row{protocol::lock_word::channel_layout_marker, 0, errc::wrong_lock_policy, false},
                           row{0x12345678u, 0, errc::not_winmmf_mapping, false},
                           row{protocol::lock_word::robust_layout_marker, 0, errc::corrupt_lock_word, false}, // no step leaves this
                           row{protocol::lock_word::robust_layout_marker, rw::ready_family | 0x10078u, errc::unsupported_layout_version, false}, // version 1: no summary
                           row{protocol::lock_word::robust_layout_marker, rw::ready_family | 0x20078u, errc::unsupported_layout_version, false}, // version 2: no handshake
                           row{protocol::lock_word::robust_layout_marker, rw::ready_family | 0x40078u, errc::unsupported_layout_version, false},
                           row{protocol::lock_word::robust_layout_marker, rw::held_bit | 5u, errc::corrupt_lock_word, false});
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
    fake_env env;
    shared_header locked;
    locked->marker = 0x80000000u; // a peer holds its write lock
    const auto before = locked.bytes();
    CHECK(rw::initialize(*locked, me, env) == errc::wrong_lock_policy);
    CHECK(locked.bytes() == before);

    shared_header written;
    written->readers[3] = 0x0102030405060708ull; // a peer wrote data and unlocked
    const auto before_written = written.bytes();
    CHECK(rw::initialize(*written, me, env) == errc::wrong_lock_policy);
    CHECK(written.bytes() == before_written); // its lock was taken and given back: word 0 again
}

// ---- deaths and races at every step of the summary protocol ------------------------------------

TEST_CASE("a reader that dies between its slot and its bit blocks no writer, and its slot is reclaimed",
          "[robust][steps]")
{
    const rw::step where = GENERATE(rw::step::reader_claimed, rw::step::reader_leaving);
    CAPTURE(static_cast<int>(where));
    shared_header h;
    h.make_ready();
    fake_env env;
    // Either it dies arriving (slot claimed, bit not set yet) or leaving (bit cleared, slot
    // not freed yet): both leave its identity in a slot whose bit is clear.
    const auto image = state_at(h, env, where, [&] {
        const auto r = rw::lock_shared(*h, other, 5, acquire_mode::try_once(), 100ms, env);
        REQUIRE(r.error == errc{});
        CHECK(rw::unlock_shared(*h, other, r.slot, env) == errc{});
    });
    h.restore(image);
    env.death[other.pid] = 0ns;
    CHECK(h->readers[5] == rw::pack(other));
    CHECK_FALSE(bit_set(*h, 5));

    // No writer waits for it: no bit, no reader inside.
    const auto w = rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
    REQUIRE(w.error == errc{});
    CHECK_FALSE(w.owner_died);
    CHECK(env.checks.empty());
    CHECK(rw::unlock_exclusive(*h, me) == errc{});

    // The slot is not lost: a reader that finds no other free slot scans, and gets it.
    for (std::uint32_t i = 0; i < rw::reader_slots; ++i) {
        if (i != 5) {
            plant_reader(*h, i, {2000 + i, 1});
        }
    }
    const auto r = rw::lock_shared(*h, third, 0, acquire_mode::try_once(), 100ms, env);
    REQUIRE(r.error == errc{});
    CHECK(r.slot == 5);
    CHECK_FALSE(r.owner_died);
    CHECK(bit_set(*h, 5));
    CHECK(h->recoveries == 1);
}

TEST_CASE("a reader that dies with its bit set is waited for, then cleared within the bound", "[robust][steps]")
{
    shared_header h;
    h.make_ready();
    fake_env env;
    // Bit set, writer word not looked at again: to everybody else it is a reader inside.
    const auto image = state_at(h, env, rw::step::reader_published, [&] {
        const auto r = rw::lock_shared(*h, other, 33, acquire_mode::try_once(), 100ms, env);
        REQUIRE(r.error == errc{});
    });
    h.restore(image);
    CHECK(bit_set(*h, 33));
    env.death[other.pid] = 40ms;
    const auto w = rw::lock_exclusive(*h, me, acquire_mode::wait_for(10s), 100ms, env);
    REQUIRE(w.error == errc{});
    CHECK_FALSE(w.owner_died);
    CHECK(env.clock <= 40ms + 100ms);
    CHECK(h->readers[33] == 0);
    CHECK_FALSE(bit_set(*h, 33));
    CHECK(h->recoveries == 1);
}

TEST_CASE("a recoverer that dies half-way leaves a slot the next scan finishes", "[robust][steps]")
{
    const rw::step where = GENERATE(rw::step::reclaim_started, rw::step::reclaim_unpublished, rw::step::reclaim_freed);
    CAPTURE(static_cast<int>(where));
    shared_header h;
    h.make_ready();
    plant_reader(*h, 9, other);
    fake_env env;
    env.death[other.pid] = 0ns;
    const auto image = state_at(h, env, where, [&] {
        CHECK(rw::detail::recover_dead(*h, rw::pack(third), env) == rw::detail::scan_result::recovered);
    });
    h.restore(image);
    env.death[third.pid] = 0ns; // the recoverer died right there
    env.checks.clear();
    if (where == rw::step::reclaim_freed) {
        // Freed but not counted: the count is a diagnostic and may miss this one.
        CHECK(h->readers[9] == 0);
        CHECK_FALSE(bit_set(*h, 9));
        CHECK(h->recoveries == 0);
        return;
    }
    CHECK(h->readers[9] == reclaimed_by(third));
    CHECK(bit_set(*h, 9) == (where == rw::step::reclaim_started));
    const auto w = rw::lock_exclusive(*h, me, acquire_mode::wait_for(10s), 100ms, env);
    REQUIRE(w.error == errc{});
    CHECK_FALSE(w.owner_died);
    if (where == rw::step::reclaim_started) {
        CHECK(env.clock <= 100ms); // waited for the bit, and cleared it at a liveness check
    } else {
        CHECK(env.checks.empty()); // no bit: nobody inside, nothing to wait for
        CHECK(rw::unlock_exclusive(*h, me) == errc{});
        CHECK(rw::detail::recover_dead(*h, rw::pack(me), env) == rw::detail::scan_result::recovered);
        REQUIRE(rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env).error == errc{});
    }
    CHECK(h->readers[9] == 0);
    CHECK_FALSE(bit_set(*h, 9));
    CHECK(h->recoveries == 1); // the dead reader, once
    CHECK(rw::unlock_exclusive(*h, me) == errc{});
    CHECK(rw::inspect(*h).readers == 0);
}

TEST_CASE("a live recoverer's slot is left alone, and waited for while its bit is set", "[robust][steps]")
{
    shared_header h;
    h.make_ready();
    h->readers[9] = reclaimed_by(third);
    set_bit(*h, 9);
    const auto before = h.bytes();
    fake_env env;
    CHECK(rw::lock_exclusive(*h, me, acquire_mode::wait_for(300ms), 100ms, env).error == errc::timeout);
    CHECK(rw::detail::recover_dead(*h, rw::pack(me), env) == rw::detail::scan_result::nothing);
    CHECK(h.bytes() == before);
    CHECK(env.checks.size() >= 3);
}

TEST_CASE("a new reader never loses its bit to a recovery, whichever step the recovery is at", "[robust][steps]")
{
    // Run a new reader at every point the recovery passes; afterwards that reader must still
    // be visible to writers. A recovery that cleared the bit after freeing the slot would let
    // the new reader take the freed slot and then lose its bit - and a writer in.
    for (int stop = 0;; ++stop) {
        CAPTURE(stop);
        shared_header h;
        h.make_ready();
        plant_reader(*h, 9, other);
        fake_env env;
        env.death[other.pid] = 0ns;
        fake_env nested;
        int passed = 0;
        rw::lock_result newcomer{};
        env.on_step = [&](rw::step) {
            if (passed++ == stop) {
                newcomer = rw::lock_shared(*h, third, 9, acquire_mode::try_once(), 100ms, nested);
            }
        };
        CHECK(rw::detail::recover_dead(*h, rw::pack(me), env) == rw::detail::scan_result::recovered);
        env.on_step = nullptr;
        if (stop >= passed) {
            break; // every step has had its newcomer
        }
        REQUIRE(newcomer.error == errc{});
        CHECK(h->readers[newcomer.slot] == rw::pack(third));
        CHECK(bit_set(*h, newcomer.slot));
        CHECK(rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, nested).error == errc::read_locked);
        CHECK(h->recoveries == 1);
        CHECK(rw::unlock_shared(*h, third, newcomer.slot) == errc{});
        CHECK(rw::inspect(*h).readers == 0);
        CHECK(h->occupied[0] == 0);
    }
}

TEST_CASE("a reader and a writer that race see one another at every step", "[robust][steps]")
{
    // The other side runs (try_once) at each point one side passes; whatever the interleaving,
    // both may not end up holding the lock, and nothing may be left behind.
    const bool reader_first = GENERATE(true, false);
    CAPTURE(reader_first);
    for (int stop = 0;; ++stop) {
        CAPTURE(stop);
        shared_header h;
        h.make_ready();
        fake_env env;
        fake_env nested;
        int passed = 0;
        rw::lock_result inner{};
        bool ran = false;
        env.on_step = [&](rw::step) {
            if (passed++ == stop) {
                ran = true;
                inner = reader_first ? rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, nested)
                                     : rw::lock_shared(*h, other, 3, acquire_mode::try_once(), 100ms, nested);
            }
        };
        const auto outer = reader_first ? rw::lock_shared(*h, other, 3, acquire_mode::try_once(), 100ms, env)
                                        : rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
        env.on_step = nullptr;
        if (!ran) {
            break;
        }
        CHECK_FALSE((outer.error == errc{} && inner.error == errc{})); // never both
        const auto& reader = reader_first ? outer : inner;
        const auto& writer = reader_first ? inner : outer;
        CHECK((reader.error == errc{} || reader.error == errc::write_locked));
        CHECK((writer.error == errc{} || writer.error == errc::read_locked));
        if (reader.error == errc{}) {
            CHECK(bit_set(*h, reader.slot));
            CHECK(rw::unlock_shared(*h, other, reader.slot) == errc{});
        }
        if (writer.error == errc{}) {
            CHECK(rw::unlock_exclusive(*h, me) == errc{});
        }
        CHECK(h->writer == 0);
        CHECK(rw::inspect(*h).readers == 0);
        CHECK(h->occupied[0] == 0);
    }
}

TEST_CASE("a writer that dies after its claim or while waiting is cleared, and reports dirty only if it held",
          "[robust][steps]")
{
    shared_header h;
    h.make_ready();
    plant_reader(*h, 0, third); // a live reader: the writer will have to wait
    fake_env env;
    SECTION("claimed with held, summary not read yet: conservatively, owner_dead")
    {
        h.restore(state_at(h, env, rw::step::writer_claimed,
                           [&] { (void)rw::lock_exclusive(*h, other, acquire_mode::try_once(), 100ms, env); }));
        CHECK(h->writer == held_by(other));
        env.death[other.pid] = 0ns;
        CHECK(rw::unlock_shared(*h, third, 0) == errc{});
        const auto w = rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
        REQUIRE(w.error == errc{});
        CHECK(w.owner_died);
    }
    SECTION("waiting for readers, held cleared: nobody is told")
    {
        h.restore(state_at(h, env, rw::step::writer_waiting,
                           [&] { (void)rw::lock_exclusive(*h, other, acquire_mode::try_once(), 100ms, env); }));
        CHECK(h->writer == rw::pack(other));
        env.death[other.pid] = 0ns;
        CHECK(rw::unlock_shared(*h, third, 0) == errc{});
        const auto w = rw::lock_exclusive(*h, me, acquire_mode::try_once(), 100ms, env);
        REQUIRE(w.error == errc{});
        CHECK_FALSE(w.owner_died);
    }
    CHECK(h->recoveries == 1);
}
