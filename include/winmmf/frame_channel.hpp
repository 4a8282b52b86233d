// winmmf/frame_channel.hpp - a frame channel: one writer publishes fixed-size frames, any number
// of readers in other processes take the newest complete one. The writer never waits.
//
//   // producer (e.g. a capture service)
//   auto writer = winmmf::frame_writer::create(winmmf::local("cam0"),
//       {.max_frame_size = winmmf::frame_size(1920, 1080, winmmf::pixel_format::rgb24)});
//   auto slot = writer.begin_frame();                 // zero-copy: render or DMA into it
//   render(slot.bytes());
//   slot.publish(slot.bytes().size(), {.width = 1920, .height = 1080, .stride = 5760,
//                                      .format = winmmf::pixel_format::rgb24});
//   writer.close();                                   // readers see errc::end_of_stream
//
//   // consumer, in another process
//   auto reader = winmmf::frame_reader::open(winmmf::local("cam0"));
//   std::vector<std::byte> frame(reader.max_frame_size());
//   winmmf::frame_info info = reader.take(frame, winmmf::acquire_mode::wait_for(1s));
//   // info.sequence, info.skipped, info.meta.width, ...
//
// Design (docs/frames.md): `slots` page-aligned buffers used round robin, each guarded by a
// sequence lock. The writer turns a slot's stamp odd, writes, and stamps it even; a reader
// copies (or reads in place) and keeps the bytes only if the stamp did not move meanwhile. A
// reader therefore never gets a torn frame, the writer never waits for anybody, and a reader
// that crashes holds nothing. Readers sleep on the channel's notification (notify.hpp), whose
// waiter slots live in a sibling mapping, "<name>#<nonce>", secured on its own: a service can
// give users read-only frames and still let them sleep until the next frame:
//
//   auto frames = winmmf::security_descriptor::from_preset(winmmf::security_preset::service_writes_users_read);
//   auto wake = winmmf::security_descriptor::from_preset(winmmf::security_preset::service_writes_users_read_write);
//   auto writer = winmmf::frame_writer::create(winmmf::global("cam0"), config,
//       {.security_attributes = frames.attributes()},   // the frames: users read
//       {.security_attributes = wake.attributes()});    // the notification: users may sleep on it
//   // a user's process:
//   auto reader = winmmf::frame_reader::open(winmmf::global("cam0"), {.access = winmmf::access_mode::read_only});
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/event.hpp>
#include <winmmf/detail/process.hpp>
#include <winmmf/detail/section.hpp>
#include <winmmf/detail/notify_state.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/frame_protocol.hpp>
#include <winmmf/lock_word.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/name.hpp>
#include <winmmf/notify.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace winmmf {

// QueryPerformanceCounter in nanoseconds: one clock for every process on the machine, so a
// reader can subtract a frame's publish_time from its own now() to get the latency.
struct frame_clock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<frame_clock>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept
    {
        static const std::int64_t frequency = [] {
            LARGE_INTEGER f{};
            ::QueryPerformanceFrequency(&f); // never fails on XP and later
            return static_cast<std::int64_t>(f.QuadPart);
        }();
        LARGE_INTEGER c{};
        ::QueryPerformanceCounter(&c);
        const std::int64_t ticks = c.QuadPart;
        // Split so that ticks * 1e9 cannot overflow (it would after ~15 minutes at 10 MHz).
        return time_point(duration((ticks / frequency) * 1000000000 + (ticks % frequency) * 1000000000 / frequency));
    }
};

// Bytes of one frame of a packed pixel format with no row padding (stride = width * bpp).
// 0 if the format is planar or unknown (compute those sizes yourself).
constexpr std::size_t frame_size(std::uint32_t width, std::uint32_t height, pixel_format format) noexcept
{
    return std::size_t{width} * height * bytes_per_pixel(format);
}

struct channel_config {
    std::size_t max_frame_size = 0; // the largest frame the channel carries, in bytes
    // Buffers used round robin (2..64). A reader has (slots - 1) frame periods to copy a frame
    // or finish processing it in place before the writer comes back to its slot.
    std::uint32_t slots = frame_layout::default_slots;
};

// Options for frame_reader::open.
struct reader_options {
    // read_only maps the frames with FILE_MAP_READ, which is all a reader needs: the frames of
    // a service that grants users read access only. Blocking waits do not write the frames;
    // they announce themselves in the channel's notification sibling ("<name>#<nonce>"), which
    // open() maps read-write when its descriptor allows. Where it does not, blocking waits fail
    // with errc::read_only and taking by polling (try_take, spin) still works; can_wait() says
    // which.
    access_mode access = access_mode::read_write;
    // Secures the kernel objects the reader creates when it first blocks (its waiter event and
    // claim).
    create_options objects{};
};

// Where the channel's writer is.
enum class writer_status : std::uint8_t {
    active, // a live process holds the writer role
    closed, // the writer closed the channel (end of stream), or none ever claimed it
    gone,   // the process holding the writer role died without closing
};

namespace detail {

// While blocked, a reader looks at the writer's liveness this often, so that a writer that
// crashed surfaces as errc::writer_gone instead of a wait that never ends. It is also the
// longest a reader sleeps through a frame whose wake-up did not reach it (a notifier that could
// not open its event, a bit cleared by someone else who may write the sibling, or a writer that
// replaced the sibling while the reader was going to sleep on the old one).
inline constexpr std::chrono::milliseconds writer_check_interval{500};

// Every name derived from a channel's fits the room make_base_name keeps: the sibling
// "#<16 hex>" and its waiters' events "#<16 hex>w<0..63>".
static_assert(1 + 16 + 1 + 2 <= longest_suffix);

inline bool is_access_denied(const std::error_code& ec) noexcept
{
    return ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category());
}

// Failures of an existing sibling that only somebody else can have caused: a descriptor that
// refuses this account, a header that is not (or no longer) a channel's notification - whoever
// may write the sibling can scribble over it - or a sibling whose owner is not the channel's.
// They cost the channel its wake-ups, never its frames: readers carry on without the sibling and
// say why at the next blocking wait.
inline bool sibling_refused(const std::error_code& ec) noexcept
{
    // ERROR_INVALID_HANDLE: the name belongs to another kind of object (an event, a mutex).
    return is_access_denied(ec) || ec == std::error_code(ERROR_INVALID_HANDLE, std::system_category()) ||
           ec == errc::wrong_layout || ec == errc::unsupported_layout_version || ec == errc::foreign_owner ||
           ec == errc::uncommitted_view || ec == errc::uninitialized || ec == errc::timeout;
}

