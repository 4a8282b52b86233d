// A frame channel from both ends (docs/how-to/share-a-frame.md). The writer and the reader
// would be two processes; here one process plays both, in the order two processes could take,
// so the test runs it alone.
// [snippet:include]
#include <winmmf/frame_channel.hpp>
using namespace std::chrono_literals;
// [end:include]

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

namespace {

std::uint64_t processed = 0;
std::uint64_t analysed = 0;

void capture_into(std::span<std::byte> out) { std::memset(out.data(), 0x42, out.size()); }
void process(std::span<const std::byte>, const winmmf::frame_meta&, std::uint64_t) { ++processed; }
void analyse(std::span<const std::byte>) { ++analysed; }

} // namespace

int main()
{
    const std::int64_t capture_time = winmmf::frame_clock::now().time_since_epoch().count();
    std::vector<std::byte> buffer(6'220'800, std::byte{0x17});
    const winmmf::frame_meta meta{.width = 1920, .height = 1080, .stride = 5760,
                                  .format = winmmf::pixel_format::rgb24, .timestamp = capture_time};

    // [snippet:writer-create]
    auto writer = winmmf::frame_writer::create(winmmf::local("cam0"),
        {.max_frame_size = winmmf::frame_size(1920, 1080, winmmf::pixel_format::rgb24), .slots = 3});
    // [end:writer-create]

    // [snippet:reader-open]
    auto reader = winmmf::frame_reader::open(winmmf::local("cam0"));
    std::vector<std::byte> frame(reader.max_frame_size());
    // [end:reader-open]

    // [snippet:writer-zero-copy]
    winmmf::writable_frame next = writer.begin_frame();    // zero copy: fill the frame in place
    capture_into(next.bytes());
    next.publish(6'220'800, {.width = 1920, .height = 1080, .stride = 5760,
                             .format = winmmf::pixel_format::rgb24, .timestamp = capture_time});
    // [end:writer-zero-copy]

    // [snippet:reader-in-place]
    winmmf::frame_view view = reader.acquire(winmmf::acquire_mode::wait_for(1s));
    analyse(view.bytes());
    if (!view.still_valid()) { /* the writer came back to this frame slot meanwhile: discard */ }
    // [end:reader-in-place]

    // [snippet:writer-copy]
    writer.publish(std::span(buffer), meta);                // or copy a frame in
    // [end:writer-copy]

    // [snippet:reader-poll]
    winmmf::frame_info polled;
    if (reader.try_take(frame, polled)) {                   // looks once; throws on an error
        process(std::span(frame).first(polled.size), polled.meta, polled.skipped);
    }
    std::error_code poll_ec;
    winmmf::frame_view in_place = reader.try_acquire(poll_ec);   // nothing new: empty, no error
    if (poll_ec) { /* writer_gone, end_of_stream, ... */ }
    // [end:reader-poll]
    if (in_place) {
        return 1; // nothing was published since the try_take
    }

    writer.publish(std::span(buffer), meta);
    // [snippet:writer-close]
    writer.close();                                         // end of stream
    // [end:writer-close]

    // [snippet:reader-loop]
    winmmf::cancel_token stop;                              // stop.cancel() from another thread
    const auto mode = winmmf::acquire_mode::wait_for(1s).with_cancel(stop);
    for (;;) {
        std::error_code ec;
        winmmf::frame_info info = reader.take(frame, mode, ec);
        if (ec == winmmf::errc::end_of_stream || ec == winmmf::errc::cancelled) break;
        if (ec == winmmf::errc::timeout) continue;          // no frame for a second
        if (ec) throw std::system_error(ec);                // writer_gone, frame_overwritten, ...
        process(std::span(frame).first(info.size), info.meta, info.skipped);
    }
    // [end:reader-loop]

    std::printf("analysed %llu in place, processed %llu copies, %llu taken, %llu skipped\n",
                static_cast<unsigned long long>(analysed), static_cast<unsigned long long>(processed),
                static_cast<unsigned long long>(reader.frames_taken()),
                static_cast<unsigned long long>(reader.frames_skipped()));
    return analysed == 1 && processed == 2 ? 0 : 1;
}
