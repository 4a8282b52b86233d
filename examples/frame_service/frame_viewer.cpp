// frame_viewer: finds the frame_service's channels through its index file and follows each
// one in a thread of its own: frames received and skipped, frame rate, latency, and a
// checksum check of every frame. It notices when the service stops (end of stream) or dies.
//
//   frame_viewer [--basename NAME | --index PATH] [--wait S] [--seconds S] [--min-frames N]
//                [--ready-event NAME]
//
//   --wait S         wait up to S seconds for the index file to appear (the service starting)
//   --seconds S      stop after S seconds (default: when every channel has ended)
//   --min-frames N   frames each channel must deliver for success (default 1)
//   --ready-event E  signal the named event E once every channel delivered N frames
//
// It opens the channels read-only (the service grants users read access to frames) and blocks
// in take() between frames: no spinning.
//
// Exit codes: 0 every channel delivered frames (at least --min-frames) and every checksum
// matched; 1 usage; 2 the index is missing or malformed, or a channel cannot be opened;
// 3 a checksum mismatch; 4 a channel delivered too few frames.
#include "index_file.hpp"
#include "options.hpp"
#include "synthetic.hpp"

#include <winmmf/frame_channel.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace frame_service;
using namespace std::chrono;

struct viewer_options {
    std::string index;         // path of the index file
    double wait = 0;           // for the index file to appear
    double seconds = 0;        // 0: until every channel ends
    std::uint64_t min_frames = 1;
    std::string ready_event;   // signalled once every channel delivered min_frames
};

struct channel_stats {
    std::string name;
    std::uint64_t received = 0;
    std::uint64_t skipped = 0;
    std::uint64_t bad_checksums = 0;
    double latency_sum_ms = 0;
    double latency_max_ms = 0;
    std::string ended;         // why the channel ended ("" while it runs)
    steady_clock::time_point first{};
    steady_clock::time_point last{};
};

bool parse(const std::vector<std::string>& args, viewer_options& v)
{
    std::string basename = options{}.basename;
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        const std::string& key = args[i];
        const std::string& value = args[i + 1];
        if (key == "--basename") {
            basename = value;
        } else if (key == "--index") {
            v.index = value;
        } else if (key == "--wait") {
            v.wait = std::stod(value);
        } else if (key == "--seconds") {
            v.seconds = std::stod(value);
        } else if (key == "--min-frames") {
            v.min_frames = std::stoull(value);
        } else if (key == "--ready-event") {
            v.ready_event = value;
        } else {
            return false;
        }
    }
    if (args.size() % 2 != 0) {
        return false;
    }
    // Seconds become clock durations: keep them where the conversion cannot overflow (or be NaN).
    const auto sane_seconds = [](double s) { return s >= 0 && s <= 1e6; };
    if (!sane_seconds(v.wait) || !sane_seconds(v.seconds)) {
        return false;
    }
    if (v.index.empty()) {
        options o;
        o.basename = basename;
        v.index = index_path(o);
    }
    return true;
}

void follow(winmmf::frame_reader& reader, const index_entry& entry, channel_stats& stats,
            const std::atomic<bool>& stop, std::atomic<unsigned>& ready_count, std::uint64_t min_frames)
{
    std::vector<std::byte> buffer(reader.max_frame_size());
    bool counted_ready = false;
    while (!stop.load(std::memory_order_acquire)) {
        std::error_code ec;
        const winmmf::frame_info info = reader.take(buffer, winmmf::acquire_mode::wait_for(milliseconds(200)), ec);
        if (ec == winmmf::errc::timeout) {
            continue;
        }
        if (ec == winmmf::errc::end_of_stream) {
            stats.ended = "end of stream (the service stopped)";
            return;
        }
        if (ec == winmmf::errc::writer_gone) {
            stats.ended = "the writer's process died";
            return;
        }
        if (ec) {
            stats.ended = "error: " + ec.message();
            return;
        }
        const auto now = steady_clock::now();
        if (stats.received == 0) {
            stats.first = now;
        }
        stats.last = now;
        ++stats.received;
        stats.skipped += info.skipped;
        const std::span<const std::byte> frame(buffer.data(), info.size);
        std::uint64_t embedded = 0;
        if (info.size >= sizeof embedded) {
            std::memcpy(&embedded, frame.data(), sizeof embedded);
        }
        if (info.size != entry.frame_size || checksum(frame) != info.meta.user_tag || embedded == 0) {
            ++stats.bad_checksums;
        }
        const double latency_ms =
            static_cast<double>(winmmf::frame_clock::now().time_since_epoch().count() - info.publish_time) / 1e6;
        stats.latency_sum_ms += latency_ms;
        stats.latency_max_ms = std::max(stats.latency_max_ms, latency_ms);
        if (!counted_ready && stats.received >= min_frames) {
            counted_ready = true;
            ready_count.fetch_add(1, std::memory_order_acq_rel);
        }
    }
    stats.ended = "viewer stopped";
}

} // namespace