inline waiter_block* waiters_of(const mapped_section& m) noexcept
{
    return m.is_open() ? reinterpret_cast<waiter_block*>(m.base() + frame_layout::notify_header_size) : nullptr;
}

// The notification sibling of a channel: "<channel>#<nonce>".
inline std::error_code sibling_name(const object_name& channel, std::uint64_t nonce, object_name& out) noexcept
{
    std::error_code ec;
    out = with_nonce(channel, nonce, ec);
    return ec;
}

// Creates (writer) or opens (reader) a notification sibling. Its creator is the writer that named
// it; nobody else ever finishes its initialisation (a reader that finds it unfinished does without).
inline std::error_code open_sibling(open_mode how, const object_name& name, bool writable, const create_options& options,
                                    mapped_section& out) noexcept
{
    section_request request;
    request.mode = how;
    request.size = frame_layout::notify_block_size;
    request.header_size = frame_layout::notify_header_size;
    request.writable = writable;
    request.security_attributes = options.security_attributes; // never large pages: 640 bytes
    mapped_section m;
    if (const std::error_code ec = mapped_section::open(name, request, m)) {
        return ec;
    }
    if (m.layout().capacity < frame_layout::notify_block_size) {
        return make_error_code(errc::wrong_layout);
    }
    const layout_plan plan{frame_layout::notify_layout, frame_layout::notify_header_size + frame_layout::notify_block_size,
                           false};
    bool initialized = false;
    // A new sibling is the kernel's zeros: nothing to write but the handshake.
    if (const std::error_code ec = establish_layout(m, plan, [](std::byte*) { return errc{}; }, initialized)) {
        return ec;
    }
    out = std::move(m);
    return {};
}

// Wakes whoever sleeps on an old sibling (a channel whose writer changed): they look again,
// find the new sibling and sleep there. Best effort, bounded: one open of the old sibling and
// at most 64 events.
inline void wake_old_sibling(const object_name& channel, std::uint64_t old_nonce) noexcept
{
    object_name name;
    if (old_nonce == 0 || sibling_name(channel, old_nonce, name)) {
        return;
    }
    mapped_section old;
    section_request request;
    request.mode = open_mode::open_only;
    request.header_size = frame_layout::notify_header_size;
    request.writable = false;
    if (mapped_section::open(name, request, old) || old.layout().capacity < frame_layout::notify_block_size) {
        return;
    }
    std::uint64_t mask = std::atomic_ref<std::uint64_t>(waiters_of(old)->waiting).load(std::memory_order_seq_cst);
    while (mask != 0) {
        const auto slot = static_cast<std::uint32_t>(std::countr_zero(mask));
        mask &= mask - 1;
        std::error_code ec;
        const object_name event = waiter_event_name(name, slot, ec);
        if (ec) {
            continue;
        }
        const unique_handle h(::OpenEventW(EVENT_MODIFY_STATE, FALSE, event.c_str()));
        if (h) {
            ::SetEvent(h.get());
        }
    }
}

// What writers and readers share in one process: the channel's section, a view of its layout,
// the notification sibling and the notification endpoint. Heap-allocated so that frame slots and
// views can point at it while the owning writer or reader is moved.
struct channel_core {
    mapped_section mapping;
    // The notification sibling: the current writer's. A writer always has its own, read-write. A
    // reader has it read-write (it can sleep), read-only (it may see who waits, not wait), or
    // not at all.
    mapped_section waiters;
    std::uint64_t waiters_nonce = 0; // which sibling `waiters` is (0: none)
    object_name waiters_name{};      // its name, "<channel>#<nonce>" (empty: none named yet)
    frame_layout::channel_view view;
    // Its state has the sibling's waiter block only where this process may write it.
    std::unique_ptr<notify_endpoint> endpoint;
    protocol::identity me = current_identity();
    bool holds_role = false; // a frame_writer holding the writer role
    // A reader's answer to "can a wait sleep?": empty when it can; errc::read_only when this
    // account may not write the sibling; errc::not_found when there is no sibling to open (no
    // writer published one; looked for again at the next blocking wait); wrong_layout,
    // unsupported_layout_version or foreign_owner when the sibling is not this channel's
    // notification; ERROR_INVALID_HANDLE when another kind of object holds its name.
    std::error_code sleep_refusal;
    // The channel section's owner, which its sibling's must match (readers; when readable).
    owner_sid channel_owner{};
    bool has_channel_owner = false;

    // The writer's side: the frame begun in place, and the token that tells its frame_slot from
    // any other (0: none pending).
    std::uint64_t pending_sequence = 0;
    std::uint64_t pending_token = 0;
    std::uint64_t last_token = 0;

    ~channel_core()
    {
        // Both write into the views: release them before they are unmapped.
        release_role();
        endpoint.reset();
    }

    void release_role() noexcept
    {
        if (holds_role) {
            protocol::release_claim(view.writer_word(), me);
            holds_role = false;
        }
    }

    writer_status writer_state() const noexcept
    {
        const std::uint64_t w = view.writer_word().load(std::memory_order_acquire);
        if (view.closed() || w == 0) {
            return writer_status::closed;
        }
        if (!protocol::is_identity(w)) {
            return writer_status::gone; // nothing a writer writes: no live writer can be named
        }
        return process_alive(protocol::owner_of(w)) ? writer_status::active : writer_status::gone;
    }

    // Waiters announced in the sibling right now, as far as this process can see it.
    std::size_t waiting_count() const noexcept { return view.notify(waiters_of(waiters)).waiting_count(); }

    bool can_sleep() const noexcept { return waiters.is_open() && waiters.writable(); }

    // Adopts a sibling. A reader's endpoint gets its waiter block only if it may write it (a
    // wait announces itself there); a writer's gets it either way (notifying only reads the
    // mask). Either refers into the mapping, which the core keeps until the endpoint is gone.
    void adopt_waiters(mapped_section&& m, std::uint64_t nonce, const object_name& name, bool for_writer) noexcept
    {
        endpoint->set_state(view.notify(nullptr), name); // lets go of any slot in the old block
        waiters = std::move(m);
        waiters_nonce = nonce;
        waiters_name = nonce != 0 ? name : object_name{};
        const bool usable = waiters.is_open() && (for_writer || waiters.writable());
        endpoint->set_state(view.notify(usable ? waiters_of(waiters) : nullptr));
        if (waiters.is_open() && !waiters.writable()) {
            sleep_refusal = make_error_code(errc::read_only);
        } else if (waiters.is_open()) {
            sleep_refusal.clear();
        }
    }

