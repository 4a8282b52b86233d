// Child commands for the co-tenant suite (tests/win/cotenant_tests.cpp): processes that do only
// what another principal on the machine could do - create named objects under names derived
// from a channel's, keep handles open, and, given write access, scribble on its header - and
// readers whose every call must end, boundedly, without crashing.
//
// Wine runs every process as one user and barely enforces DACLs, so "another principal" is
// played by these processes keeping to what such a principal may do; where an owner matters,
// objects are created with an explicit foreign owner ("O:SY"), which Wine stores and reports.
#include "child.hpp"
#include "frame_pattern.hpp"

#include <winmmf/frame_channel.hpp>
#include <winmmf/security.hpp>

#include <test_support.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace winmmf::child {
namespace {

// Objects another account owns, which anybody may open: what a squatter would make.
SECURITY_ATTRIBUTES* foreign_attributes()
{
    static const security_descriptor sd = security_descriptor::from_sddl("O:SYG:SYD:(A;;GA;;;WD)");
    return sd.attributes();
}

std::wstring wide(const object_name& n) { return std::wstring(n.full()); }

[[noreturn]] void hold_until_killed()
{
    for (;;) {
        ::Sleep(1000);
    }
}

// squat-guessable <scope> <channel> <ready-event>: takes every name a channel's objects had
// before layout version 3, when they could be derived from the channel's name alone: the
// sibling "#notify" (a section), the writer's liveness events "#writer0.<g>", the waiters'
// events "#wait<i>" and claims "#live<i>.<g>" (events owned by another account). Holds them.
int squat_guessable(const args& a)
{
    if (a.size() != 3) {
        return exit_usage;
    }
    const object_name channel(test::parse_name(a[0], a[1]));
    std::vector<detail::unique_handle> held;
    std::error_code ec;
    const object_name sibling = channel.with_suffix(u"#notify", ec);
    held.emplace_back(::CreateFileMappingW(INVALID_HANDLE_VALUE, foreign_attributes(), PAGE_READWRITE, 0, 4096,
                                           sibling.c_str()));
    // (Suffixes built with wide appends: GCC 12's -Wrestrict misfires on `"literal" +
    // std::to_string(n)` at -O3 for i686.)
    const auto event = [&](const wchar_t* tag, int n, const wchar_t* tail) {
        std::wstring name = wide(channel);
        name += tag;
        name += std::to_wstring(n);
        name += tail;
        held.emplace_back(::CreateEventW(foreign_attributes(), FALSE, FALSE, name.c_str()));
    };
    for (int g = 1; g <= 8; ++g) {
        event(L"#writer0.", g, L"");
    }
    for (int i = 0; i < 64; ++i) {
        event(L"#wait", i, L"");
        event(L"#live", i, L".1");
    }
    for (const auto& h : held) {
        if (!h) {
            return report(detail::last_error(), "squat");
        }
    }
    test::named_event::open(a[2]).set();
    hold_until_killed();
}

// squat-sibling-events <scope> <channel> <ready-event>: a principal that may read the channel
// learns its current sibling's name there, and creates every waiter event of that sibling
// first, owned by another account, signalled and reset at will. Holds them.
int squat_sibling_events(const args& a)
{
    if (a.size() != 3) {
        return exit_usage;
    }
    std::error_code ec;
    auto reader = frame_reader::open(test::parse_name(a[0], a[1]), {.access = access_mode::read_only}, ec);
    if (ec) {
        return report(ec, "open");
    }
    const object_name sibling = reader.notification_name();
    if (sibling.empty()) {
        return report(make_error_code(errc::not_found), "sibling");
    }
    std::vector<detail::unique_handle> held;
    for (std::uint32_t i = 0; i < protocol::max_waiters; ++i) {
        const object_name event = detail::waiter_event_name(sibling, i, ec);
        held.emplace_back(::CreateEventW(foreign_attributes(), FALSE, FALSE, event.c_str()));
        if (!held.back()) {
            return report(detail::last_error(), "CreateEventW");
        }
    }
    test::named_event::open(a[2]).set();
    std::mt19937 random(12345);
    for (;;) {
        // What the owner of an event may do to whoever sleeps on it: wake it, or eat its wake-up.
        const auto& h = held[random() % held.size()];
        (random() & 1) != 0 ? ::SetEvent(h.get()) : ::ResetEvent(h.get());
        ::Sleep(1);
    }
}

// A raw read-write view of a channel: what a principal with write access to the frames has.
struct raw_channel {
    detail::unique_handle section;
    detail::unique_view view;
    std::error_code open(const name_ref& ref)
    {
        std::error_code ec;
        const object_name name = object_name::make(ref, ec);
        if (ec) {
            return ec;
        }
        section = detail::unique_handle(::OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name.c_str()));
        if (!section) {
            return detail::last_error();
        }
        view = detail::unique_view(::MapViewOfFile(section.get(), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0));
        return view ? std::error_code{} : detail::last_error();
    }
    template <class T>
    std::atomic_ref<T> at(std::size_t offset)
    {
        return std::atomic_ref<T>(*reinterpret_cast<T*>(view.get() + offset));
    }
};

