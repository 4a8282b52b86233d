// frame_viewer: finds the frame_service's channels through its index file and follows each
// one in a thread of its own: frames received and skipped, frame rate, latency, and a
// checksum check of every frame. It notices when the service stops (end of stream) or dies.
// It shows the picture too: in a window, or as an image file.
//
//   frame_viewer [--basename NAME | --index PATH] [--wait S] [--seconds S] [--min-frames N]
//                [--ready-event NAME] [--window] [--snapshot FILE.png|FILE.bmp] [--channel I]
//
//   --wait S         wait up to S seconds for the index file to appear (the service starting)
//   --seconds S      stop after S seconds (default: when every channel has ended; with
//                    --window, when the window is closed; with --snapshot, 30 s for a frame)
//   --min-frames N   frames each channel must deliver for success (default 1)
//   --ready-event E  signal the named event E once every channel delivered N frames
//   --window         show channel I in a window (GDI), frame rate and latency in its title; after
//                    the stream ends it keeps showing the last frame until closed (or --seconds)
//   --snapshot FILE  write the next frame of channel I as PNG or BMP (WIC) and exit
//   --channel I      which channel of the index --window and --snapshot show (default 0)
//
// Every format the service publishes is shown: NV12 and YUY2 are converted to RGB (BT.601,
// limited range: pixel_formats.hpp).
//
// It opens the channels read-only (the service grants users read access to frames) and blocks
// in take() between frames: no spinning.
//
// Exit codes: 0 every channel delivered frames (at least --min-frames) and every checksum
// matched; 1 usage; 2 the index is missing or malformed, or a channel cannot be opened;
// 3 a checksum mismatch; 4 a channel delivered too few frames; 5 no snapshot (no frame in
// time, or the image could not be written) or no window.
#include "win.hpp"
#include "index_file.hpp"
#include "options.hpp"
#include "picture.hpp"
#include "pixel_formats.hpp"
#include "synthetic.hpp"

#include <winmmf/frame_channel.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
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
    bool window = false;
    std::string snapshot;      // image file to write
    std::size_t channel = 0;   // the channel --window and --snapshot show
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

// What the window shows of its channel, shared between the channel's thread and the window's.
struct window_feed {
    picture_window* window = nullptr;
    std::atomic<std::uint64_t> frames{0};
    std::atomic<std::int64_t> latency_ns{0};   // of the latest frame
    std::atomic<std::uint64_t> shown_sequence{0};
    std::atomic<std::int64_t> shown_timestamp{0};
    steady_clock::time_point last_shown{};
};

// A frame as the window's picture; false for a format it cannot show.
bool make_picture(const winmmf::frame_info& info, std::span<const std::byte> frame, picture& p)
{
    p.width = info.meta.width;
    p.height = info.meta.height;
    p.bgra.resize(std::size_t{p.width} * p.height * 4);
    return to_bgra(info.meta.format, info.meta.width, info.meta.height, info.meta.stride, frame, p.bgra);
}