    // A reader: the sibling the channel names now, read-write if this account may, else
    // read-only (a reader still sees who waits), else none. Errors other than the refusals
    // above, and "absent", are the caller's. No heap.
    std::error_code attach_current_sibling() noexcept
    {
        // acquire: pairs with the writer's release of the nonce, made once the sibling exists.
        const std::uint64_t nonce = view.sibling_nonce().load(std::memory_order_acquire);
        if (nonce == waiters_nonce && (waiters.is_open() || nonce == 0)) {
            if (nonce == 0) {
                sleep_refusal = make_error_code(errc::not_found);
            }
            return {};
        }
        object_name name;
        std::error_code ec = sibling_name(mapping.name(), nonce, name);
        if (ec) {
            return ec;
        }
        if (nonce == 0) {
            adopt_waiters(mapped_section{}, 0, name, false);
            sleep_refusal = make_error_code(errc::not_found);
            return {};
        }
        mapped_section m;
        ec = open_sibling(open_mode::open_only, name, true, {}, m);
        if (is_access_denied(ec)) {
            ec = open_sibling(open_mode::open_only, name, false, {}, m);
            if (is_access_denied(ec)) {
                adopt_waiters(mapped_section{}, nonce, name, false);
                sleep_refusal = make_error_code(errc::read_only);
                return {};
            }
        }
        if (!ec && has_channel_owner) {
            // The sibling's name came from the channel's header, which only the writer writes;
            // its owner must be the channel's too, or somebody made it after the writer's went.
            owner_sid theirs;
            if (!section_owner(name, theirs) && !(theirs == channel_owner)) {
                ec = make_error_code(errc::foreign_owner);
            }
        }
        if (ec == errc::not_found || sibling_refused(ec)) {
            adopt_waiters(mapped_section{}, nonce, name, false);
            sleep_refusal = ec;
            return {};
        }
        if (ec) {
            return ec;
        }
        adopt_waiters(std::move(m), nonce, name, false);
        return {};
    }

    // Re-attaches when the channel names another sibling than the one held (a new writer), or
    // when none was found before. Errors are only the ones attach_current_sibling reports.
    std::error_code follow_sibling() noexcept
    {
        const std::uint64_t nonce = view.sibling_nonce().load(std::memory_order_acquire);
        if (nonce != waiters_nonce || (!waiters.is_open() && sleep_refusal == errc::not_found)) {
            return attach_current_sibling();
        }
        return {};
    }

    // Right before a blocking wait sleeps: true if it can; else `ec` says why not. Follows the
    // channel to its current writer's sibling first.
    bool ready_to_sleep(std::error_code& ec) noexcept
    {
        if ((ec = follow_sibling())) {
            return false;
        }
        if (can_sleep()) {
            return true;
        }
        if (sleep_refusal == errc::not_found) {
            ec = writer_state() == writer_status::gone ? make_error_code(errc::writer_gone) : sleep_refusal;
        } else {
            ec = sleep_refusal;
        }
        return false;
    }

    std::uint64_t next_sequence() const noexcept { return view.published() + 1; }

    std::uint64_t publish(std::span<const std::byte> frame, const frame_meta& meta, std::error_code& ec) noexcept
    {
        if (frame.size() > view.shape().max_frame_size) {
            ec = errc::too_large;
            return 0;
        }
        const std::uint64_t sequence = next_sequence();
        pending_token = 0; // a slot begun before writes into the same buffer: it is abandoned
        view.write(sequence, frame, frame_clock::now().time_since_epoch().count(), meta);
        return finish(sequence, ec);
    }

    // A frame to be written in place; a slot begun earlier and not published is abandoned
    // (its token no longer matches, so it can never publish).
    std::span<std::byte> begin(std::uint64_t& sequence, std::uint64_t& token) noexcept
    {
        pending_sequence = sequence = next_sequence();
        pending_token = token = ++last_token;
        return view.begin_write(sequence);
    }

    std::uint64_t commit(std::uint64_t sequence, std::uint64_t token, std::size_t size, const frame_meta& meta,
                         std::error_code& ec) noexcept
    {
        if (!holds_role) {
            ec = errc::not_open; // the writer closed the channel
            return 0;
        }
        if (token == 0 || token != pending_token || sequence != pending_sequence) {
            ec = errc::frame_abandoned; // published already, or abandoned by a newer frame
            return 0;
        }
        if (size > view.shape().max_frame_size) {
            ec = errc::too_large;
            return 0;
        }
        pending_token = 0;
        view.commit(sequence, size, frame_clock::now().time_since_epoch().count(), meta);
        return finish(sequence, ec);
    }

    // Bumps the notify sequence and wakes the announced readers. What it finds in the sibling
    // is not the writer's concern: whoever may write there can set or clear bits, so a waiter
    // that cannot be woken (its event gone or refused) is skipped and never fails a publish.
    // That reader sees the frame at its next liveness check (writer_check_interval).
    void wake_readers() noexcept
    {
        std::error_code ignored;
        endpoint->notify(ignored);
    }

private:
    std::uint64_t finish(std::uint64_t sequence, std::error_code& ec) noexcept
    {
        wake_readers();
        ec.clear();
        return sequence;
    }
};

