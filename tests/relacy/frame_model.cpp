// tests/relacy/frame_model.cpp - the frame channel's per-slot sequence lock (protocol/frame.hpp)
// under Relacy: the shipped basic_channel_view over the real channel layout (header, control
// block, slot records, page-aligned payloads; a 64-byte "page" keeps it small), its words shadowed
// by rl::atomic and its frame bytes and metadata copied by racy_copy as relaxed rl::atomic words.
//
// One writer publishes frames 1..Frames into a channel of 3 slots (it laps the readers), the odd
// ones with write(), the even ones in place (begin_write, racy_copy into the slot, commit). Every
// word of frame n, and its metadata, says n. Readers take the newest frame, one with read_latest
// (a copy), one with peek_latest + a copy out of the slot + still_valid (zero-copy, as
// frame_view does). Checked:
//   - a reader never accepts a torn frame: every byte and every metadata field it accepted
//     belongs to the sequence it accepted;
//   - skipped counts are exact: sequences increase, skipped = sequence - previous - 1, and what
//     a reader took plus what it was told it skipped is every frame up to its last;
//   - a reader never sees a frame that was not published yet.
// Mutations (WINMMF_MUTATE): frame_begin_fence_dropped, frame_validate_fence_dropped (caught by
// the lapping models: a fence matters only when the writer comes back to a slot being copied),
// frame_commit_release_dropped, frame_observe_acquire_dropped.
#include "model.hpp"

#include <winmmf/protocol/frame.hpp>

namespace {

using namespace winmmf;
using namespace winmmf::model;
namespace fl = winmmf::protocol::frame_layout;
using view_t = fl::basic_channel_view<model_memory>;

constexpr std::uint32_t slots = 3;
constexpr std::uint64_t frame_bytes = 16;
constexpr std::uint64_t page = 64;

constexpr fl::geometry model_geometry()
{
    fl::geometry g;
    (void)fl::compute_geometry(frame_bytes, slots, page, g);
    return g;
}
constexpr fl::geometry geometry = model_geometry();
static_assert(geometry.total_size == 640 && geometry.slot_stride == 64);

template <unsigned Readers, unsigned Frames>
struct frame_model : rl::test_suite<frame_model<Readers, Frames>, static_cast<rl::thread_id_t>(Readers + 1)> {
    alignas(64) std::byte region[geometry.total_size]{};
    shadow_memory memory;
    view_t writer_view;
    std::uint64_t published = 0; // ghost: the newest frame commit() has returned from

    frame_model()
    {
        add_channel_words(memory, region, slots);
        auto* records = reinterpret_cast<fl::slot_record*>(region + fl::records_offset);
        for (std::uint32_t i = 0; i < slots; ++i) {
            memory.add_bytes(&records[i].size, sizeof(fl::slot_record) - offsetof(fl::slot_record, size));
            memory.add_bytes(region + geometry.data_offset + geometry.slot_stride * i, frame_bytes);
        }
        // The creator's step between the handshake's begin_creation and publish_ready.
        writer_view = view_t::initialize(region, geometry);
    }

    static frame_meta meta_of(std::uint64_t n)
    {
        frame_meta m;
        m.width = static_cast<std::uint32_t>(n);
        m.height = static_cast<std::uint32_t>(n + 1);
        m.stride = static_cast<std::uint32_t>(n + 2);
        m.timestamp = static_cast<std::int64_t>(10 * n);
        m.user_tag = n;
        return m;
    }

    void thread(unsigned index)
    {
        if (index == 0) {
            write_all();
        } else {
            read(index == 1);
        }
    }

    void write_all()
    {
        for (std::uint64_t n = 1; n <= Frames; ++n) {
            RL_ASSERT(writer_view.published() + 1 == n);
            const std::uint64_t words[2] = {n, n};
            if (n % 2 == 1) {
                writer_view.write(n, std::as_bytes(std::span(words)), static_cast<std::int64_t>(n), meta_of(n));
            } else {
                const std::span<std::byte> slot = writer_view.begin_write(n);
                model_memory::racy_copy(slot.data(), words, sizeof words);
                writer_view.commit(n, sizeof words, static_cast<std::int64_t>(n), meta_of(n));
            }
            published = n;
        }
    }

    void check(const frame_info& info, const std::uint64_t (&words)[2], std::uint64_t last)
    {
        const std::uint64_t n = info.sequence;
        RL_ASSERT(n > last && n <= published);
        RL_ASSERT(info.skipped == n - last - 1);
        RL_ASSERT(info.size == frame_bytes);
        RL_ASSERT(words[0] == n && words[1] == n); // not torn
        const frame_meta m = meta_of(n);
        RL_ASSERT(info.publish_time == static_cast<std::int64_t>(n));
        RL_ASSERT(info.meta.width == m.width && info.meta.height == m.height && info.meta.stride == m.stride);
        RL_ASSERT(info.meta.timestamp == m.timestamp && info.meta.user_tag == m.user_tag);
    }

    void read(bool copying)
    {
        view_t view;
        RL_ASSERT(view_t::attach(region, geometry.total_size, view) == errc{});
        std::uint64_t last = 0;
        std::uint64_t taken = 0;
        std::uint64_t skipped = 0;
        for (int attempt = 0; attempt < 4; ++attempt) {
            frame_info info;
            std::uint64_t retries = 0;
            std::uint64_t words[2] = {0, 0};
            bool got = false;
            if (copying) {
                const auto status = view.read_latest(last, std::as_writable_bytes(std::span(words)), info, retries);
                got = status == view_t::read_status::frame;
                RL_ASSERT(status != view_t::read_status::too_small);
            } else {
                std::uint32_t slot = 0;
                std::uint64_t stamp = 0;
                if (view.peek_latest(last, info, slot, stamp, retries) == view_t::read_status::frame) {
                    model_memory::racy_copy(words, view.payload(slot), info.size);
                    got = view.still_valid(slot, stamp);
                }
            }
            if (got) {
                check(info, words, last);
                skipped += info.skipped;
                ++taken;
                last = info.sequence;
            }
            if (last == Frames) {
                break;
            }
            rl::yield(1, RL_INFO);
        }
        RL_ASSERT(taken + skipped == last); // every frame up to the last was taken or counted
    }
};

template <class T>
bool run_model(const char* name, run_options o)
{
    return run<T>(name, o);
}

const std::array<entry, 4> models{{
    {"frame.writer_reader", &run_model<frame_model<1, 2>>, {search::random, 500000, 20000}},
    {"frame.writer_reader_lapping", &run_model<frame_model<1, 5>>, {search::random, 500000, 20000}},
    {"frame.writer_two_readers", &run_model<frame_model<2, 2>>, {search::random, 500000, 20000}},
    {"frame.writer_two_readers_lapping", &run_model<frame_model<2, 5>>, {search::random, 500000, 20000}},
}};

} // namespace

int main(int argc, char** argv)
{
    return main_of(argc, argv, models);
}
