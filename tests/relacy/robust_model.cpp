// tests/relacy/robust_model.cpp - the robust lock (protocol/robust_word.hpp) under Relacy: the
// shipped lock_exclusive / lock_shared / unlock_* / recover_dead over the real 1 KiB header, its
// used words shadowed by rl::atomic, with processes that die.
//
// A process dies at one of the step hooks (robust_word::step: the points where a death leaves a
// state that is neither before nor after an operation), or while it holds the lock: model.hpp's
// world longjmps out of the protocol call, so nothing after that point runs, and its liveness
// turns false. Where a model lists several death points for a process, the search chooses one
// per iteration (rl::rand), so the two-process models cover a death at every hook the process
// passes, and the output counts the deaths at each. The survivors wait with spin_forever and must recover it (a survivor that never
// gets the lock is a LIVELOCK). Checked, with ghost state changed in the same Relacy step as the
// exchange it mirrors:
//   - exclusion: a writer gets the lock only with nobody inside; a reader only with no writer;
//   - owner_dead exactly once per death: an acquirer is told owner_dead exactly while a writer
//     that died holding the lock has not been followed by a writer's normal unlock, so the first
//     writer after the death is told, and nobody after it;
//   - the data (an rl::var the writers increment) is never raced: what a dead holder wrote is
//     ordered before the next holder by the liveness answer and the recovery's exchanges;
//   - no lost unlock, no leaked slot: after a last recovery scan the header is free again;
//   - in the try_once models (robust.try_*): readers share (a reader is refused only for a
//     writer's claim, never read_locked), and every refusal names what the words held at some
//     moment of the call: write_locked only with a writer's claim in the writer word,
//     read_locked only with a reader's summary bit set.
// Mutations (WINMMF_MUTATE): robust_unlock_release_dropped, robust_reader_recheck_acquire,
// robust_writer_summary_acquire, robust_reader_leave_relaxed.
#include "model.hpp"

#include <winmmf/protocol/robust_word.hpp>

#include <bit>

namespace {

using namespace winmmf;
using namespace winmmf::model;
namespace rw = winmmf::protocol::robust_word;

enum class role : std::uint8_t { writer, reader };
enum class death : std::uint8_t {
    none,
    writer_claimed,
    writer_waiting,
    reader_claimed,
    reader_published,
    reader_leaving,
    reclaim_started,
    reclaim_unpublished,
    reclaim_freed,
    holding, // after the lock call returned, before the unlock
};

constexpr death death_at(rw::step s) noexcept
{
    switch (s) {
    case rw::step::writer_claimed:
        return death::writer_claimed;
    case rw::step::writer_waiting:
        return death::writer_waiting;
    case rw::step::reader_claimed:
        return death::reader_claimed;
    case rw::step::reader_published:
        return death::reader_published;
    case rw::step::reader_leaving:
        return death::reader_leaving;
    case rw::step::reclaim_started:
        return death::reclaim_started;
    case rw::step::reclaim_unpublished:
        return death::reclaim_unpublished;
    case rw::step::reclaim_freed:
        return death::reclaim_freed;
    }
    return death::none;
}

// A set of death points; a thread with more than one lets the search choose (rl::rand), so one
// model covers a death at each of them.
using deaths_t = std::uint16_t;
constexpr deaths_t at(death d) noexcept { return static_cast<deaths_t>(1u << static_cast<unsigned>(d)); }
constexpr deaths_t operator|(death a, death b) noexcept { return static_cast<deaths_t>(at(a) | at(b)); }
constexpr deaths_t operator|(deaths_t a, death b) noexcept { return static_cast<deaths_t>(a | at(b)); }
constexpr deaths_t never = 0;

constexpr const char* death_names[] = {"none", "writer_claimed", "writer_waiting", "reader_claimed", "reader_published",
                                       "reader_leaving", "reclaim_started", "reclaim_unpublished", "reclaim_freed",
                                       "holding"};

struct scenario {
    unsigned threads = 2;
    role roles[3] = {role::writer, role::writer, role::writer};
    deaths_t deaths[3] = {never, never, never}; // thread i dies the first time it gets to (one of) these
    // try_once, up to `tries` times, instead of spin_forever: every refusal must name a reason
    // that was in the words during the call (readers share; only a writer's claim keeps a reader
    // out; only a writer's claim or a published reader keeps a writer out).
    int tries = 0;
};

template <scenario S>
struct robust_model : rl::test_suite<robust_model<S>, static_cast<rl::thread_id_t>(S.threads)> {
    static constexpr std::chrono::nanoseconds bound = std::chrono::milliseconds(1);
    struct script;
    using env_t = process_env<script>;