// Maps the channel itself and runs the handshake. The writer's open_or_create (`config` given,
// `may_initialize`) finishes the creation of a creator that died before publishing; readers and
// `open` cannot (they do not know the geometry) and report errc::uninitialized then.
inline std::error_code map_channel(open_mode how, const object_name& name, const channel_config& config, bool writable,
                                   const create_options& options, mapped_section& out,
                                   frame_layout::channel_view& view) noexcept
{
    frame_layout::geometry g;
    const bool has_config = how != open_mode::open_only;
    if (has_config) {
        if (const errc e = frame_layout::compute_geometry(config.max_frame_size, config.slots,
                                                          system_memory_info().page_size, g);
            e != errc{}) {
            return e;
        }
        // A 32-bit process cannot map a channel larger than its address space.
        if (g.total_size - frame_layout::header_size > std::numeric_limits<std::size_t>::max()) {
            return make_error_code(errc::size_overflow);
        }
    }
    section_request request;
    request.mode = how;
    request.size = has_config ? static_cast<std::size_t>(g.total_size - frame_layout::header_size) : 0;
    request.header_size = frame_layout::header_size;
    request.writable = writable;
    request.security_attributes = options.security_attributes;
    request.create_large_pages = options.large_pages;
    mapped_section m;
    if (const std::error_code ec = mapped_section::open(name, request, m)) {
        return ec;
    }
    if (!m.created() && how == open_mode::open_or_create) {
        // Taking over an existing channel: it must be one this account made (a restart of the
        // same service), not one a co-tenant created first under the name and left for us.
        owner_sid ours;
        owner_sid theirs;
        if (owner_of_new_objects(options.security_attributes, ours) || section_owner(name, theirs) ||
            !(ours == theirs)) {
            return make_error_code(errc::foreign_owner);
        }
    }
    const std::uint64_t view_size = m.view_size();
    const layout_plan plan{frame_layout::layout,
                           m.created() ? static_cast<std::size_t>(g.data_offset) : frame_layout::records_offset,
                           has_config && writable};
    bool initialized = false;
    std::error_code ec = establish_layout(
        m, plan,
        [&](std::byte* base) {
            if (g.total_size > view_size) {
                return errc::too_large; // a dead creator's section is smaller than our geometry
            }
            frame_layout::channel_view::initialize(base, g);
            return errc{};
        },
        initialized);
    if (ec) {
        return ec;
    }
    if (const errc e = frame_layout::channel_view::attach(m.base(), view_size, view); e != errc{}) {
        return make_error_code(e);
    }
    if (!m.created() && how == open_mode::open_or_create) {
        const frame_layout::geometry& have = view.shape();
        if (have.max_frame_size < g.max_frame_size) {
            return make_error_code(errc::too_large);
        }
        if (have.max_frame_size != g.max_frame_size || have.slot_count != g.slot_count) {
            return make_error_code(errc::geometry_mismatch);
        }
    }
    out = std::move(m);
    return {};
}

inline std::error_code make_core(mapped_section&& m, const frame_layout::channel_view& view,
                                 const SECURITY_ATTRIBUTES* objects_sa, std::unique_ptr<channel_core>& out) noexcept
{
    auto core = std::unique_ptr<channel_core>(new (std::nothrow) channel_core{});
    if (!core) {
        return std::make_error_code(std::errc::not_enough_memory);
    }
    core->endpoint.reset(new (std::nothrow) notify_endpoint(view.notify(nullptr), m.name()));
    if (!core->endpoint) {
        return std::make_error_code(std::errc::not_enough_memory);
    }
    if (const std::error_code ec = core->endpoint->set_security(objects_sa)) {
        return ec;
    }
    core->mapping = std::move(m);
    core->view = view;
    out = std::move(core);
    return {};
}

// The writer's channel: mapped, the writer role claimed, and a sibling of its own made and
// published. Every step that fails leaves the channel as it was (the role is given back).
inline std::error_code open_writer_channel(open_mode how, const name_ref& requested, const channel_config& config,
                                           const create_options& frames, const create_options& notification,
                                           std::unique_ptr<channel_core>& out) noexcept
{
    object_name name;
    std::error_code ec = make_base_name(requested, name);
    if (ec) {
        return ec;
    }
    mapped_section m;
    frame_layout::channel_view view;
    if ((ec = map_channel(how, name, config, true, frames, m, view))) {
        return ec;
    }
    std::unique_ptr<channel_core> core;
    if ((ec = make_core(std::move(m), view, notification.security_attributes, core))) {
        return ec;
    }
    std::uint64_t replaced = 0;
    switch (protocol::try_claim(core->view.writer_word(), core->me, process_alive, replaced)) {
    case protocol::claim_outcome::claimed:
        core->holds_role = true;
        break;
    case protocol::claim_outcome::held:
    case protocol::claim_outcome::held_by_me:
        return make_error_code(errc::channel_has_writer);
    }
    // A sibling of this writer's own, under a name nobody could know before now.
    mapped_section sibling;
    std::uint64_t nonce = 0;
    object_name sibling_object;
    for (int attempt = 0;; ++attempt) {
        nonce = random_nonce();
        if ((ec = sibling_name(name, nonce, sibling_object))) {
            return ec;
        }
        ec = open_sibling(open_mode::create_only, sibling_object, true, notification, sibling);
        if (ec != errc::already_exists || attempt == 3) {
            break;
        }
    }
    if (ec) {
        return ec; // the core gives the role back
    }
    core->adopt_waiters(std::move(sibling), nonce, sibling_object, true);
    // release: a reader that reads the nonce finds the sibling initialised.
    const std::uint64_t old_nonce = core->view.sibling_nonce().exchange(nonce, std::memory_order_acq_rel);
    core->view.set_closed(false);
    // After the nonce and before the old sibling's mask is read: a reader about to sleep on the
    // old sibling either sees this bump or is signalled below (the notification's Dekker pair).
    core->wake_readers();
    wake_old_sibling(name, old_nonce);
    out = std::move(core);
    return {};
}

// A reader's channel, and its sibling as far as this account may open it.
inline std::error_code open_reader_channel(const name_ref& requested, const reader_options& options,
                                           std::unique_ptr<channel_core>& out) noexcept
{
    object_name name;
    std::error_code ec = make_base_name(requested, name);
    if (ec) {
        return ec;
    }
    mapped_section m;
    frame_layout::channel_view view;
    if ((ec = map_channel(open_mode::open_only, name, channel_config{}, options.access == access_mode::read_write, {},
                          m, view))) {
        return ec;
    }
    std::unique_ptr<channel_core> core;
    if ((ec = make_core(std::move(m), view, options.objects.security_attributes, core))) {
        return ec;
    }
    core->has_channel_owner = !section_owner(name, core->channel_owner);
    if ((ec = core->attach_current_sibling())) {
        return ec;
    }
    out = std::move(core);
    return {};
}

inline void throw_channel_error(const std::error_code& ec, const char* what, const name_ref& requested)
{
    throw_named_error(ec, what, requested);
}

} // namespace detail

// A frame being written in place (frame_writer::begin_frame). Fill bytes(), then publish();
// destroying it unpublished abandons the frame (readers never see it). Move-only; must not
// outlive the writer it came from.
class frame_slot {
public:
    frame_slot() noexcept = default;
    frame_slot(frame_slot&& other) noexcept
        : core_(std::exchange(other.core_, nullptr)), bytes_(other.bytes_), sequence_(other.sequence_),
          token_(other.token_)
    {
    }
    frame_slot& operator=(frame_slot&& other) noexcept
    {
        core_ = std::exchange(other.core_, nullptr);
        bytes_ = other.bytes_;
        sequence_ = other.sequence_;
        token_ = other.token_;
        return *this;
    }
    frame_slot(const frame_slot&) = delete;
    frame_slot& operator=(const frame_slot&) = delete;

