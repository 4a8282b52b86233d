// tests/relacy/section_model.cpp - the create/attach handshake every winmmf layout uses
// (protocol/section.hpp) under Relacy, with creators that die or stall at each creation step.
//
// The layout is the frame channel's (protocol/frame.hpp), as detail/section.hpp's
// establish_layout drives it: the creator runs begin_creation, writes the geometry
// (channel_view::initialize) and publishes; an opener runs attach, and if it took the creation
// over from a dead creator it writes the geometry and publishes itself; then it snapshots and
// checks the geometry (channel_view::attach). The robust lock's header goes through
// robust_word::initialize / attach in the last models. A creator that dies or stalls does so at a
// point the search chooses (after step 1, 3 or 4, or after the geometry, before publishing), and
// each opener starts at once or once the creator has marked the section or stopped (the search
// chooses again). Checked:
//   - a creator that is alive - however slow - is never taken over, and finishes its
//     publication; one that died after naming itself is taken over by at most one opener;
//   - an opener that is told "ready" sees the complete header (the geometry the creator wrote),
//     never a half-written one, and no opener ever reads a state no step writes (corrupt);
//   - a creator that died before its marker leaves a section that is refused, never adopted.
// Mutations (WINMMF_MUTATE): section_marker_release_dropped, section_ready_release_dropped,
// section_ready_acquire_dropped.
#include "model.hpp"

#include <winmmf/protocol/frame.hpp>
#include <winmmf/protocol/robust_word.hpp>
#include <winmmf/protocol/section.hpp>

namespace {

using namespace winmmf;
using namespace winmmf::model;
namespace fl = winmmf::protocol::frame_layout;
namespace rw = winmmf::protocol::robust_word;
using view_t = fl::basic_channel_view<model_memory>;
using protocol::creation_step;

constexpr fl::geometry model_geometry()
{
    fl::geometry g;
    (void)fl::compute_geometry(16, 3, 64, g);
    return g;
}
constexpr fl::geometry geometry = model_geometry();
// The channel's layout, with a distinct error for each refusal (the library's channel reports
// all three as wrong_layout), so that the model can tell "foreign" from "corrupt".
constexpr protocol::layout_kind kind{fl::layout.marker,  fl::layout.version,     fl::layout.ready,
                                     errc::wrong_layout, errc::not_winmmf_mapping, errc::corrupt_lock_word};

enum class fate : std::uint8_t { lives, dies, stalls };
enum class layout_of : std::uint8_t { channel, robust };
// Where a creator that dies or stalls stops: right after steps 1, 3 or 4 (creation_step), or
// after it wrote the geometry, before publish_ready. The search chooses one (rl::rand).
enum class stop : std::uint8_t { locked, claimed, marked, initialized };
constexpr const char* stop_names[] = {"locked", "claimed", "marked", "initialized"};

struct scenario {
    unsigned openers = 1;
    fate creator = fate::lives;
    layout_of layout = layout_of::channel;
};

template <scenario S>
struct section_model : rl::test_suite<section_model<S>, static_cast<rl::thread_id_t>(S.openers + 1)> {
    static constexpr std::chrono::nanoseconds max_wait = std::chrono::milliseconds(4);
    static constexpr std::chrono::nanoseconds bound = std::chrono::milliseconds(1);
    struct script;
    using env_t = process_env<script>;
    struct script {
        section_model* m;
        void at(env_t& env, creation_step s) { m->hook(env.self, s); }
        void at(env_t&, rw::step) {}
    };

    alignas(64) std::byte region[1024]{};
    shadow_memory memory;
    world w;
    script hooks{this};
    // ghost
    stop stops_at = stop::locked; // chosen by the creator at its start (dies / stalls only)
    bool creator_stopped = false; // it died or stalls now
    bool creator_dead = false;
    unsigned openers_done = 0;
    unsigned takeovers = 0;
    bool published = false;
    bool marked = false;

    section_model()
    {
        auto* h = reinterpret_cast<fl::channel_header*>(region);
        memory.add(h->marker);
        memory.add(h->version);
        memory.add(h->init);
        if (S.layout == layout_of::channel) {
            add_channel_words(memory, region, geometry.slot_count);
        } else {
            auto* r = reinterpret_cast<rw::header*>(region);
            memory.add(r->writer);
            memory.add(r->recoveries);
        }
    }

    void stop_or_stall(int self)
    {
        creator_stopped = true;
        if (S.creator == fate::dies) {
            creator_dead = true;
            covered().add(static_cast<std::size_t>(stops_at), stop_names[static_cast<std::size_t>(stops_at)],
                          "creator died at ");
            w.die(self);
        }
        covered().add(4 + static_cast<std::size_t>(stops_at), stop_names[static_cast<std::size_t>(stops_at)],
                      "creator stalled at ");
        while (openers_done < S.openers) {
            rl::yield(1, RL_INFO);
        }
    }

    void hook(int self, creation_step s)
    {
        if (self != 0) {
            return;
        }
        if (s == creation_step::marked) {
            marked = true;
        }
        if (S.creator != fate::lives && static_cast<unsigned>(s) == static_cast<unsigned>(stops_at)) {
            stop_or_stall(self);
        }
    }

