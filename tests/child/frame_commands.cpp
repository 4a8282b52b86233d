// Child commands for the frame channel tests: readers that check every byte of every frame
// they take, a writer in another process, and single attempts whose exit code is the result.
#include "child.hpp"
#include "frame_pattern.hpp"

#include <winmmf/frame_channel.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/security.hpp>

#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
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

// frame-writer <scope> <channel> <max-size> <frames> <ready-event> [<notification-sddl>]:
// creates the channel (its notification sibling with that descriptor, if given), publishes
// <frames> pattern frames, signals <ready-event>, then waits to be killed (the "writer died"
// tests) for at most two minutes.
int frame_writer_cmd(const args& a)
{
    if (a.size() != 5 && a.size() != 6) {
        return exit_usage;
    }
    std::error_code ec;
    const std::size_t max_size = std::stoul(a[2]);
    security_descriptor notify_sd;
    if (a.size() == 6) {
        notify_sd = security_descriptor::from_sddl(a[5], ec);
        if (ec) {
            return report(ec, "sddl");
        }
    }
    auto writer = frame_writer::create(test::parse_name(a[0], a[1]), {.max_frame_size = max_size, .notification_security_attributes = notify_sd.attributes()}, ec);
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

// frame-secured-take <scope> <channel> <timeout-ms> <sleep|poll>: the user's side of a
// service's channel whose frames this account may only read. Proves a read-write open of the
// frames is refused with ERROR_ACCESS_DENIED, then opens read-only and takes one frame:
//   sleep  the notification is writable: can_wait(), and a blocking take sleeps until the
//          writer publishes (the test publishes once it sees this reader announced);
//   poll   the notification is read-only too: a blocking take is errc::read_only, and the
//          frame (published before) is taken by polling.
// The frame must match its pattern. Exit 10 when a step does not behave as described.
int frame_secured_take(const args& a)
{
    if (a.size() != 4 || (a[3] != "sleep" && a[3] != "poll")) {
        return exit_usage;
    }
    const name_ref name = test::parse_name(a[0], a[1]);
    const auto timeout = std::chrono::milliseconds(std::stoul(a[2]));
    std::error_code ec;
    {
        auto writer_access = frame_reader::open(name, reader_options{.access = access_mode::read_write}, ec);
        if (ec != std::error_code(ERROR_ACCESS_DENIED, std::system_category())) {
            std::fprintf(stderr, "frame-secured-take: a read-write open gave '%s', not access denied\n",
                         ec.message().c_str());
            return exit_mismatch;
        }
    }
    auto reader = frame_reader::open(name, reader_options{.access = access_mode::read_only}, ec);
    if (ec) {
        return report(ec, "open read-only");
    }
    std::vector<std::byte> buffer(reader.max_frame_size());
    frame_info info;
    if (a[3] == "sleep") {
        if (!reader.can_wait()) {
            std::fprintf(stderr, "frame-secured-take: cannot wait, though the notification is writable\n");
            return exit_mismatch;
        }
        info = reader.take(buffer, acquire_mode::wait_for(timeout), ec);
        if (ec) {
            return report(ec, "take");
        }
    } else {
        if (reader.can_wait()) {
            std::fprintf(stderr, "frame-secured-take: can wait, though the notification is read-only\n");
            return exit_mismatch;
        }
        reader.take(buffer, acquire_mode::wait_for(timeout), ec);
        if (ec != errc::read_only) {
            std::fprintf(stderr, "frame-secured-take: a blocking take gave '%s', not read_only\n", ec.message().c_str());
            return exit_mismatch;
        }
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!reader.try_take(buffer, info, ec)) {
            if (ec) {
                return report(ec, "try_take");
            }
            if (std::chrono::steady_clock::now() > deadline) {
                return report(make_error_code(errc::timeout), "try_take");
            }
            ::Sleep(1);
        }
        reader.take(buffer, acquire_mode::spin(1000), ec); // polling on: nothing newer
        if (ec != errc::max_tries_reached) {
            std::fprintf(stderr, "frame-secured-take: spin gave '%s'\n", ec.message().c_str());
            return exit_mismatch;
        }
    }
    std::printf("%llu\n", static_cast<unsigned long long>(info.sequence));
    const bool matches = test::frame_matches(std::span(buffer.data(), info.size), info.sequence) &&
                         test::meta_matches(info.meta, info.sequence);
    return matches ? exit_ok : exit_mismatch;
}