    explicit operator bool() const noexcept { return core_ != nullptr; }
    // max_frame_size() bytes, page-aligned.
    std::span<std::byte> bytes() const noexcept { return core_ != nullptr ? bytes_ : std::span<std::byte>{}; }
    std::uint64_t sequence() const noexcept { return sequence_; }

    // Publishes the first `size` bytes with `meta`; returns the frame's sequence. A size over
    // max_frame_size() fails with errc::too_large and leaves the slot open. A slot that a later
    // begin_frame() or publish() of the same writer abandoned fails with errc::frame_abandoned
    // and publishes nothing: its buffer is the newer frame's now.
    std::uint64_t publish(std::size_t size, const frame_meta& meta = {})
    {
        std::error_code ec;
        const std::uint64_t s = publish(size, meta, ec);
        detail::throw_if(ec, "winmmf: frame_slot::publish");
        return s;
    }
    std::uint64_t publish(std::size_t size, const frame_meta& meta, std::error_code& ec) noexcept
    {
        if (core_ == nullptr) {
            ec = errc::not_open;
            return 0;
        }
        const std::uint64_t s = core_->commit(sequence_, token_, size, meta, ec);
        if (ec != errc::too_large) {
            core_ = nullptr;
        }
        return s;
    }

private:
    friend class frame_writer;
    frame_slot(detail::channel_core* core, std::span<std::byte> bytes, std::uint64_t sequence,
               std::uint64_t token) noexcept
        : core_(core), bytes_(bytes), sequence_(sequence), token_(token)
    {
    }

    detail::channel_core* core_ = nullptr;
    std::span<std::byte> bytes_{};
    std::uint64_t sequence_ = 0;
    std::uint64_t token_ = 0;
};

// The one writer of a channel. Creating a channel makes this process its writer; open() takes
// over an existing channel whose writer closed it or died (a writer that is alive is refused
// with errc::channel_has_writer). Move-only; frame slots must not outlive it, nor be used
// across a move of it.
class frame_writer {
public:
    frame_writer() noexcept = default;
    frame_writer(frame_writer&&) noexcept = default;
    frame_writer& operator=(frame_writer&& other) noexcept
    {
        if (this != &other) {
            close_quietly();
            core_ = std::move(other.core_);
        }
        return *this;
    }
    frame_writer(const frame_writer&) = delete;
    frame_writer& operator=(const frame_writer&) = delete;
    ~frame_writer() { close_quietly(); }

    // Creates the channel; errc::already_exists if the name is taken. `options` secures every
    // kernel object of the channel this process creates: the frames' mapping and the
    // notification sibling.
    static frame_writer create(const name_ref& name, const channel_config& config,
                               const create_options& options = {})
    {
        return create(name, config, options, options);
    }
    static frame_writer create(const name_ref& name, const channel_config& config, std::error_code& ec) noexcept
    {
        return create(name, config, create_options{}, create_options{}, ec);
    }
    static frame_writer create(const name_ref& name, const channel_config& config,
                               const create_options& options, std::error_code& ec) noexcept
    {
        return create(name, config, options, options, ec);
    }
    // The same with the notification sibling secured apart: `frames` for the frames' mapping
    // and the writer claim, `notification` for the sibling, where readers announce that they
    // sleep. The service-to-user case grants users read on the frames and read-write on the
    // notification: they can take frames and sleep until the next one, and never alter one
    // (docs/security.md). The sibling never uses large pages.
    static frame_writer create(const name_ref& name, const channel_config& config,
                               const create_options& frames, const create_options& notification)
    {
        std::error_code ec;
        auto w = create(name, config, frames, notification, ec);
        if (ec) {
            detail::throw_channel_error(ec, "frame_writer::create", name);
        }
        return w;
    }
    static frame_writer create(const name_ref& name, const channel_config& config, const create_options& frames,
                               const create_options& notification, std::error_code& ec) noexcept
    {
        return establish(detail::open_mode::create_only, name, config, frames, notification, ec);
    }

    // Becomes the writer of an existing channel (after its previous writer closed or died; a
    // writer that lives is refused with errc::channel_has_writer); sequences continue from the
    // last published frame. The options apply to what this process creates: a notification
    // sibling of its own (readers follow it).
    static frame_writer open(const name_ref& name, const create_options& options = {})
    {
        return open(name, options, options);
    }
    static frame_writer open(const name_ref& name, std::error_code& ec) noexcept
    {
        return open(name, create_options{}, create_options{}, ec);
    }
    static frame_writer open(const name_ref& name, const create_options& options, std::error_code& ec) noexcept
    {
        return open(name, options, options, ec);
    }
    static frame_writer open(const name_ref& name, const create_options& frames, const create_options& notification)
    {
        std::error_code ec;
        auto w = open(name, frames, notification, ec);
        if (ec) {
            detail::throw_channel_error(ec, "frame_writer::open", name);
        }
        return w;
    }
    static frame_writer open(const name_ref& name, const create_options& frames,
                             const create_options& notification, std::error_code& ec) noexcept
    {
        return establish(detail::open_mode::open_only, name, channel_config{}, frames, notification, ec);
    }

    // Creates the channel, or takes over the existing one from a writer that is gone (closed,
    // or its process ended) - the restart of a service while readers still hold the channel.
    // Refused: while the old writer lives (errc::channel_has_writer); a channel of another
    // geometry (errc::too_large when its frames are smaller, errc::geometry_mismatch for any
    // other difference of frame size or slot count); a channel that another account owns
    // (errc::foreign_owner: somebody created it first under this name). Readers of the old
    // writer see writer_gone (or end_of_stream), then the new frames, whose sequences continue.
    static frame_writer open_or_create(const name_ref& name, const channel_config& config,
                                       const create_options& options = {})
    {
        return open_or_create(name, config, options, options);
    }
    static frame_writer open_or_create(const name_ref& name, const channel_config& config,
                                       std::error_code& ec) noexcept
    {
        return open_or_create(name, config, create_options{}, create_options{}, ec);
    }
    static frame_writer open_or_create(const name_ref& name, const channel_config& config,
                                       const create_options& options, std::error_code& ec) noexcept
    {
        return open_or_create(name, config, options, options, ec);
    }
    static frame_writer open_or_create(const name_ref& name, const channel_config& config,
                                       const create_options& frames, const create_options& notification)
    {
        std::error_code ec;
        auto w = open_or_create(name, config, frames, notification, ec);
        if (ec) {
            detail::throw_channel_error(ec, "frame_writer::open_or_create", name);
        }
        return w;
    }
    static frame_writer open_or_create(const name_ref& name, const channel_config& config,
                                       const create_options& frames, const create_options& notification,
                                       std::error_code& ec) noexcept
    {
        return establish(detail::open_mode::open_or_create, name, config, frames, notification, ec);
    }