bool parse(const std::vector<std::string>& args, viewer_options& v)
{
    std::string basename = options{}.basename;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& key = args[i];
        if (key == "--window") {
            v.window = true;
            continue;
        }
        if (i + 1 >= args.size()) {
            return false;
        }
        const std::string& value = args[++i];
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
        } else if (key == "--snapshot") {
            v.snapshot = value;
        } else if (key == "--channel") {
            v.channel = static_cast<std::size_t>(std::stoul(value));
        } else {
            return false;
        }
    }
    // Seconds become clock durations: keep them where the conversion cannot overflow (or be NaN).
    const auto sane_seconds = [](double s) { return s >= 0 && s <= 1e6; };
    if (!sane_seconds(v.wait) || !sane_seconds(v.seconds) || (v.window && !v.snapshot.empty())) {
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
            const std::atomic<bool>& stop, std::atomic<unsigned>& ready_count, std::uint64_t min_frames,
            window_feed* feed)
{
    std::vector<std::byte> buffer(reader.max_frame_size());
    bool counted_ready = false;
    winmmf::frame_info latest{};
    // The window gets at most ~60 pictures a second (each is a conversion); the last frame of a
    // stream is always shown.
    const auto show = [&](const winmmf::frame_info& info) {
        picture p;
        if (feed != nullptr && make_picture(info, {buffer.data(), info.size}, p)) {
            feed->shown_sequence.store(info.sequence);
            feed->shown_timestamp.store(info.meta.timestamp);
            feed->window->show(std::move(p));
            feed->last_shown = steady_clock::now();
        }
    };
    const auto show_last = [&] {
        if (feed != nullptr && latest.sequence != 0 && feed->shown_sequence.load() != latest.sequence) {
            show(latest);
        }
    };
    while (!stop.load(std::memory_order_acquire)) {
        std::error_code ec;
        const winmmf::frame_info info = reader.take(buffer, winmmf::acquire_mode::wait_for(milliseconds(200)), ec);
        if (ec == winmmf::errc::timeout) {
            continue;
        }
        if (ec == winmmf::errc::end_of_stream) {
            stats.ended = "end of stream (the service stopped)";
            show_last();
            return;
        }
        if (ec == winmmf::errc::writer_gone) {
            stats.ended = "the writer's process died";
            show_last();
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
        // Synthetic frames also carry their sequence number in their first 8 bytes.
        if (info.size != entry.frame_size || checksum(frame) != info.meta.user_tag ||
            (entry.source == "synthetic" && embedded == 0)) {
            ++stats.bad_checksums;
        }
        const std::int64_t latency_ns = winmmf::frame_clock::now().time_since_epoch().count() - info.publish_time;
        const double latency_ms = static_cast<double>(latency_ns) / 1e6;
        latest = info;
        if (feed != nullptr) {
            feed->frames.fetch_add(1);
            feed->latency_ns.store(latency_ns);
            if (now - feed->last_shown >= milliseconds(16)) {
                show(info);
            }
        }
        stats.latency_sum_ms += latency_ms;
        stats.latency_max_ms = std::max(stats.latency_max_ms, latency_ms);
        if (!counted_ready && stats.received >= min_frames) {
            counted_ready = true;
            ready_count.fetch_add(1, std::memory_order_acq_rel);
        }
    }
    stats.ended = "viewer stopped";
}

// --snapshot: the next frame of one channel, as an image file.
int snapshot(winmmf::frame_reader& reader, const index_entry& entry, const viewer_options& v)
{
    std::vector<std::byte> buffer(reader.max_frame_size());
    std::error_code ec;
    const auto seconds = v.seconds > 0 ? v.seconds : 30.0;
    const winmmf::frame_info info = reader.take(
        buffer, winmmf::acquire_mode::wait_for(duration_cast<milliseconds>(duration<double>(seconds))), ec);
    if (ec) {
        std::fprintf(stderr, "frame_viewer: no frame from %s for the snapshot: %s\n", entry.mapping.c_str(),
                     ec.message().c_str());
        return 5;
    }
    const std::span<const std::byte> frame(buffer.data(), info.size);
    if (checksum(frame) != info.meta.user_tag) {
        std::fprintf(stderr, "frame_viewer: frame #%llu of %s fails its checksum\n",
                     static_cast<unsigned long long>(info.sequence), entry.mapping.c_str());
        return 3;
    }
    picture p;
    if (!make_picture(info, frame, p)) {
        std::fprintf(stderr, "frame_viewer: cannot show a %s frame\n", std::string(to_string(info.meta.format)).c_str());
        return 5;
    }
    if (const std::string error = write_image(p, v.snapshot); !error.empty()) {
        std::fprintf(stderr, "frame_viewer: %s\n", error.c_str());
        return 5;
    }
    std::printf("frame_viewer: snapshot of %s frame #%llu (timestamp %lld, %ux%u %s) written to %s\n",
                entry.mapping.c_str(), static_cast<unsigned long long>(info.sequence),
                static_cast<long long>(info.meta.timestamp), info.meta.width, info.meta.height,
                std::string(to_string(info.meta.format)).c_str(), v.snapshot.c_str());
    return 0;
}

std::wstring window_title(const std::string& mapping, double fps, double latency_ms)
{
    char text[256];
    std::snprintf(text, sizeof text, "frame_viewer - %s - %.1f fps, latency %.2f ms", mapping.c_str(), fps, latency_ms);
    return widen(text);
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
                             "[--min-frames N] [--ready-event NAME] [--window | --snapshot FILE.png|.bmp] "
                             "[--channel I]\n(S: seconds from 0 to 1000000)\n");
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
    if ((v.window || !v.snapshot.empty()) && v.channel >= entries.size()) {
        std::fprintf(stderr, "frame_viewer: --channel %zu: the index lists %zu channel(s)\n", v.channel, entries.size());
        return 1;
    }
    if (!v.snapshot.empty()) {
        return snapshot(readers[v.channel], entries[v.channel], v);
    }
    picture_window window;
    window_feed feed;
    if (v.window) {
        const index_entry& e = entries[v.channel];
        if (!window.create(window_title(e.mapping, 0, 0), e.width, e.height)) {
            std::fprintf(stderr, "frame_viewer: cannot create a window (error %lu)\n", ::GetLastError());
            return 5;
        }
        feed.window = &window;
        const RECT r = window.client_on_screen();
        std::printf("frame_viewer: window shows %s; client area at %ld,%ld size %ldx%ld\n", e.mapping.c_str(), r.left,
                    r.top, r.right - r.left, r.bottom - r.top);
        std::fflush(stdout);
    }

    std::atomic<bool> stop{false};
    std::atomic<unsigned> ready{0};
    std::atomic<unsigned> ended{0};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        threads.emplace_back([&, i] {
            follow(readers[i], entries[i], stats[i], stop, ready, v.min_frames,
                   v.window && i == v.channel ? &feed : nullptr);
            ended.fetch_add(1, std::memory_order_acq_rel);
        });
    }
    const auto deadline = v.seconds > 0 ? steady_clock::now() + duration_cast<steady_clock::duration>(duration<double>(v.seconds))
                                        : steady_clock::time_point::max();
    bool signalled = false;
    bool reported_end = false;
    auto title_due = steady_clock::now();
    std::uint64_t title_frames = 0;
    while (steady_clock::now() < deadline) {
        if (v.window) {
            // The window's thread: its messages, and its title twice a second.
            MSG msg;
            while (::PeekMessageW(&msg, nullptr, 0, 0, PM_REMOVE)) {
                ::TranslateMessage(&msg);
                ::DispatchMessageW(&msg);
            }
            if (window.closed()) {
                break;
            }
            if (steady_clock::now() >= title_due) {
                const std::uint64_t frames = feed.frames.load();
                window.set_title(window_title(entries[v.channel].mapping, static_cast<double>(frames - title_frames) * 2.0,
                                              static_cast<double>(feed.latency_ns.load()) / 1e6));
                title_frames = frames;
                title_due += milliseconds(500);
            }
            if (!reported_end && ended.load(std::memory_order_acquire) == threads.size()) {
                reported_end = true;
                std::printf("frame_viewer: window: the stream ended; showing frame #%llu (timestamp %lld)\n",
                            static_cast<unsigned long long>(feed.shown_sequence.load()),
                            static_cast<long long>(feed.shown_timestamp.load()));
                std::fflush(stdout);
            }
            if (!signalled && !v.ready_event.empty() && ready.load() == entries.size()) {
                if (const HANDLE e = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, widen(v.ready_event).c_str())) {
                    ::SetEvent(e);
                    ::CloseHandle(e);
                }
                signalled = true;
            }
            ::MsgWaitForMultipleObjects(0, nullptr, FALSE, 20, QS_ALLINPUT);
            continue;
        }
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