    void thread(unsigned index)
    {
        const int self = static_cast<int>(index);
        if (setjmp(w.grave[index]) != 0) {
            return; // died
        }
        env_t env{&w, self, &hooks};
        if (index == 0) {
            if (S.creator != fate::lives) {
                stops_at = static_cast<stop>(rl::rand(S.layout == layout_of::robust ? 3 : 4));
            }
            create(env);
        } else {
            // The opener starts at once, or (the search chooses) only once the creator has put
            // its marker in place or stopped short of it. Relacy lets a thread read a stale value
            // of a word only until it first looked at it and paused, and a creator's steps 1-4
            // are some 25 Relacy steps (rest_is_zero reads the header), so an opener that starts
            // at once practically never meets the marker on its first look; a late one does.
            if (rl::rand(2) == 1) {
                covered().add(8, "late openers");
                while (!marked && !creator_stopped) {
                    rl::yield(1, RL_INFO);
                }
            }
            open(env);
            ++openers_done;
        }
    }

    void create(env_t& env)
    {
        const protocol::identity me = identity_of(0);
        if (S.layout == layout_of::robust) {
            RL_ASSERT(rw::initialize<model_memory>(*reinterpret_cast<rw::header*>(region), me, env) == errc{});
            published = true;
            return;
        }
        RL_ASSERT(protocol::begin_creation<model_memory>(region, geometry.data_offset, me, kind, env) == errc{});
        (void)view_t::initialize(region, geometry);
        if (S.creator != fate::lives && stops_at == stop::initialized) {
            stop_or_stall(0);
        }
        // A live creator is never overtaken: init still names it.
        RL_ASSERT(protocol::publish_ready<model_memory>(region, me, kind) == errc{});
        published = true;
    }

    void open(env_t& env)
    {
        const protocol::identity me = identity_of(env.self);
        if (S.layout == layout_of::robust) {
            const errc e = rw::attach<model_memory>(*reinterpret_cast<rw::header*>(region), me, max_wait, bound, env);
            RL_ASSERT(e == errc{} || e == errc::timeout || e == errc::wrong_lock_policy);
            RL_ASSERT(e != errc{} || published || takeovers != 0);
            return;
        }
        const protocol::attach_result r = protocol::attach<model_memory>(
            region, fl::records_offset, me, kind, max_wait, bound, env, true);
        // Never a state no step writes; never another version.
        RL_ASSERT(r.error == errc{} || r.error == errc::timeout || r.error == kind.foreign);
        // A live creator that does not stall always finishes: an opener that gave up on it can only
        // have run out of time (it saw no marker yet: foreign; or the marker: timeout).
        if (r.error != errc{}) {
            covered().add(9, "openers refused or timed out");
            return;
        }
        if (r.must_initialize) {
            RL_ASSERT(creator_dead); // only from a process that is certainly gone
            RL_ASSERT(++takeovers == 1);
            covered().add(10, "takeovers");
            (void)view_t::initialize(region, geometry);
            RL_ASSERT(protocol::publish_ready<model_memory>(region, me, kind) == errc{});
        }
        covered().add(11, "openers ready");
        // The header is complete for whoever is told it is ready.
        view_t view;
        RL_ASSERT(view_t::attach(region, geometry.total_size, view) == errc{});
        RL_ASSERT(view.shape().slot_count == geometry.slot_count && view.shape().total_size == geometry.total_size);
    }

    void after()
    {
        if (!creator_dead) {
            RL_ASSERT(published && takeovers == 0);
        }
        if (creator_dead && (stops_at == stop::locked || stops_at == stop::claimed)) {
            RL_ASSERT(takeovers == 0); // died before its marker: never adopted
        }
    }
};

template <class T>
bool run_model(const char* name, run_options o)
{
    return run<T>(name, o);
}

constexpr run_options random2{search::random, 200000, 20000};
constexpr run_options random3{search::random, 100000, 20000};

template <scenario S>
constexpr entry model(const char* name, run_options o)
{
    return {name, &run_model<section_model<S>>, o};
}

constexpr fate lives = fate::lives;
constexpr fate dies = fate::dies;
constexpr fate stalls = fate::stalls;
constexpr layout_of robust = layout_of::robust;

const std::array<entry, 8> models{{
    model<scenario{1, lives}>("section.creator_opener", random2),
    model<scenario{1, dies}>("section.creator_dies", random2),
    model<scenario{1, stalls}>("section.creator_stalls", random2),
    model<scenario{2, lives}>("section.creator_two_openers", random3),
    model<scenario{2, dies}>("section.creator_dies_two_openers", random3),
    model<scenario{2, stalls}>("section.creator_stalls_two_openers", random3),
    model<scenario{1, lives, robust}>("section.robust_header", random2),
    model<scenario{2, lives, robust}>("section.robust_header_two_openers", random3),
}};

} // namespace

int main(int argc, char** argv)
{
    return main_of(argc, argv, models);
}