    struct script {
        robust_model* m;
        void at(env_t& env, rw::step s)
        {
            m->observe(env.self, s);
            m->maybe_die(env.self, death_at(s));
        }
    };

    alignas(64) rw::header h{};
    shadow_memory memory;
    world w;
    rl::var<int> data;
    script hooks{this};
    // ghost
    int writers_inside = 0;
    int readers_inside = 0;
    bool dirty_now = false; // a writer died holding the lock, and no writer has unlocked since
    int writes = 0;
    std::array<bool, 3> died{};
    std::array<bool, 3> holding{};
    std::array<death, 3> fate{}; // where thread i dies in this iteration (chosen at its start)
    // What the words say, for the try_once models' refusals. Changed at the step hooks and after
    // the calls, that is right after the exchange that changed the word.
    int claims = 0;                // writers whose claim is in the writer word (held or pending)
    int published = 0;             // readers whose summary bit is set
    std::array<int, 3> claimed{};  // claims made by thread i, ever
    int publications = 0;          // summary bits set, ever
    std::array<bool, 3> claiming{};

    robust_model()
    {
        // A ready header, as robust_word::initialize leaves it (section_model.cpp checks that).
        h.marker = protocol::lock_word::robust_layout_marker;
        h.version = rw::layout_version;
        h.init = rw::ready_value;
        memory.add(h.marker);
        memory.add(h.version);
        memory.add(h.init);
        memory.add(h.writer);
        memory.add(h.recoveries);
        memory.add(h.occupied[0]);
        memory.add(h.occupied[1]);
        for (std::size_t i = 0; i < 5; ++i) {
            memory.add(h.readers[i]);
        }
    }

    void before() { data(RL_INFO) = 0; }

    // One of the death points in `set`, chosen by the search (a choice point Relacy enumerates).
    static death choose(deaths_t set)
    {
        const auto n = static_cast<unsigned>(std::popcount(set));
        if (n == 0) {
            return death::none;
        }
        unsigned k = n == 1 ? 0 : rl::rand(n);
        for (unsigned d = 0;; ++d) {
            if ((set & (1u << d)) != 0 && k-- == 0) {
                return static_cast<death>(d);
            }
        }
    }

    void observe(int self, rw::step s)
    {
        const auto i = static_cast<std::size_t>(self);
        if (s == rw::step::writer_claimed) {
            ++claims;
            ++claimed[i];
            claiming[i] = true;
        } else if (s == rw::step::reader_published) {
            ++published;
            ++publications;
        } else if (s == rw::step::reader_leaving) {
            --published;
        }
    }
    // The writer's claim is gone (its unlock, or the call's abandon, just returned).
    void unclaim(std::size_t i)
    {
        if (claiming[i]) {
            claiming[i] = false;
            --claims;
        }
    }
    int claims_by_others(std::size_t i) const { return claimed[0] + claimed[1] + claimed[2] - claimed[i]; }

    void maybe_die(int self, death where)
    {
        const auto i = static_cast<std::size_t>(self);
        if (died[i] || fate[i] != where || where == death::none) {
            return;
        }
        died[i] = true;
        covered().add(4 + static_cast<std::size_t>(where), death_names[static_cast<std::size_t>(where)], "died at ");
        if (holding[i]) {
            if (S.roles[i] == role::writer) {
                --writers_inside;
                dirty_now = true; // held_bit is in the word: recovery marks it dirty
            } else {
                --readers_inside;
            }
            holding[i] = false;
        } else if (where == death::writer_claimed) {
            dirty_now = true; // the claim carries held_bit already
        }
        w.die(self);
    }

