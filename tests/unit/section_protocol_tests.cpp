// The one open-and-initialise handshake (protocol/section.hpp), the liveness rule and owner
// words (protocol/identity.hpp), and the committed-pages rule: pure, on a fake clock and a
// scripted liveness oracle, built for Windows and natively.
#include <winmmf/protocol/frame.hpp>
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/identity.hpp>
#include <winmmf/protocol/section.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

namespace {

constexpr protocol::identity creator{100, 0x1111};
constexpr protocol::identity opener{200, 0x2222};
constexpr protocol::identity third{300, 0x3333};

struct fake_env {
    nanoseconds clock{0};
    std::map<std::uint32_t, nanoseconds> death; // pid -> when it dies
    int checks = 0;
    std::function<void(protocol::creation_step)> on_creation;

    nanoseconds now() const { return clock; }
    bool alive(protocol::identity id)
    {
        ++checks;
        const auto d = death.find(id.pid);
        return d == death.end() || clock < d->second;
    }
    void pause(nanoseconds d) { clock += std::max(std::min(d, nanoseconds(250us)), nanoseconds(1)); }
    void relax() { clock += 50ns; }
    void at(protocol::creation_step s)
    {
        if (on_creation) {
            on_creation(s);
        }
    }
};
static_assert(protocol::environment<fake_env>);

constexpr protocol::layout_kind kind{protocol::lock_word::notify_layout_marker, 7, protocol::ready_value(7)};

struct header_bytes {
    alignas(64) std::array<std::byte, 256> bytes{};
    std::byte* base() { return bytes.data(); }
    protocol::prologue& p() { return *reinterpret_cast<protocol::prologue*>(bytes.data()); }
};

} // namespace

// ---- liveness ---------------------------------------------------------------------------------

TEST_CASE("a holder is certainly gone only on positive evidence", "[identity]")
{
    using facts = protocol::process_facts;
    const protocol::identity holder{1234, protocol::creation_tag(5000)};
    facts f;
    f.open = facts::opened::failed;
    CHECK_FALSE(protocol::certainly_gone(holder, f)); // unknown: running
    f.open = facts::opened::denied;
    CHECK_FALSE(protocol::certainly_gone(holder, f)); // exists, and that is all
    f.open = facts::opened::no_such_process;
    CHECK(protocol::certainly_gone(holder, f));

    f = facts{};
    f.open = facts::opened::yes;
    f.has_creation_time = true;
    f.creation_time = 5000;
    CHECK_FALSE(protocol::certainly_gone(holder, f)); // the holder itself, running
    f.signalled = true;
    CHECK(protocol::certainly_gone(holder, f)); // a co-tenant keeps its process object: still dead
    f.signalled = false;
    f.creation_time = 5001;
    CHECK(protocol::certainly_gone(holder, f)); // its id was reused: the holder exited
    f.creation_time = 5000;
    f.exit_code_known = true;
    f.still_active = false;
    CHECK(protocol::certainly_gone(holder, f)); // exited, known by its exit code
    f.still_active = true;
    CHECK_FALSE(protocol::certainly_gone(holder, f)); // STILL_ACTIVE (or exited with 259): running

    // A process that may not be opened: the system's process list decides.
    f = facts{};
    f.open = facts::opened::denied;
    f.listed = facts::listing::absent;
    CHECK(protocol::certainly_gone(holder, f));
    f.listed = facts::listing::present;
    f.has_creation_time = true;
    f.creation_time = 5000;
    CHECK_FALSE(protocol::certainly_gone(holder, f));
    f.creation_time = 777; // somebody else got its id: a co-tenant cannot make it look alive
    CHECK(protocol::certainly_gone(holder, f));
}

TEST_CASE("an owner word: claimed from free or from the certainly gone, given back only by its owner", "[identity]")
{
    std::uint64_t word = 0;
    std::atomic_ref<std::uint64_t> ref(word);
    bool creator_alive = true;
    const auto alive = [&](protocol::identity id) { return id == creator ? creator_alive : true; };
    std::uint64_t replaced = 1;
    CHECK(protocol::try_claim(ref, creator, alive, replaced) == protocol::claim_outcome::claimed);
    CHECK(replaced == 0);
    CHECK(word == protocol::pack(creator));
    CHECK(protocol::try_claim(ref, creator, alive, replaced) == protocol::claim_outcome::held_by_me);
    CHECK(protocol::try_claim(ref, opener, alive, replaced) == protocol::claim_outcome::held);
    CHECK(word == protocol::pack(creator));
    CHECK_FALSE(protocol::release_claim(ref, opener)); // not its to give back
    CHECK(word == protocol::pack(creator));
    creator_alive = false;
    CHECK(protocol::try_claim(ref, opener, alive, replaced) == protocol::claim_outcome::claimed);
    CHECK(replaced == protocol::pack(creator));
    CHECK(protocol::release_claim(ref, opener));
    CHECK(word == 0);
    // A word that names nobody (flag bits, or no process id) locks nobody out.
    for (const std::uint64_t junk : {~std::uint64_t{0}, std::uint64_t{1} << 63, std::uint64_t{0x1234} << 32}) {
        word = junk;
        CHECK(protocol::try_claim(ref, third, alive, replaced) == protocol::claim_outcome::claimed);
        CHECK(replaced == junk);
    }
}

