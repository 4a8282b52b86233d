// winmmf/inspect.hpp - what a named mapping holds, whatever its layout: for monitoring tools,
// health checks and `winmmf info`, without taking a lock or touching the mapping.
//
//   winmmf::inspection i = winmmf::inspect(winmmf::global("cam0"));
//   if (i.layout == winmmf::layout_kind::frame_channel && i.channel.writer == winmmf::writer_status::gone) {
//       restart_the_service();
//   }
//
// The mapping is opened read-only and its header read once; nothing is written, no lock is
// taken, and a header that openers would refuse is described rather than refused (`refusal`
// says what they would get).
#pragma once

#include <winmmf/detail/section.hpp>
#include <winmmf/detail/section_errors.hpp>
#include <winmmf/error.hpp>
#include <winmmf/frame_reader.hpp>
#include <winmmf/frame_types.hpp>
#include <winmmf/lock.hpp>
#include <winmmf/name.hpp>
#include <winmmf/notification.hpp>
#include <winmmf/protocol/frame.hpp>
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/notify_state.hpp>
#include <winmmf/protocol/robust_word.hpp>
#include <winmmf/robust_lock.hpp>

#include <cstddef>
#include <cstdint>
#include <system_error>

namespace winmmf {

// Which layout a mapping's first word announces.
enum class layout_kind : std::uint8_t {
    compatible,           // WinMMF's lock word: compatible_lock, no_lock, or a Rust WinMMF peer
    robust,               // robust_lock's header
    frame_channel,        // a frame channel (frame_writer / frame_reader)
    channel_notification, // a frame channel's notification sibling
    notification,         // a standalone notification
    unknown_marker,       // a layout marker (top byte 0xFF) that this version does not know
};

// WinMMF's lock word, decoded.
enum class lock_word_state : std::uint8_t {
    free,
    read_locked,   // `readers` readers hold it
    write_locked,
    uninitialized, // its creator has not finished (or died between WinMMF's two creation steps)
    corrupt,       // a value no WinMMF process writes (bits 24-30, or a writer beside readers)
};

struct channel_inspection {
    std::uint32_t slots = 0;
    std::size_t max_frame_size = 0;
    std::uint64_t published = 0;        // the newest frame's sequence; 0: none yet
    writer_status writer = writer_status::closed;
    std::uint32_t writer_pid = 0;       // the process the writer role names; 0: none
    std::size_t waiting = 0;            // readers asleep on the notification sibling now
    object_name notification{};         // the current writer's sibling; empty: none published
    bool can_wait = false;              // this account may sleep on it
    std::error_code wait_refusal;       // why not, as a blocking take would report it
};

struct inspection {
    object_name name{};
    std::uint64_t section_size = 0;     // the kernel's (page-rounded) size of the section
    std::uint32_t first_word = 0;
    layout_kind layout = layout_kind::compatible;
    // What an opener of this layout (built from this version of winmmf) would be refused with:
    // corrupt_lock_word, unsupported_layout_version, wrong_layout, ...; empty when it would open.
    std::error_code refusal;
    // Whether this account may map it for writing, and if not the Win32 error that says so.
    bool writable = false;
    std::error_code write_refusal;
    // compatible and robust: the bytes of user data after the header.
    std::size_t capacity = 0;
    // layout_kind::compatible
    lock_word_state lock = lock_word_state::free;
    std::uint32_t readers = 0;
    // layout_kind::robust
    robust_lock_state robust{};
    bool robust_initialiser_alive = false; // robust.initialiser_pid still runs
    bool robust_writer_alive = false;      // robust.writer_pid still runs
    // The initialisation word itself, as the refusal was decided from: while !robust.ready it
    // names the creator at work, or is 0 (the marker with no creator named) or a value no
    // winmmf process writes - both refused with corrupt_lock_word.
    std::uint64_t robust_init = 0;
    // The robust layout version this build of winmmf opens; a header of another version
    // (robust.version) is refused with unsupported_layout_version.
    static constexpr std::uint32_t robust_layout_version = protocol::robust_word::layout_version;
    // layout_kind::frame_channel
    channel_inspection channel{};
    // layout_kind::notification (sequence and sleepers) and channel_notification (sleepers)
    std::uint64_t notification_sequence = 0;
    std::size_t notification_waiting = 0;
};

namespace detail {

inline lock_word_state lock_state_of(std::uint32_t w) noexcept
{
    switch (protocol::lock_word::classify(w)) {
    case protocol::lock_word::state::free:
        return lock_word_state::free;
    case protocol::lock_word::state::read_locked:
        return lock_word_state::read_locked;
    case protocol::lock_word::state::write_locked:
        return lock_word_state::write_locked;
    case protocol::lock_word::state::uninitialized:
        return lock_word_state::uninitialized;
    case protocol::lock_word::state::foreign:
    case protocol::lock_word::state::corrupt:
        break;
    }
    return lock_word_state::corrupt;
}

inline void inspect_robust(const mapped_section& s, inspection& out) noexcept
{
    namespace rw = protocol::robust_word;
    if (s.view_size() < sizeof(rw::header)) {
        out.refusal = make_error_code(errc::not_winmmf_mapping);
        return;
    }
    auto& h = *reinterpret_cast<rw::header*>(s.base());
    out.capacity = s.view_size() - sizeof(rw::header);
    out.robust = robust_state_of(h);
    const std::uint64_t init = protocol::load_once(h.init);
    out.robust_init = init;
    if (out.robust.version != 0 && out.robust.version != rw::layout_version) {
        out.refusal = make_error_code(errc::unsupported_layout_version);
    } else if (!out.robust.ready) {
        if (protocol::is_ready_family(init)) {
            out.refusal = make_error_code(errc::unsupported_layout_version);
            out.robust.version = static_cast<std::uint32_t>((init >> 16) & 0xFFFF);
        } else if (!protocol::is_identity(init)) {
            out.refusal = make_error_code(errc::corrupt_lock_word); // the marker without a named creator, or junk
        }
    } else if (out.robust.corrupt) {
        out.refusal = make_error_code(errc::corrupt_lock_word);
    }
    const protocol::identity initialiser = protocol::owner_of(init);
    out.robust_initialiser_alive = out.robust.initialiser_pid != 0 && process_alive(initialiser);
    const std::uint64_t writer = protocol::load_once(h.writer);
    out.robust_writer_alive = out.robust.writer_pid != 0 && process_alive(protocol::owner_of(writer));
}

inline void inspect_channel(const name_ref& name, inspection& out) noexcept
{
    std::error_code ec;
    const frame_reader reader = frame_reader::open(name, reader_options{.access = access_mode::read_only}, ec);
    if (ec) {
        out.refusal = ec;
        return;
    }
    channel_inspection& c = out.channel;
    c.slots = reader.slot_count();
    c.max_frame_size = reader.max_frame_size();
    c.published = reader.published();
    c.writer = reader.writer_state();
    c.writer_pid = reader.writer_process_id();
    c.waiting = reader.waiting();
    c.notification = reader.notification_name();
    c.can_wait = reader.can_wait();
    c.wait_refusal = reader.wait_refusal();
}

} // namespace detail

inline inspection inspect(const name_ref& requested, std::error_code& ec) noexcept
{
    inspection out;
    ec.clear();
    const object_name name = object_name::make(requested, ec);
    if (ec) {
        return out;
    }
    detail::mapped_section s;
    detail::section_request request;
    request.mode = detail::open_mode::open_only;
    request.writable = false;
    if ((ec = detail::mapped_section::open(name, request, s))) {
        return out;
    }
    out.name = name;
    out.section_size = s.layout().section_size;
    out.writable = detail::can_map_for_writing(name, out.write_refusal);
    if (s.view_size() < sizeof(std::uint32_t)) {
        out.refusal = make_error_code(errc::not_winmmf_mapping);
        return out;
    }
    const std::uint32_t w = protocol::load_once(*reinterpret_cast<const std::uint32_t*>(s.base()));
    out.first_word = w;
    namespace lw = protocol::lock_word;
    if (w == lw::robust_layout_marker) {
        out.layout = layout_kind::robust;
        detail::inspect_robust(s, out);
    } else if (w == lw::channel_layout_marker) {
        out.layout = layout_kind::frame_channel;
        detail::inspect_channel(custom(name.full()), out);
    } else if (w == lw::channel_notify_marker || w == lw::notify_layout_marker) {
        const bool sibling = w == lw::channel_notify_marker;
        out.layout = sibling ? layout_kind::channel_notification : layout_kind::notification;
        const std::size_t block = sibling ? protocol::frame_layout::notify_header_size : notification::header_size;
        const std::size_t needed = block + (sibling ? sizeof(protocol::waiter_block) : sizeof(protocol::notify_block));
        if (s.view_size() < needed) {
            out.refusal = make_error_code(errc::wrong_layout);
        } else if (sibling) {
            out.notification_waiting =
                protocol::notify_state(nullptr, reinterpret_cast<protocol::waiter_block*>(s.base() + block)).waiting_count();
        } else {
            const protocol::notify_state state(reinterpret_cast<protocol::notify_block*>(s.base() + block));
            out.notification_sequence = state.sequence();
            out.notification_waiting = state.waiting_count();
        }
    } else if (lw::classify(w) == lw::state::foreign) {
        out.layout = layout_kind::unknown_marker;
        out.refusal = make_error_code(errc::wrong_layout);
    } else {
        out.layout = layout_kind::compatible;
        out.capacity = s.view_size() - compatible_lock::header_size;
        out.lock = detail::lock_state_of(w);
        out.readers = out.lock == lock_word_state::read_locked ? lw::reader_count(w) : 0;
        if (out.lock == lock_word_state::corrupt) {
            out.refusal = make_error_code(errc::corrupt_lock_word);
        }
    }
    return out;
}

#if WINMMF_EXCEPTIONS
inline inspection inspect(const name_ref& name)
{
    std::error_code ec;
    inspection i = inspect(name, ec);
    detail::throw_if_failed(ec, "inspect", name);
    return i;
}
#endif

} // namespace winmmf