    void thread(unsigned index)
    {
        const int self = static_cast<int>(index);
        if (setjmp(w.grave[index]) != 0) {
            return; // died
        }
        fate[index] = choose(S.deaths[index]);
        env_t env{&w, self, &hooks};
        const protocol::identity me = identity_of(self);
        const acquire_mode mode = S.tries != 0 ? acquire_mode::try_once() : acquire_mode::spin_forever();
        for (int attempt = 0; attempt < (S.tries != 0 ? S.tries : 1); ++attempt) {
            if (attempt != 0) {
                rl::yield(1, RL_INFO);
            }
            // What the words held when the call started, and the claims and bits made since.
            const int claims_before = claims - (claiming[index] ? 1 : 0);
            const int others_claimed = claims_by_others(index);
            const int published_before = published;
            const int publications_before = publications;
            const bool writer = S.roles[index] == role::writer;
            const rw::lock_result r = writer ? rw::lock_exclusive<model_memory>(h, me, mode, bound, env)
                                             : rw::lock_shared<model_memory>(h, me, index, mode, bound, env);
            if (writer && r.error != errc{}) {
                unclaim(index); // lock_exclusive gave its claim back before it returned
            }
            if (r.error == errc{}) {
                if (writer) {
                    hold_exclusive(self, me, r);
                } else {
                    hold_shared(self, me, r, env);
                }
                return;
            }
            RL_ASSERT(S.tries != 0); // spin_forever never gives up
            const bool writer_claim_seen = claims_before > 0 || claims_by_others(index) > others_claimed;
            const bool reader_seen = published_before > 0 || publications > publications_before;
            if (r.error == errc::write_locked) {
                covered().add(14, "refused write_locked");
                RL_ASSERT(writer_claim_seen);
            } else if (r.error == errc::read_locked) {
                covered().add(15, "refused read_locked");
                RL_ASSERT(writer && reader_seen); // readers share
            } else {
                RL_ASSERT(!"a try refused for a reason that is not in the words");
            }
        }
    }

    void hold_exclusive(int self, protocol::identity me, const rw::lock_result& r)
    {
        const auto index = static_cast<std::size_t>(self);
        RL_ASSERT(writers_inside == 0 && readers_inside == 0);
        RL_ASSERT(r.owner_died == dirty_now);
        if (r.owner_died) {
            covered().add(2, "owner_dead (writers)");
        }
        ++writers_inside;
        holding[index] = true;
        data(RL_INFO) = data(RL_INFO) + 1;
        ++writes;
        maybe_die(self, death::holding);
        --writers_inside;
        holding[index] = false;
        dirty_now = false; // this unlock declares the data consistent
        RL_ASSERT(rw::unlock_exclusive<model_memory>(h, me) == errc{});
        unclaim(index);
    }

    void hold_shared(int self, protocol::identity me, const rw::lock_result& r, env_t& env)
    {
        const auto index = static_cast<std::size_t>(self);
        RL_ASSERT(writers_inside == 0);
        RL_ASSERT(r.owner_died == dirty_now);
        if (r.owner_died) {
            covered().add(3, "owner_dead (readers)");
        }
        ++readers_inside;
        holding[index] = true;
        const int seen = data(RL_INFO);
        RL_ASSERT(seen >= 0 && seen <= writes);
        maybe_die(self, death::holding);
        --readers_inside;
        holding[index] = false;
        RL_ASSERT(rw::unlock_shared<model_memory>(h, me, r.slot, env) == errc{});
    }