// ---- the handshake ----------------------------------------------------------------------------

TEST_CASE("creation: WinMMF's write lock, a named creator, the marker, then ready", "[section][init]")
{
    header_bytes h;
    fake_env env;
    std::map<protocol::creation_step, std::pair<std::uint32_t, std::uint64_t>> seen;
    env.on_creation = [&](protocol::creation_step s) { seen[s] = {h.p().marker, h.p().init}; };
    REQUIRE(protocol::begin_creation(h.base(), sizeof h.bytes, creator, kind, env) == errc{});
    CHECK(seen[protocol::creation_step::locked] == std::pair{protocol::lock_word::write_lock_mask, std::uint64_t{0}});
    CHECK(seen[protocol::creation_step::claimed] == std::pair{protocol::lock_word::write_lock_mask, protocol::pack(creator)});
    CHECK(seen[protocol::creation_step::marked] == std::pair{kind.marker, protocol::pack(creator)});
    CHECK(h.p().version == 0); // not before ready
    CHECK(protocol::publish_ready(h.base(), creator, kind) == errc{});
    CHECK(h.p().version == kind.version);
    CHECK(h.p().init == kind.ready);
    CHECK(protocol::attach(h.base(), sizeof h.bytes, opener, kind, 1s, 100ms, env, true).error == errc{});
    CHECK(env.clock == 0ns);
    CHECK(env.checks == 0); // a ready header costs no liveness check
}

TEST_CASE("creation gives the section back to a WinMMF peer that got there first", "[section][init]")
{
    fake_env env;
    header_bytes locked;
    locked.p().marker = 3; // WinMMF readers hold it
    CHECK(protocol::begin_creation(locked.base(), sizeof locked.bytes, creator, kind, env) == kind.foreign);
    CHECK(locked.p().marker == 3);
    header_bytes written;
    std::memcpy(written.base() + 100, "peer", 4); // a peer wrote and unlocked
    const auto before = written.bytes;
    CHECK(protocol::begin_creation(written.base(), sizeof written.bytes, creator, kind, env) == kind.foreign);
    CHECK(written.bytes == before);
}

TEST_CASE("an opener takes over only from a creator that is certainly gone", "[section][init]")
{
    const protocol::creation_step where =
        GENERATE(protocol::creation_step::locked, protocol::creation_step::claimed, protocol::creation_step::marked);
    CAPTURE(static_cast<int>(where));
    header_bytes h;
    std::array<std::byte, 256> image{};
    fake_env creating;
    creating.on_creation = [&](protocol::creation_step s) {
        if (s == where) {
            image = h.bytes;
        }
    };
    REQUIRE(protocol::begin_creation(h.base(), sizeof h.bytes, creator, kind, creating) == errc{});
    h.bytes = image; // the creator stopped there

    // Alive, stalled for ten bounds: waited for, never overtaken, nothing written.
    fake_env env;
    const auto r = protocol::attach(h.base(), sizeof h.bytes, opener, kind, 1s, 100ms, env, true);
    CHECK(r.error == (where == protocol::creation_step::marked ? errc::timeout : kind.foreign));
    CHECK_FALSE(r.must_initialize);
    CHECK(h.bytes == image);

    // Dead: with the marker in place, the first opener to look after the death takes over (and
    // only one does); before the marker, nobody can tell it from WinMMF's own write lock.
    fake_env later;
    later.death[creator.pid] = 10ms;
    const auto taken = protocol::attach(h.base(), sizeof h.bytes, opener, kind, 1s, 100ms, later, true);
    if (where == protocol::creation_step::marked) {
        REQUIRE(taken.error == errc{});
        CHECK(taken.must_initialize);
        CHECK(later.clock <= 10ms + 100ms);
        CHECK(h.p().init == protocol::pack(opener));
        // A second opener meanwhile waits for the taker, which is alive.
        fake_env second;
        second.death[creator.pid] = 0ns;
        CHECK(protocol::attach(h.base(), sizeof h.bytes, third, kind, 200ms, 100ms, second, true).error ==
              errc::timeout);
        CHECK(protocol::publish_ready(h.base(), opener, kind) == errc{});
        CHECK(protocol::attach(h.base(), sizeof h.bytes, third, kind, 200ms, 100ms, second, true).error == errc{});
        // The creator, had it been alive after all, finds init no longer its own.
        CHECK(protocol::publish_ready(h.base(), creator, kind) == kind.corrupt);
    } else {
        CHECK(taken.error == kind.foreign);
        CHECK(h.bytes == image);
    }
}