int main()
{
    viewer_options v;
    bool parsed = false;
    try {
        parsed = parse(command_line(), v);
    } catch (const std::exception&) { // std::stod and friends on a malformed number
    }
    if (!parsed) {
        std::fprintf(stderr, "usage: frame_viewer [--basename NAME | --index PATH] [--wait S] [--seconds S] "
                             "[--min-frames N] [--ready-event NAME]\n(S: seconds from 0 to 1000000)\n");
        return 1;
    }
    const auto wait_until = steady_clock::now() + duration_cast<steady_clock::duration>(duration<double>(v.wait));
    while (::GetFileAttributesW(widen(v.index).c_str()) == INVALID_FILE_ATTRIBUTES &&
           steady_clock::now() < wait_until) {
        std::this_thread::sleep_for(milliseconds(100));
    }
    std::string error;
    const std::vector<index_entry> entries = read_index(v.index, error);
    if (!error.empty() || entries.empty()) {
        std::fprintf(stderr, "frame_viewer: %s\n", error.empty() ? ("no channels listed in " + v.index).c_str() : error.c_str());
        return 2;
    }

    std::vector<winmmf::frame_reader> readers;
    std::vector<channel_stats> stats(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        std::error_code ec;
        // Index names are full kernel names (Global\x), so they are used exactly as given.
        readers.push_back(winmmf::frame_reader::open(winmmf::custom(entries[i].mapping),
                                                     {.access = winmmf::access_mode::read_only}, ec));
        if (ec) {
            std::fprintf(stderr, "frame_viewer: cannot open %s: %s\n", entries[i].mapping.c_str(), ec.message().c_str());
            return 2;
        }
        stats[i].name = entries[i].mapping;
        std::printf("frame_viewer: following %s (%ux%u %s, %llu bytes per frame)\n", entries[i].mapping.c_str(),
                    entries[i].width, entries[i].height, std::string(to_string(entries[i].format)).c_str(),
                    static_cast<unsigned long long>(entries[i].frame_size));
    }
    std::fflush(stdout);

    std::atomic<bool> stop{false};
    std::atomic<unsigned> ready{0};
    std::atomic<unsigned> ended{0};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        threads.emplace_back([&, i] {
            follow(readers[i], entries[i], stats[i], stop, ready, v.min_frames);
            ended.fetch_add(1, std::memory_order_acq_rel);
        });
    }
    const auto deadline = v.seconds > 0 ? steady_clock::now() + duration_cast<steady_clock::duration>(duration<double>(v.seconds))
                                        : steady_clock::time_point::max();
    bool signalled = false;
    while (steady_clock::now() < deadline) {
        if (!signalled && !v.ready_event.empty() && ready.load() == entries.size()) {
            if (const HANDLE e = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, widen(v.ready_event).c_str())) {
                ::SetEvent(e);
                ::CloseHandle(e);
            }
            signalled = true;
        }
        if (ended.load(std::memory_order_acquire) == threads.size()) {
            break;
        }
        std::this_thread::sleep_for(milliseconds(50));
    }
    stop.store(true, std::memory_order_release);
    for (std::thread& t : threads) {
        t.join();
    }

    int result = 0;
    for (const channel_stats& s : stats) {
        const double seconds = duration<double>(s.last - s.first).count();
        const double fps = s.received > 1 && seconds > 0 ? static_cast<double>(s.received - 1) / seconds : 0;
        std::printf("frame_viewer: %s: %llu received, %llu skipped, %llu checksum failures, %.1f fps, "
                    "latency %.2f ms mean / %.2f ms max; %s\n",
                    s.name.c_str(), static_cast<unsigned long long>(s.received),
                    static_cast<unsigned long long>(s.skipped), static_cast<unsigned long long>(s.bad_checksums), fps,
                    s.received ? s.latency_sum_ms / static_cast<double>(s.received) : 0.0, s.latency_max_ms,
                    s.ended.c_str());
        if (s.bad_checksums != 0) {
            result = 3;
        } else if (s.received < v.min_frames && result == 0) {
            result = 4;
        }
    }
    return result;
}