    void after()
    {
        RL_ASSERT(writers_inside == 0 && readers_inside == 0);
        // A last scan by a fourth, live process clears whatever the dead left behind.
        env_t env{&w, 3, nullptr};
        const rw::snapshot before_scan = rw::inspect<model_memory>(h);
        if (before_scan.recoveries != 0) {
            covered().add(1, "iterations with a recovery by a survivor");
        }
        (void)rw::detail::recover_dead<model_memory>(h, rw::pack(identity_of(3)), env);
        const rw::snapshot s = rw::inspect<model_memory>(h);
        RL_ASSERT(!s.corrupt);
        RL_ASSERT(s.writer == (dirty_now ? rw::dirty_bit : 0)); // no lost unlock
        RL_ASSERT(s.readers == 0);                                // no leaked slot
        RL_ASSERT(s.occupied[0] == 0 && s.occupied[1] == 0);
        RL_ASSERT(data(RL_INFO) == writes);
    }
};

template <class T>
bool run_model(const char* name, run_options o)
{
    return run<T>(name, o);
}

constexpr role W = role::writer;
constexpr role R = role::reader;
constexpr run_options random2{search::random, 200000, 20000};
// Full search where it finishes (two writers); random search with a fixed seed elsewhere.
constexpr run_options full{search::full, 0, 20000};
constexpr run_options random2_deaths{search::random, 300000, 20000};
constexpr run_options random3{search::random, 100000, 20000};
constexpr int tries = 3;

template <scenario S>
constexpr entry model(const char* name, run_options o)
{
    return {name, &run_model<robust_model<S>>, o};
}

const std::array<entry, 19> models{{
    // two processes; a dying one dies at a point the search chooses among those listed
    model<scenario{2, {W, W}, {never}}>("robust.writer_writer", full),
    model<scenario{2, {W, R}, {never}}>("robust.writer_reader", random2),
    model<scenario{2, {W, W}, {death::writer_claimed | death::holding}}>("robust.writer_dies", full),
    model<scenario{2, {W, R}, {death::writer_claimed | death::writer_waiting | death::holding}}>(
        "robust.writer_dies_reader", random2_deaths),
    model<scenario{2, {R, W}, {death::reader_claimed | death::reader_published | death::reader_leaving | death::holding}}>(
        "robust.reader_dies", random2_deaths),
    // try_once: readers share, and every refusal names what was in the words
    model<scenario{2, {W, W}, {never}, tries}>("robust.try_writer_writer", full),
    model<scenario{2, {W, R}, {never}, tries}>("robust.try_writer_reader", random2),
    // three processes
    model<scenario{3, {W, R, R}, {never}, tries}>("robust.try_writer_reader_reader", random3),
    model<scenario{3, {W, W, R}, {never}, tries}>("robust.try_writer_writer_reader", random3),
    model<scenario{3, {W, W, R}, {never}}>("robust.writer_writer_reader", random3),
    model<scenario{3, {W, W, R}, {at(death::writer_claimed)}}>("robust.3_writer_dies_claimed", random3),
    model<scenario{3, {W, W, R}, {at(death::writer_waiting)}}>("robust.3_writer_dies_waiting", random3),
    model<scenario{3, {W, W, R}, {at(death::holding)}}>("robust.3_writer_dies_holding", random3),
    model<scenario{3, {R, W, R}, {at(death::reader_published)}}>("robust.3_reader_dies_published", random3),
    model<scenario{3, {R, W, R}, {at(death::reader_leaving)}}>("robust.3_reader_dies_leaving", random3),
    model<scenario{3, {R, W, R}, {at(death::holding)}}>("robust.3_reader_dies_holding", random3),
    // a reader dies holding; the writer that clears its slot dies half-way; the last one finishes
    model<scenario{3, {R, W, W}, {at(death::holding), at(death::reclaim_started)}}>("robust.recoverer_dies_started",
                                                                                    random3),
    model<scenario{3, {R, W, W}, {at(death::holding), at(death::reclaim_unpublished)}}>(
        "robust.recoverer_dies_unpublished", random3),
    model<scenario{3, {R, W, W}, {at(death::holding), at(death::reclaim_freed)}}>("robust.recoverer_dies_freed",
                                                                                  random3),
}};

} // namespace

int main(int argc, char** argv)
{
    return main_of(argc, argv, models);
}
