// Child commands for the frame channel tests: readers that check every byte of every frame
// they take, a writer in another process, and single attempts whose exit code is the result.
#include "child.hpp"
#include "frame_pattern.hpp"

#include <winmmf/frame_channel.hpp>
#include <winmmf/mapping.hpp>

#include <test_support.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace winmmf::child {
namespace {

using namespace std::chrono_literals;

void write_report(const std::string& scope, const std::string& name, const test::reader_report& r)
{
    auto m = memory_mapped_file::open(test::parse_name(scope, name));
    m.write(0, std::as_bytes(std::span(&r, 1)));
}

// frame-read <scope> <channel> <copy|view>[-spin][-halt] <max-frames> <timeout-ms> <sleep-ms> <report>
//
// Takes frames until <max-frames> were taken (0: until the end of the stream), checking each
// against its sequence. `view` reads in place and keeps a frame only if still_valid() says
// the writer did not touch it during the check. `-spin` polls instead of sleeping in the
// kernel between frames, so that the writer pays no system call and laps the readers as
// often as it can. `-halt` (view only) pauses 1 ms halfway through the in-place check, so
// that the writer is often inside the very slot being checked when still_valid() is asked.
// Sleeps <sleep-ms> after each frame (a slow reader). Writes a reader_report to the
// memory_mapped_file <report> (same scope).
int frame_read(const args& a)
{
    if (a.size() != 7) {
        return exit_usage;
    }
    const bool in_place = a[2].rfind("view", 0) == 0;
    const bool spin = a[2].find("-spin") != std::string::npos;
    const bool halt = a[2].find("-halt") != std::string::npos;
    const std::uint64_t max_frames = std::stoull(a[3]);
    const auto timeout = std::chrono::milliseconds(std::stoul(a[4]));
    const auto pause = std::chrono::milliseconds(std::stoul(a[5]));
    std::error_code ec;
    auto reader = frame_reader::open(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "open");
    }
    test::reader_report r;
    r.baseline = reader.last_sequence();
    std::vector<std::byte> buffer(reader.max_frame_size());
    const acquire_mode mode = spin ? acquire_mode::spin_forever() : acquire_mode::wait_for(timeout);
    while (max_frames == 0 || r.taken < max_frames) {
        frame_info info;
        bool ok = false;
        if (in_place) {
            frame_view view = reader.acquire(mode, ec);
            if (!ec) {
                info = view.info();
                const std::size_t half = view.bytes().size() / 16 * 8;
                bool matches = test::frame_matches(view.bytes().first(half), info.sequence);
                if (halt) {
                    ::Sleep(1);
                }
                // The second half starts at word half / 8 of the pattern.
                matches = matches && test::frame_matches_from(view.bytes().subspan(half), info.sequence, half / 8) &&
                                     test::meta_matches(info.meta, info.sequence) &&
                                     info.size == test::pattern_size(info.sequence, reader.max_frame_size());
                if (view.still_valid()) {
                    ok = true;
                    r.torn += matches ? 0 : 1;
                } else {
                    ++r.invalidated; // overwritten while we looked: the bytes are not a frame
                    ok = true;
                }
            }
        } else {
            info = reader.take(buffer, mode, ec);
            if (!ec) {
                ok = true;
                const bool matches = test::frame_matches(std::span(buffer.data(), info.size), info.sequence) &&
                                     test::meta_matches(info.meta, info.sequence) &&
                                     info.size == test::pattern_size(info.sequence, reader.max_frame_size());
                r.torn += matches ? 0 : 1;
            }
        }
        if (!ok && ec == errc::frame_overwritten) {
            ++r.overwritten; // too slow this time (a busy machine); the next take tries again
            continue;
        }
        if (!ok) {
            r.end_error = ec.category() == winmmf_category() ? static_cast<std::uint64_t>(ec.value()) : 9999;
            break;
        }
        if (r.taken == 0) {
            r.first = info.sequence;
            r.first_skipped = info.skipped;
        }
        ++r.taken;
        r.skipped += info.skipped;
        r.last = info.sequence;
        if (pause.count() > 0) {
            ::Sleep(static_cast<DWORD>(pause.count()));
        }
    }
    if (r.taken != reader.frames_taken() || r.skipped != reader.frames_skipped() ||
        r.last != reader.last_sequence()) {
        std::fprintf(stderr, "frame-read: the reader's totals disagree with ours\n");
        return exit_mismatch;
    }
    r.retries = reader.retries();
    write_report(a[0], a[6], r);
    if (r.torn != 0) {
        std::fprintf(stderr, "frame-read: %llu torn frames\n", static_cast<unsigned long long>(r.torn));
        return exit_mismatch;
    }
    if (ec && ec != errc::end_of_stream) {
        return report(ec, "take");
    }
    return exit_ok;
}

// frame-take <scope> <channel> <timeout-ms>: one blocking take; the exit code says what
// happened. Prints the sequence taken.
int frame_take(const args& a)
{
    if (a.size() != 3) {
        return exit_usage;
    }
    std::error_code ec;
    auto reader = frame_reader::open(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "open");
    }
    std::vector<std::byte> buffer(reader.max_frame_size());
    const frame_info info =
        reader.take(buffer, acquire_mode::wait_for(std::chrono::milliseconds(std::stoul(a[2]))), ec);
    if (ec) {
        return report(ec, "take");
    }
    std::printf("%llu\n", static_cast<unsigned long long>(info.sequence));
    return test::frame_matches(std::span(buffer.data(), info.size), info.sequence) ? exit_ok : exit_mismatch;
}

// frame-writer <scope> <channel> <max-size> <frames> <ready-event>: creates the channel,
// publishes <frames> pattern frames, signals <ready-event>, then waits to be killed (the
// "writer died" tests) for at most two minutes.
int frame_writer_cmd(const args& a)
{
    if (a.size() != 5) {
        return exit_usage;
    }
    std::error_code ec;
    const std::size_t max_size = std::stoul(a[2]);
    auto writer = frame_writer::create(test::parse_name(a[0], a[1]), channel_config{.max_frame_size = max_size}, ec);
    if (ec) {
        return report(ec, "create");
    }
    std::vector<std::byte> frame(max_size);
    for (std::uint64_t s = 1, n = std::stoull(a[3]); s <= n; ++s) {
        const std::size_t size = test::pattern_size(s, max_size);
        test::fill_frame(std::span(frame.data(), size), s);
        writer.publish(std::span(frame.data(), size), test::pattern_meta(s), ec);
        if (ec) {
            return report(ec, "publish");
        }
    }
    test::named_event::open(a[4]).set();
    ::Sleep(120000);
    return exit_ok;
}

// frame-open-writer <scope> <channel>: tries to become the channel's writer.
int frame_open_writer(const args& a)
{
    if (a.size() != 2) {
        return exit_usage;
    }
    std::error_code ec;
    auto writer = frame_writer::open(test::parse_name(a[0], a[1]), ec);
    return report(ec, "open writer");
}

const registrar r1{"frame-read", frame_read};
const registrar r2{"frame-take", frame_take};
const registrar r3{"frame-writer", frame_writer_cmd};
const registrar r4{"frame-open-writer", frame_open_writer};

} // namespace
} // namespace winmmf::child