// notify-garbage <scope> <channel> <ms> <waiters|marker|version>: somebody who may write the
// channel's notification sibling ("<channel>#<nonce>"), and abuses it, through a raw view:
//   waiters  for <ms> ms, random values into the waiting mask and every slot's claim word,
//            as fast as it can; leaves every bit of the mask set and the claim words random.
//            Meanwhile a mutex squats the name of slot 63's wait event ("<channel>#wait63"),
//            so that waking or claiming that slot fails outright;
//   marker   replaces the sibling's first word (its layout marker) with garbage;
//   version  replaces its layout version with garbage.
int notify_garbage(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    // The sibling is the current writer's: its name comes from the channel's header.
    const object_name sibling = frame_reader::open(test::parse_name(a[0], a[1]), {.access = access_mode::read_only})
                                    .notification_name();
    if (sibling.empty()) {
        return report(make_error_code(errc::not_found), "sibling");
    }
    const detail::unique_handle section(::OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, sibling.c_str()));
    if (!section) {
        return report(detail::last_error(), "OpenFileMappingW");
    }
    const detail::unique_view view(::MapViewOfFile(section.get(), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0));
    if (!view) {
        return report(detail::last_error(), "MapViewOfFile");
    }
    std::byte* base = view.get();
    const auto word32 = [base](std::size_t offset) {
        return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(base + offset));
    };
    const auto word64 = [base](std::size_t offset) {
        return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(base + offset));
    };
    if (a[3] == "marker") {
        word32(0).store(0x12345678u);
        return exit_ok;
    }
    if (a[3] == "version") {
        word32(4).store(0xBADu);
        return exit_ok;
    }
    if (a[3] != "waiters") {
        return exit_usage;
    }
    const object_name squatted = sibling.with_suffix(u"w63", ec);
    if (ec) {
        return report(ec, "name");
    }
    const detail::unique_handle squatter(::CreateMutexW(nullptr, FALSE, squatted.c_str()));
    if (!squatter) {
        return report(detail::last_error(), "CreateMutexW");
    }
    constexpr std::size_t mask_offset = 64;   // after the 64-byte header: the waiting mask,
    constexpr std::size_t slots_offset = 128; // then 64 claim words
    std::mt19937_64 random(std::random_device{}());
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoul(a[2]));
    std::uint64_t rounds = 0;
    while (std::chrono::steady_clock::now() < until) {
        const std::uint64_t r = random();
        switch (r % 4) {
        case 0:
            word64(mask_offset).store(random()); // any set of sleepers
            break;
        case 1:
            word64(mask_offset).store(0); // nobody: hides real sleepers from the writer
            break;
        case 2:
            word64(mask_offset).store(~std::uint64_t{0}); // everybody
            break;
        default:
            word64(slots_offset + 8 * static_cast<std::size_t>(r >> 58)).store(random()); // somebody's claim
            break;
        }
        if (++rounds % 64 == 0) {
            ::Sleep(0);
        }
    }
    for (std::size_t i = 0; i < 64; ++i) {
        word64(slots_offset + 8 * i).store(random());
    }
    word64(mask_offset).store(~std::uint64_t{0});
    std::printf("%llu\n", static_cast<unsigned long long>(rounds));
    return exit_ok;
}

const registrar r1{"frame-read", frame_read};
const registrar r2{"frame-take", frame_take};
const registrar r3{"frame-writer", frame_writer_cmd};
const registrar r4{"frame-open-writer", frame_open_writer};
const registrar r5{"frame-secured-take", frame_secured_take};
const registrar r6{"notify-garbage", notify_garbage};

} // namespace
} // namespace winmmf::child
