// frame_producer: publishes synthetic 1920x1080 RGB frames on a frame channel at a steady
// rate, as a camera capture service would. Run frame_consumer in other processes to take them.
//
//   frame_producer [--name winmmf-frames] [--fps 60] [--seconds 8] [--readers 2]
//                  [--width 1920] [--height 1080] [--slots 3]
//
// Each frame is rendered in place into the channel's slot (zero copy), its checksum travels
// in frame_meta::user_tag, and its capture time in frame_meta::timestamp (frame_clock, which
// every process on the machine shares), so consumers can verify every byte and measure the
// latency. The producer waits (up to 30 s) until --readers consumers are blocked waiting for
// the first frame, then never waits for anybody again; closing the channel at the end tells
// the consumers the stream is over.
#include <winmmf/frame_channel.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace {

struct options {
    std::string name = "winmmf-frames";
    double fps = 60;
    double seconds = 8;
    unsigned readers = 2;
    std::uint32_t width = 1920;
    std::uint32_t height = 1080;
    std::uint32_t slots = 3;
};

bool parse(int argc, char** argv, options& o)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) {
            return false;
        }
        const char* value = argv[++i];
        if (arg == "--name") {
            o.name = value;
        } else if (arg == "--fps") {
            o.fps = std::atof(value);
        } else if (arg == "--seconds") {
            o.seconds = std::atof(value);
        } else if (arg == "--readers") {
            o.readers = static_cast<unsigned>(std::atoi(value));
        } else if (arg == "--width") {
            o.width = static_cast<std::uint32_t>(std::atoi(value));
        } else if (arg == "--height") {
            o.height = static_cast<std::uint32_t>(std::atoi(value));
        } else if (arg == "--slots") {
            o.slots = static_cast<std::uint32_t>(std::atoi(value));
        } else {
            return false;
        }
    }
    return o.fps > 0 && o.seconds > 0 && o.width > 0 && o.height > 0;
}

// A moving diagonal gradient, written 8 bytes at a time, with a checksum of the words as they
// are written (so the producer never reads the frame back). frame_consumer computes the same
// checksum over what it received.
std::uint64_t render(std::span<std::byte> out, std::uint64_t sequence)
{
    std::uint64_t sum = 0xcbf29ce484222325ull ^ sequence;
    const std::uint64_t step = 0x0101010101010101ull * (sequence % 251 + 1);
    std::uint64_t word = sequence * 0x9E3779B97F4A7C15ull;
    std::size_t i = 0;
    for (; i + 8 <= out.size(); i += 8) {
        word += step;
        std::memcpy(out.data() + i, &word, 8);
        sum = (sum ^ word) * 0x100000001b3ull;
    }
    for (; i < out.size(); ++i) {
        out[i] = static_cast<std::byte>(sequence + i);
        sum = (sum ^ static_cast<std::uint64_t>(out[i])) * 0x100000001b3ull;
    }
    return sum;
}

} // namespace

int main(int argc, char** argv)
{
    using namespace std::chrono;
    options o;
    if (!parse(argc, argv, o)) {
        std::fprintf(stderr, "usage: frame_producer [--name N] [--fps F] [--seconds S] [--readers R] "
                             "[--width W] [--height H] [--slots K]\n");
        return 2;
    }
    try {
        const std::uint32_t stride = o.width * 3;
        const std::size_t size = winmmf::frame_size(o.width, o.height, winmmf::pixel_format::rgb24);
        auto writer = winmmf::frame_writer::create(winmmf::local(o.name), {.max_frame_size = size, .slots = o.slots});
        std::printf("producer: channel %s, %ux%u RGB (%zu bytes a frame), %u slots, %.0f fps for %.0f s\n",
                    writer.name().to_utf8().c_str(), o.width, o.height, size, writer.slot_count(), o.fps,
                    o.seconds);
        std::fflush(stdout);

        if (o.readers > 0) {
            std::printf("producer: waiting for %u consumers\n", o.readers);
            std::fflush(stdout);
            const auto give_up = steady_clock::now() + seconds(30);
            while (writer.waiting() < o.readers) {
                if (steady_clock::now() > give_up) {
                    std::fprintf(stderr, "producer: only %zu of %u consumers arrived; starting anyway\n",
                                 writer.waiting(), o.readers);
                    break;
                }
                ::Sleep(10);
            }
        }

        const auto period = duration_cast<steady_clock::duration>(duration<double>(1.0 / o.fps));
        const auto frames = static_cast<std::uint64_t>(o.fps * o.seconds);
        const auto start = steady_clock::now();
        auto next = start;
        std::uint64_t late = 0;
        for (std::uint64_t n = 0; n < frames; ++n) {
            const std::int64_t captured = winmmf::frame_clock::now().time_since_epoch().count();
            winmmf::writable_frame slot = writer.begin_frame();
            const std::uint64_t checksum = render(slot.bytes().first(size), slot.sequence());
            slot.publish(size, {.width = o.width, .height = o.height, .stride = stride,
                                .format = winmmf::pixel_format::rgb24, .timestamp = captured,
                                .user_tag = checksum});
            next += period;
            const auto now = steady_clock::now();
            if (now < next) {
                ::Sleep(static_cast<DWORD>(duration_cast<milliseconds>(next - now).count()));
            } else if (now - next > period) {
                ++late;
                next = now; // fell behind (a busy machine): do not burst to catch up
            }
        }
        const double elapsed = duration<double>(steady_clock::now() - start).count();
        const std::uint64_t published = writer.published();
        writer.close();
        std::printf("producer: published %llu frames in %.2f s (%.1f fps, %.0f MB/s), %llu late ticks; "
                    "channel closed\n",
                    static_cast<unsigned long long>(published), elapsed, static_cast<double>(frames) / elapsed,
                    static_cast<double>(frames) * static_cast<double>(size) / elapsed / 1e6,
                    static_cast<unsigned long long>(late));
        return 0;
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "producer: %s\n", e.what());
        return 1;
    }
}