// bump-forever <scope> <channel> <ready-event>: with write access, bumps the channel's notify
// sequence as fast as it can, without ever publishing a frame, until killed: every reader's
// "something changed" comes true again and again, and no wait may start its budget over.
int bump_forever(const args& a)
{
    if (a.size() != 3) {
        return exit_usage;
    }
    raw_channel c;
    if (const std::error_code ec = c.open(test::parse_name(a[0], a[1]))) {
        return report(ec, "open");
    }
    auto sequence = c.at<std::uint64_t>(protocol::frame_layout::control_offset +
                                        offsetof(protocol::frame_layout::channel_control, notify_sequence));
    test::named_event::open(a[2]).set();
    for (;;) {
        sequence.fetch_add(1, std::memory_order_seq_cst);
    }
}

// flip-header <scope> <channel> <ready-event>: with write access, rewrites the channel's
// geometry with random and hostile values (and plants stamps and sizes in every slot record
// that fits the first page), as fast as it can, until killed.
int flip_header(const args& a)
{
    if (a.size() != 3) {
        return exit_usage;
    }
    raw_channel c;
    if (const std::error_code ec = c.open(test::parse_name(a[0], a[1]))) {
        return report(ec, "open");
    }
    using protocol::frame_layout::channel_header;
    const std::uint64_t published = c.at<std::uint64_t>(protocol::frame_layout::control_offset).load();
    for (std::uint32_t i = 0; i < 60; ++i) {
        const std::size_t record = protocol::frame_layout::records_offset + i * sizeof(protocol::frame_layout::slot_record);
        c.at<std::uint64_t>(record + offsetof(protocol::frame_layout::slot_record, stamp)).store(2 * published);
        c.at<std::uint64_t>(record + offsetof(protocol::frame_layout::slot_record, size)).store(~std::uint64_t{0} >> 1);
    }
    auto slots = c.at<std::uint32_t>(offsetof(channel_header, slot_count));
    auto max_frame = c.at<std::uint64_t>(offsetof(channel_header, max_frame_size));
    auto stride = c.at<std::uint64_t>(offsetof(channel_header, slot_stride));
    auto data = c.at<std::uint64_t>(offsetof(channel_header, data_offset));
    auto total = c.at<std::uint64_t>(offsetof(channel_header, total_size));
    const std::uint32_t real_slots = slots.load();
    const std::uint64_t real[4] = {max_frame.load(), stride.load(), data.load(), total.load()};
    test::named_event::open(a[2]).set();
    std::mt19937_64 random(4242);
    const std::uint32_t slot_values[] = {0, 1, real_slots, 60, 64, 65, 0xFFFFFFFFu};
    for (;;) {
        const std::uint64_t r = random();
        slots.store(slot_values[r % 7]);
        switch ((r >> 8) % 6) {
        case 0:
            max_frame.store(random());
            break;
        case 1:
            stride.store((r >> 16) % 2 == 0 ? real[1] * 30 : random());
            break;
        case 2:
            data.store((r >> 16) % 2 == 0 ? 64 : random());
            break;
        case 3:
            total.store((r >> 16) % 2 == 0 ? real[3] * 30 : random());
            break;
        default: // back to the truth for a moment: the window every double fetch needs
            max_frame.store(real[0]);
            stride.store(real[1]);
            data.store(real[2]);
            total.store(real[3]);
            slots.store(real_slots);
            break;
        }
    }
}