    // True while this object holds the writer role (until close()).
    bool is_open() const noexcept { return core_ != nullptr && core_->holds_role; }
    explicit operator bool() const noexcept { return is_open(); }
    bool created() const noexcept { return core_ != nullptr && core_->mapping.created(); }
    // These describe the channel for as long as the object has it (after close() too).
    const object_name& name() const noexcept
    {
        static const object_name none;
        return core_ != nullptr ? core_->mapping.name() : none;
    }
    std::size_t max_frame_size() const noexcept
    {
        return core_ != nullptr ? static_cast<std::size_t>(core_->view.shape().max_frame_size) : 0;
    }
    std::uint32_t slot_count() const noexcept { return core_ != nullptr ? core_->view.shape().slot_count : 0; }
    // The sequence of the newest published frame (0 before the first).
    std::uint64_t published() const noexcept { return core_ != nullptr ? core_->view.published() : 0; }
    // The notification sibling this writer made, "<name>#<16 hex digits>" (for diagnostics and
    // for securing or inspecting it; readers find it through the channel).
    const object_name& notification_name() const noexcept
    {
        static const object_name none;
        return core_ != nullptr ? core_->waiters_name : none;
    }
    // Readers blocked right now, waiting for the next frame (as the notification sibling
    // says: whoever may write it can make this number wrong, never the frames).
    std::size_t readers_waiting() const noexcept { return core_ != nullptr ? core_->waiting_count() : 0; }

    // Copies `frame` into the next slot and publishes it; returns its sequence. Never waits.
    std::uint64_t publish(std::span<const std::byte> frame, const frame_meta& meta = {})
    {
        std::error_code ec;
        const std::uint64_t s = publish(frame, meta, ec);
        throw_if_failed(ec, "publish");
        return s;
    }
    std::uint64_t publish(std::span<const std::byte> frame, const frame_meta& meta, std::error_code& ec) noexcept
    {
        if (!check_open(ec)) {
            return 0;
        }
        return core_->publish(frame, meta, ec);
    }

    // Zero-copy: the next slot, to be filled in place and published. Starting a new frame
    // abandons one begun before and not published.
    frame_slot begin_frame()
    {
        std::error_code ec;
        frame_slot s = begin_frame(ec);
        throw_if_failed(ec, "begin_frame");
        return s;
    }
    frame_slot begin_frame(std::error_code& ec) noexcept
    {
        if (!check_open(ec)) {
            return {};
        }
        ec.clear();
        std::uint64_t sequence = 0;
        std::uint64_t token = 0;
        const std::span<std::byte> bytes = core_->begin(sequence, token);
        return frame_slot(core_.get(), bytes, sequence, token);
    }

    // Ends the stream: readers that have taken the last frame get errc::end_of_stream instead
    // of waiting, and the writer role is free for another process (frame_writer::open). The
    // object keeps its view of the channel until it is destroyed, so the name stays (a reader
    // that opens it meanwhile sees the end of the stream, not "no such channel"); publishing
    // through it fails with errc::not_open. The destructor closes, too.
    void close()
    {
        std::error_code ec;
        close(ec);
        detail::throw_if(ec, "winmmf: frame_writer::close");
    }
    void close(std::error_code& ec) noexcept
    {
        ec.clear();
        if (!is_open()) {
            return;
        }
        core_->view.set_closed(true);
        core_->wake_readers();
        core_->release_role();
    }

private:
    static frame_writer establish(detail::open_mode how, const name_ref& name, const channel_config& config,
                                  const create_options& frames, const create_options& notification,
                                  std::error_code& ec) noexcept
    {
        frame_writer w;
        std::unique_ptr<detail::channel_core> core;
        ec = detail::open_writer_channel(how, name, config, frames, notification, core);
        if (ec) {
            return w;
        }
        w.core_ = std::move(core);
        ec.clear();
        return w;
    }

    bool check_open(std::error_code& ec) const noexcept
    {
        if (is_open()) {
            return true;
        }
        ec = errc::not_open;
        return false;
    }

    void throw_if_failed(const std::error_code& ec, const char* what) const
    {
        if (ec) {
            detail::throw_error(ec, std::string("winmmf: frame_writer::") + what + " " +
                                        (name().empty() ? std::string("(not open)") : name().to_utf8()));
        }
    }

    void close_quietly() noexcept
    {
        std::error_code ignored;
        close(ignored);
    }

    std::unique_ptr<detail::channel_core> core_;
};

// A frame read in place (frame_reader::acquire). The bytes are the slot's own; the writer may
// come back to the slot after (slots - 1) further frames. still_valid() says whether it has
// not yet: check it after processing, and discard the results if it returns false. Must not
// outlive its reader.
class frame_view {
public:
    frame_view() noexcept = default;

    explicit operator bool() const noexcept { return view_.valid(); }
    std::span<const std::byte> bytes() const noexcept
    {
        return view_.valid() ? std::span<const std::byte>(view_.payload(slot_), info_.size)
                             : std::span<const std::byte>{};
    }
    const frame_info& info() const noexcept { return info_; }

    // True if the writer has not touched the slot since the frame was acquired: everything
    // read from bytes() so far belongs to this one complete frame.
    bool still_valid() const noexcept { return view_.valid() && view_.still_valid(slot_, stamp_); }

private:
    friend class frame_reader;
    frame_view(const frame_layout::channel_view& view, std::uint32_t slot, std::uint64_t stamp,
               const frame_info& info) noexcept
        : view_(view), info_(info), stamp_(stamp), slot_(slot)
    {
    }

    frame_layout::channel_view view_{};
    frame_info info_{};
    std::uint64_t stamp_ = 0;
    std::uint32_t slot_ = 0;
};

