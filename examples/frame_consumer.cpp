// frame_consumer: takes frames from a frame channel, verifies each one's checksum, and prints
// what it got: frames delivered, frames skipped, checksum failures, latency and throughput.
//
//   frame_consumer [--name winmmf-frames] [--id 1] [--wait 30]
//
// It waits up to --wait seconds for the channel to appear, then sleeps in the kernel between
// frames (no spinning) until the producer closes the channel. Exit code 0 only if it received
// frames and every checksum matched.
#include <winmmf/frame_channel.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct options {
    std::string name = "winmmf-frames";
    int id = 1;
    int wait_seconds = 30;
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
        } else if (arg == "--id") {
            o.id = std::atoi(value);
        } else if (arg == "--wait") {
            o.wait_seconds = std::atoi(value);
        } else {
            return false;
        }
    }
    return true;
}

// The producer's checksum (frame_producer.cpp), over what arrived.
std::uint64_t checksum(std::span<const std::byte> frame, std::uint64_t sequence)
{
    std::uint64_t sum = 0xcbf29ce484222325ull ^ sequence;
    std::size_t i = 0;
    for (; i + 8 <= frame.size(); i += 8) {
        std::uint64_t word;
        std::memcpy(&word, frame.data() + i, 8);
        sum = (sum ^ word) * 0x100000001b3ull;
    }
    for (; i < frame.size(); ++i) {
        sum = (sum ^ static_cast<std::uint64_t>(frame[i])) * 0x100000001b3ull;
    }
    return sum;
}

double percentile(std::vector<double>& v, double p)
{
    if (v.empty()) {
        return 0;
    }
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

void print_latency(int id, const char* what, std::vector<double>& ms)
{
    if (ms.empty()) {
        return;
    }
    double mean = 0;
    for (double l : ms) {
        mean += l;
    }
    mean /= static_cast<double>(ms.size());
    const double p50 = percentile(ms, 0.50);
    const double p99 = percentile(ms, 0.99);
    const double worst = *std::max_element(ms.begin(), ms.end());
    std::printf("consumer %d: %s mean %.2f ms, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", id, what, mean,
                p50, p99, worst);
}

} // namespace

int main(int argc, char** argv)
{
    using namespace std::chrono;
    options o;
    if (!parse(argc, argv, o)) {
        std::fprintf(stderr, "usage: frame_consumer [--name N] [--id I] [--wait SECONDS]\n");
        return 2;
    }
    try {
        // [snippet:open-retry]
        // The producer may not have created the channel yet.
        winmmf::frame_reader reader;
        const auto give_up = steady_clock::now() + seconds(o.wait_seconds);
        for (;;) {
            std::error_code ec;
            // Read access to the frames is all a consumer needs, even to sleep between them:
            // it waits on the channel's notification sibling, "<name>#<nonce>", not in the frames.
            reader = winmmf::frame_reader::open(winmmf::local(o.name),
                                                {.access = winmmf::access_mode::read_only}, ec);
            if (!ec) {
                break;
            }
            if (ec != winmmf::errc::not_found || steady_clock::now() > give_up) {
                std::fprintf(stderr, "consumer %d: cannot open %s: %s\n", o.id, o.name.c_str(),
                             ec.message().c_str());
                return 1;
            }
            ::Sleep(20);
        }
        // [end:open-retry]

        std::vector<std::byte> frame(reader.max_frame_size());
        std::vector<double> latency_ms;  // captured (producer, before rendering) -> copied here
        std::vector<double> transfer_ms; // published (writer) -> copied here
        latency_ms.reserve(1 << 16);
        transfer_ms.reserve(1 << 16);
        std::uint64_t failures = 0;
        std::uint64_t bytes = 0;
        std::int64_t first_at = 0;
        std::int64_t last_at = 0;
        std::string ended = "end of stream";
        for (;;) {
            std::error_code ec;
            const winmmf::frame_info info =
                reader.take(frame, winmmf::acquire_mode::wait_for(seconds(o.wait_seconds)), ec);
            if (ec) {
                if (ec != winmmf::errc::end_of_stream) {
                    ended = ec.message();
                }
                break;
            }
            const std::int64_t now = winmmf::frame_clock::now().time_since_epoch().count();
            latency_ms.push_back(static_cast<double>(now - info.meta.timestamp) / 1e6);
            transfer_ms.push_back(static_cast<double>(now - info.publish_time) / 1e6);
            if (checksum(std::span(frame.data(), info.size), info.sequence) != info.meta.user_tag) {
                ++failures;
            }
            if (first_at == 0) {
                first_at = now;
            }
            last_at = now;
            bytes += info.size;
        }

        const std::uint64_t delivered = reader.frames_taken();
        const double span_s = static_cast<double>(last_at - first_at) / 1e9;
        std::printf("consumer %d: %llu frames delivered, %llu skipped, %llu checksum failures (%s)\n", o.id,
                    static_cast<unsigned long long>(delivered),
                    static_cast<unsigned long long>(reader.frames_skipped()),
                    static_cast<unsigned long long>(failures), ended.c_str());
        print_latency(o.id, "end-to-end latency (capture->copied)", latency_ms);
        print_latency(o.id, "channel latency (publish->copied)", transfer_ms);
        if (delivered > 1 && span_s > 0) {
            std::printf("consumer %d: throughput %.1f frames/s, %.0f MB/s\n", o.id,
                        static_cast<double>(delivered - 1) / span_s,
                        static_cast<double>(bytes) * static_cast<double>(delivered - 1) /
                            static_cast<double>(delivered) / span_s / 1e6);
        }
        return delivered > 0 && failures == 0 ? 0 : 1;
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "consumer %d: %s\n", o.id, e.what());
        return 1;
    }
}