// open-hammer <scope> <channel> <iterations>: opens the channel read-only and takes a frame
// (copying, then in place) <iterations> times while someone rewrites its header. Every call
// must return; any result is acceptable but a crash. Prints how the opens ended.
int open_hammer(const args& a)
{
    if (a.size() != 3) {
        return exit_usage;
    }
    const name_ref name = test::parse_name(a[0], a[1]);
    const unsigned long iterations = std::stoul(a[2]);
    unsigned long opened = 0, refused = 0, frames = 0;
    std::vector<std::byte> buffer(1 << 20);
    for (unsigned long i = 0; i < iterations; ++i) {
        std::error_code ec;
        auto reader = frame_reader::open(name, {.access = access_mode::read_only}, ec);
        if (ec) {
            ++refused;
            continue;
        }
        ++opened;
        if (reader.max_frame_size() > buffer.size()) {
            return report(make_error_code(errc::too_large), "a geometry the channel never had was accepted");
        }
        frame_info info;
        if (reader.try_take(buffer, info, ec)) {
            ++frames;
        }
        frame_view v = reader.try_acquire(ec);
        if (v) {
            volatile std::byte sink = v.bytes().empty() ? std::byte{0} : v.bytes().back();
            (void)sink;
        }
    }
    std::printf("opened %lu refused %lu frames %lu\n", opened, refused, frames);
    return exit_ok;
}

// take-mode <scope> <channel> <spin:N|wait:MS> <count>: <count> takes in that mode, each of
// which must end with a frame or with the mode's own way of running out. The parent's hang
// guard is the assertion that every one of them ended.
int take_mode(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    auto reader = frame_reader::open(test::parse_name(a[0], a[1]), {.access = access_mode::read_only}, ec);
    if (ec) {
        return report(ec, "open");
    }
    const std::string& m = a[2];
    const auto colon = m.find(':');
    if (colon == std::string::npos) {
        return exit_usage;
    }
    const std::uint64_t n = std::stoull(m.substr(colon + 1));
    const bool spin = m.substr(0, colon) == "spin";
    const acquire_mode mode = spin ? acquire_mode::spin(n) : acquire_mode::wait_for(std::chrono::milliseconds(n));
    const errc expected = spin ? errc::max_tries_reached : errc::timeout;
    std::vector<std::byte> buffer(reader.max_frame_size());
    unsigned long ran_out = 0, frames = 0;
    for (unsigned long i = 0, count = std::stoul(a[3]); i < count; ++i) {
        (void)reader.take(buffer, mode, ec);
        if (!ec) {
            ++frames;
        } else if (ec == expected) {
            ++ran_out;
        } else {
            return report(ec, "take");
        }
    }
    std::printf("ran out %lu frames %lu\n", ran_out, frames);
    return exit_ok;
}

// pin-process <pid> <ready-event>: opens another process with SYNCHRONIZE and keeps the handle
// until killed: its process object (and id) outlive it, which must not make it look alive.
int pin_process(const args& a)
{
    if (a.size() != 2) {
        return exit_usage;
    }
    const detail::unique_handle h(
        ::OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, std::stoul(a[0])));
    if (!h) {
        return report(detail::last_error(), "OpenProcess");
    }
    test::named_event::open(a[1]).set();
    hold_until_killed();
}

// channel-writer <scope> <channel> <max-size> <create|open_or_create> <ready-event>: becomes
// the channel's writer, publishes one pattern frame, signals, and keeps the role until killed
// (publishing a frame every 50 ms, so readers see it alive).
int channel_writer(const args& a)
{
    if (a.size() != 5) {
        return exit_usage;
    }
    std::error_code ec;
    const std::size_t max_size = std::stoul(a[2]);
    const name_ref name = test::parse_name(a[0], a[1]);
    auto writer = a[3] == "create" ? frame_writer::create(name, {.max_frame_size = max_size}, ec)
                                   : frame_writer::open_or_create(name, {.max_frame_size = max_size}, ec);
    if (ec) {
        return report(ec, "writer");
    }
    std::vector<std::byte> frame(max_size);
    test::named_event ready = test::named_event::open(a[4]);
    for (bool first = true;; first = false) {
        const std::uint64_t s = writer.published() + 1;
        const std::size_t size = test::pattern_size(s, max_size);
        test::fill_frame(std::span(frame.data(), size), s);
        writer.publish(std::span(frame.data(), size), test::pattern_meta(s), ec);
        if (ec) {
            return report(ec, "publish");
        }
        if (first) {
            ready.set();
        }
        ::Sleep(50);
    }
}

const registrar r1{"squat-guessable", squat_guessable};
const registrar r2{"squat-sibling-events", squat_sibling_events};
const registrar r3{"bump-forever", bump_forever};
const registrar r4{"flip-header", flip_header};
const registrar r5{"open-hammer", open_hammer};
const registrar r6{"take-mode", take_mode};
const registrar r7{"pin-process", pin_process};
const registrar r8{"channel-writer", channel_writer};

} // namespace
} // namespace winmmf::child