TEST_CASE("an opener that may not initialise reports a dead creator as uninitialized", "[section][init]")
{
    header_bytes h;
    fake_env env;
    REQUIRE(protocol::begin_creation(h.base(), sizeof h.bytes, creator, kind, env) == errc{});
    env.death[creator.pid] = 0ns;
    const auto before = h.bytes;
    CHECK(protocol::attach(h.base(), sizeof h.bytes, opener, kind, 1s, 100ms, env, false).error == errc::uninitialized);
    CHECK(h.bytes == before);
}

TEST_CASE("attach names every other state, and waits only for what a creator at work leaves", "[section][init]")
{
    struct row {
        std::uint32_t word0;
        std::uint32_t version;
        std::uint64_t init;
        errc expected;
        bool waits;
    };
    const row r = GENERATE(row{0, 0, 0, kind.foreign, true},                      // fresh, creator not started
                           row{protocol::lock_word::write_lock_mask, 0, 0, kind.foreign, true}, // a creator at step 1, or WinMMF
                           row{5, 0, 0, kind.foreign, false},                      // WinMMF readers
                           row{0xFF000000u, 0, 0, kind.foreign, false},            // WinMMF's creation
                           row{protocol::lock_word::robust_layout_marker, 0, 0, kind.foreign, false}, // another layout
                           row{0x12345678u, 0, 0, kind.not_winmmf, false},
                           row{kind.marker, 0, 0, kind.corrupt, false},             // no step leaves this
                           row{kind.marker, 0, std::uint64_t{1} << 62, kind.corrupt, false},
                           row{kind.marker, 6, protocol::ready_value(6), errc::unsupported_layout_version, false},
                           row{kind.marker, 0, protocol::ready_value(8), errc::unsupported_layout_version, false},
                           row{kind.marker, 9, 0x1234, errc::unsupported_layout_version, false},
                           row{kind.marker, 0, protocol::pack(creator), errc::timeout, true}); // live initialiser
    CAPTURE(r.word0, r.version, r.init);
    header_bytes h;
    h.p().marker = r.word0;
    h.p().version = r.version;
    h.p().init = r.init;
    const auto before = h.bytes;
    fake_env env;
    CHECK(protocol::attach(h.base(), sizeof h.bytes, opener, kind, 300ms, 100ms, env, true).error == r.expected);
    CHECK((env.clock >= 300ms) == r.waits);
    CHECK(env.clock <= 300ms + 1ms); // never past the deadline
    CHECK(h.bytes == before);
}

// ---- committed pages --------------------------------------------------------------------------

TEST_CASE("a view is accepted only when every page of it is committed and readable", "[section][commit]")
{
    using protocol::region_facts;
    constexpr std::uint32_t commit = 0x1000, reserve = 0x2000, readwrite = 0x04, readonly = 0x02;
    std::uint64_t total = 0;
    const std::array<region_facts, 1> one{{{commit, readwrite, 8192}}};
    CHECK(protocol::check_view_regions(one, total) == errc{});
    CHECK(total == 8192);
    const std::array<region_facts, 1> ro{{{commit, readonly, 4096}}};
    CHECK(protocol::check_view_regions(ro, total) == errc{});
    // A squatter's SEC_RESERVE section: every page reserved.
    const std::array<region_facts, 1> reserved{{{reserve, 0, 65536}}};
    CHECK(protocol::check_view_regions(reserved, total) == errc::uncommitted_view);
    // Committed in part: the header page readable, the rest would fault later.
    const std::array<region_facts, 2> partly{{{commit, readwrite, 4096}, {reserve, 0, 61440}}};
    CHECK(protocol::check_view_regions(partly, total) == errc::uncommitted_view);
    const std::array<region_facts, 1> guarded{{{commit, readwrite | 0x100, 4096}}};
    CHECK(protocol::check_view_regions(guarded, total) == errc::uncommitted_view);
    const std::array<region_facts, 1> noaccess{{{commit, 0x01, 4096}}};
    CHECK(protocol::check_view_regions(noaccess, total) == errc::uncommitted_view);
    CHECK(protocol::check_view_regions(std::span<const region_facts>{}, total) == errc::uncommitted_view);
    const std::array<region_facts, 2> two{{{commit, readwrite, 4096}, {commit, readwrite, 4096}}};
    CHECK(protocol::check_view_regions(two, total) == errc{});
    CHECK(total == 8192);
}