// A reader of a channel. Any number may exist, in any processes, joining and leaving at any
// time; a reader holds no lock and the writer never waits for it. Each take returns the newest
// complete frame newer than the reader's previous one; frame_info::skipped counts the frames
// published in between. The first take returns the newest frame at the time (skipped counts
// frames published since open()). Move-only; one thread at a time.
class frame_reader {
public:
    frame_reader() noexcept = default;
    frame_reader(frame_reader&&) noexcept = default;
    frame_reader& operator=(frame_reader&&) noexcept = default;
    frame_reader(const frame_reader&) = delete;
    frame_reader& operator=(const frame_reader&) = delete;

    static frame_reader open(const name_ref& name, const reader_options& options = {})
    {
        std::error_code ec;
        auto r = open(name, options, ec);
        if (ec) {
            detail::throw_channel_error(ec, "frame_reader::open", name);
        }
        return r;
    }
    static frame_reader open(const name_ref& name, std::error_code& ec) noexcept
    {
        return open(name, reader_options{}, ec);
    }
    static frame_reader open(const name_ref& name, const reader_options& options, std::error_code& ec) noexcept
    {
        frame_reader r;
        std::unique_ptr<detail::channel_core> core;
        ec = detail::open_reader_channel(name, options, core);
        if (ec) {
            return r;
        }
        const std::uint64_t newest = core->view.published();
        r.last_ = newest == 0 ? 0 : newest - 1;
        r.core_ = std::move(core);
        return r;
    }

    bool is_open() const noexcept { return core_ != nullptr; }
    explicit operator bool() const noexcept { return is_open(); }
    void close() noexcept { core_.reset(); }
    const object_name& name() const noexcept
    {
        static const object_name none;
        return is_open() ? core_->mapping.name() : none;
    }
    std::size_t max_frame_size() const noexcept
    {
        return is_open() ? static_cast<std::size_t>(core_->view.shape().max_frame_size) : 0;
    }
    std::uint32_t slot_count() const noexcept { return is_open() ? core_->view.shape().slot_count : 0; }
    std::uint64_t published() const noexcept { return is_open() ? core_->view.published() : 0; }
    // The notification sibling this reader last looked for: the current writer's,
    // "<name>#<16 hex digits>"; empty while no writer has published one.
    const object_name& notification_name() const noexcept
    {
        static const object_name none;
        return is_open() ? core_->waiters_name : none;
    }
    // Readers (of any process) blocked right now, waiting for the next frame; 0 when this
    // account may not even read the notification sibling.
    std::size_t readers_waiting() const noexcept { return is_open() ? core_->waiting_count() : 0; }

    // Whether take/acquire with acquire_mode::wait_for can sleep in the kernel: this account
    // could open the channel's notification sibling for writing. When false, they fail with
    // errc::read_only and polling (try_take, try_acquire, spin) is the way to take frames.
    bool can_wait() const noexcept { return is_open() && core_->can_sleep(); }
    // Why can_wait() is false, as the blocking call would report it: errc::read_only (this
    // account may not write the sibling), errc::not_found (no sibling: the channel has no
    // writer; looked for again at the next blocking call), errc::wrong_layout (somebody wrote
    // over it), ... Empty when it can wait, or when the reader is not open.
    std::error_code wait_refusal() const noexcept
    {
        return is_open() && !core_->can_sleep() ? core_->sleep_refusal : std::error_code{};
    }

    // Totals for this reader: frames taken, frames skipped between them, and the sequence of
    // the last frame taken. frames_taken() + frames_skipped() == last_sequence() - (the
    // newest sequence at open(), less one).
    std::uint64_t frames_taken() const noexcept { return taken_; }
    std::uint64_t frames_skipped() const noexcept { return skipped_; }
    std::uint64_t last_sequence() const noexcept { return last_; }
    // Reads the writer spoiled by overtaking this reader (each was retried on the newest
    // frame). Many retries mean the reader is slow for the channel's slot count.
    std::uint64_t retries() const noexcept { return retries_; }

    // Whether a writer is there: active, closed (end of stream), or gone (died). Makes a system
    // call when a writer holds the role (to see whether its process still runs).
    writer_status writer_state() const noexcept
    {
        return is_open() ? core_->writer_state() : writer_status::closed;
    }
    // The process id the writer role names (its holder's, or the last holder's if that one
    // died); 0 when no writer holds it. For diagnostics: by itself an id says nothing about
    // liveness (writer_state() does).
    std::uint32_t writer_process_id() const noexcept
    {
        if (!is_open()) {
            return 0;
        }
        const std::uint64_t w = core_->view.writer_word().load(std::memory_order_acquire);
        return protocol::is_identity(w) ? protocol::owner_of(w).pid : 0;
    }

    // ---- copying out ---------------------------------------------------------------------

    // Copies the newest frame, if there is one newer than the last taken, into `out`. Returns
    // false with ec clear when there is none yet. Errors: buffer_too_small (nothing copied;
    // `info.size` says what is needed), end_of_stream, frame_overwritten.
    bool try_take(std::span<std::byte> out, frame_info& info, std::error_code& ec) noexcept
    {
        return take_impl(out, nullptr, acquire_mode::try_once(), nullptr, info, ec, false);
    }

    // Copies the next frame, waiting for it as `mode` says (wait_for: sleeps in the kernel;
    // spin: polls). Errors as try_take, plus timeout, max_tries_reached, cancelled, and
    // writer_gone when the writer's process died.
    frame_info take(std::span<std::byte> out, const acquire_mode& mode)
    {
        return take_throwing(out, mode, nullptr);
    }
    frame_info take(std::span<std::byte> out, const acquire_mode& mode, const cancel_token& cancel)
    {
        return take_throwing(out, mode, &cancel);
    }
    frame_info take(std::span<std::byte> out, const acquire_mode& mode, std::error_code& ec) noexcept
    {
        frame_info info;
        take_impl(out, nullptr, mode, nullptr, info, ec);
        return info;
    }
    frame_info take(std::span<std::byte> out, const acquire_mode& mode, const cancel_token* cancel,
                    std::error_code& ec) noexcept
    {
        frame_info info;
        take_impl(out, nullptr, mode, cancel, info, ec);
        return info;
    }

    // ---- zero-copy -----------------------------------------------------------------------

    // As try_take, without copying: the view reads the slot in place. Empty when there is no
    // newer frame.
    frame_view try_acquire(std::error_code& ec) noexcept
    {
        frame_view view;
        frame_info info;
        take_impl({}, &view, acquire_mode::try_once(), nullptr, info, ec, false);
        return view;
    }
    frame_view acquire(const acquire_mode& mode)
    {
        std::error_code ec;
        frame_view v = acquire(mode, nullptr, ec);
        throw_if_failed(ec, "acquire");
        return v;
    }
    frame_view acquire(const acquire_mode& mode, const cancel_token& cancel)
    {
        std::error_code ec;
        frame_view v = acquire(mode, &cancel, ec);
        throw_if_failed(ec, "acquire");
        return v;
    }
    frame_view acquire(const acquire_mode& mode, std::error_code& ec) noexcept
    {
        return acquire(mode, nullptr, ec);
    }
    frame_view acquire(const acquire_mode& mode, const cancel_token* cancel, std::error_code& ec) noexcept
    {
        frame_view view;
        frame_info info;
        take_impl({}, &view, mode, cancel, info, ec);
        return view;
    }

private:
    using status = frame_layout::channel_view::read_status;

    frame_info take_throwing(std::span<std::byte> out, const acquire_mode& mode, const cancel_token* cancel)
    {
        std::error_code ec;
        frame_info info;
        take_impl(out, nullptr, mode, cancel, info, ec);
        throw_if_failed(ec, "take");
        return info;
    }

    // One loop for every flavour: look; if nothing is new, wait for the writer's next notify
    // (or poll, or give up) and look again. `view` selects zero-copy.
    // `nothing_is_timeout`: take(try_once) reports "nothing new" as errc::timeout, like every
    // acquire_mode::try_once(); try_take and try_acquire report it as false with no error.
    bool take_impl(std::span<std::byte> out, frame_view* view, const acquire_mode& mode,
                   const cancel_token* cancel, frame_info& info, std::error_code& ec,
                   bool nothing_is_timeout = true) noexcept
    {
        if (!is_open()) {
            ec = errc::not_open;
            return false;
        }
        const frame_layout::channel_view& channel = core_->view;
        // One budget for the whole call: every look at the frames spends one try of spin(n), and
        // the deadline of wait_for(d) is fixed here, whatever moves in shared memory meanwhile.
        detail::wait_budget budget(mode);
        const bool blocking = budget.blocking();
        // A reader that can never sleep learns it at its first blocking call, frame or not,
        // after following the channel to its current writer's sibling; a missing sibling (a
        // channel between writers) is looked for again right before sleeping.
        if (blocking) {
            if ((ec = core_->follow_sibling())) {
                return false;
            }
            if (!core_->can_sleep() && core_->sleep_refusal != errc::not_found) {
                ec = core_->sleep_refusal;
                return false;
            }
        }
        for (;;) {
            if (!budget.take_try()) {
                ec = errc::max_tries_reached;
                return false;
            }
            // Read the notify sequence first: a frame published after this read changes it.
            const std::uint64_t seen = channel.notify_sequence();
            status s;
            if (view != nullptr) {
                std::uint32_t slot = 0;
                std::uint64_t stamp = 0;
                s = channel.peek_latest(last_, info, slot, stamp, retries_);
                if (s == status::frame) {
                    *view = frame_view(channel, slot, stamp, info);
                }
            } else {
                s = channel.read_latest(last_, out, info, retries_);
            }
            switch (s) {
            case status::frame:
                last_ = info.sequence;
                ++taken_;
                skipped_ += info.skipped;
                ec.clear();
                return true;
            case status::too_small:
                ec = errc::buffer_too_small;
                return false;
            case status::overwritten:
                ec = errc::frame_overwritten;
                return false;
            case status::no_new_frame:
                break;
            }
            if (channel.closed()) {
                ec = errc::end_of_stream;
                return false;
            }
            if (mode.how() == acquire_mode::kind::try_once) {
                if (nothing_is_timeout) {
                    ec = errc::timeout;
                } else {
                    ec.clear();
                }
                return false;
            }
            auto until = budget.deadline();
            if (blocking) {
                const auto now = detail::wait_budget::clock::now();
                if (budget.expired(now)) {
                    ec = errc::timeout;
                    return false;
                }
                if (!core_->ready_to_sleep(ec)) {
                    return false;
                }
                until = now + std::min<std::chrono::nanoseconds>(budget.remaining(now), detail::writer_check_interval);
            }
            std::uint64_t current = 0;
            std::error_code wait_ec;
            auto o = core_->endpoint->wait(seen, budget, until, cancel, current, wait_ec);
            if (o == detail::notify_endpoint::outcome::failed && wait_ec == errc::too_many_waiters) {
                // Every waiter slot is taken - by live readers, or by somebody who may write or
                // read the sibling and keeps them from us. The frames are still ours: poll until
                // the same point the sleep would have ended.
                o = poll_until(seen, until, cancel);
            }
            if (o == detail::notify_endpoint::outcome::changed) {
                continue;
            }
            if (o == detail::notify_endpoint::outcome::timeout && blocking) {
                if (core_->writer_state() == writer_status::gone) {
                    ec = errc::writer_gone;
                    return false;
                }
                continue; // the deadline is checked above
            }
            ec = detail::outcome_error(o, wait_ec);
            return false;
        }
    }

    // A blocking wait with no waiter slot to sleep in: looks at the notify sequence every
    // millisecond until it moves, `until` passes, or `cancel` is cancelled.
    detail::notify_endpoint::outcome poll_until(std::uint64_t seen, detail::wait_budget::clock::time_point until,
                                                const cancel_token* cancel) noexcept
    {
        using outcome = detail::notify_endpoint::outcome;
        for (;;) {
            if (core_->view.notify_sequence() != seen) {
                return outcome::changed;
            }
            if (cancel != nullptr && cancel->cancelled()) {
                return outcome::cancelled;
            }
            if (detail::wait_budget::clock::now() >= until) {
                return outcome::timeout;
            }
            ::Sleep(1);
        }
    }

    void throw_if_failed(const std::error_code& ec, const char* what) const
    {
        if (ec) {
            detail::throw_error(ec, std::string("winmmf: frame_reader::") + what + " " +
                                        (is_open() ? name().to_utf8() : std::string("(not open)")));
        }
    }

    std::unique_ptr<detail::channel_core> core_;
    std::uint64_t last_ = 0;
    std::uint64_t taken_ = 0;
    std::uint64_t skipped_ = 0;
    std::uint64_t retries_ = 0;
};

} // namespace winmmf
