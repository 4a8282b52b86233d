// winmmf/detail/frame_core.hpp - the Win32 half of protocol/frame.hpp: a channel's section, its
// writer role, its notification sibling and the wake-ups, shared by frame_writer and
// frame_reader. Everything that decides who may write, and what a reader trusts, is here or in
// the protocol header; docs/explanation/frames.md and docs/explanation/trust-model.md explain it.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/event.hpp>
#include <winmmf/detail/notify_endpoint.hpp>
#include <winmmf/detail/process.hpp>
#include <winmmf/detail/section.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/frame_clock.hpp>
#include <winmmf/frame_options.hpp>
#include <winmmf/frame_types.hpp>
#include <winmmf/name.hpp>
#include <winmmf/protocol/frame.hpp>
#include <winmmf/protocol/identity.hpp>
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/notify_state.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <system_error>
#include <utility>

namespace winmmf::detail {

static_assert(default_frame_slots == protocol::frame_layout::default_slots);

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

inline protocol::waiter_block* waiters_of(const mapped_section& m) noexcept
{
    return m.is_open() ? reinterpret_cast<protocol::waiter_block*>(m.base() + protocol::frame_layout::notify_header_size) : nullptr;
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
inline std::error_code open_sibling(open_mode how, const object_name& name, bool writable, SECURITY_ATTRIBUTES* sa,
                                    mapped_section& out) noexcept
{
    section_request request;
    request.mode = how;
    request.size = protocol::frame_layout::notify_block_size;
    request.header_size = protocol::frame_layout::notify_header_size;
    request.writable = writable;
    request.security_attributes = sa; // never large pages: 640 bytes
    mapped_section m;
    if (const std::error_code ec = mapped_section::open(name, request, m)) {
        return ec;
    }
    if (m.layout().capacity < protocol::frame_layout::notify_block_size) {
        return make_error_code(errc::wrong_layout);
    }
    const layout_plan plan{protocol::frame_layout::notify_layout, protocol::frame_layout::notify_header_size + protocol::frame_layout::notify_block_size,
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
    request.header_size = protocol::frame_layout::notify_header_size;
    request.writable = false;
    if (mapped_section::open(name, request, old) || old.layout().capacity < protocol::frame_layout::notify_block_size) {
        return;
    }
    // The notifier's seq_cst read of the Dekker pair (protocol/notify_state.hpp), after the new
    // nonce's exchange and the bump.
    std::uint64_t mask = protocol::waiters_to_signal(*waiters_of(old));
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
// A reader's place in the channel, kept with the channel (not in the frame_reader) so that a
// pending asynchronous take keeps it across a move of its reader.
struct reader_cursor {
    std::uint64_t last = 0;    // the sequence of the last frame taken
    std::uint64_t taken = 0;   // frames taken
    std::uint64_t skipped = 0; // frames skipped between them
    std::uint64_t retries = 0; // reads spoiled by the writer overtaking
    // An asynchronous take or acquire is pending: the reader takes one frame at a time.
    std::atomic<bool> async_pending{false};
};

struct channel_core {
    mapped_section mapping;
    // The notification sibling: the current writer's. A writer always has its own, read-write. A
    // reader has it read-write (it can sleep), read-only (it may see who waits, not wait), or
    // not at all.
    mapped_section waiters;
    std::uint64_t waiters_nonce = 0; // which sibling `waiters` is (0: none)
    object_name waiters_name{};      // its name, "<channel>#<nonce>" (empty: none named yet)
    protocol::frame_layout::channel_view view;
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

    // The writer's side: the frame begun in place, and the token that tells its writable_frame from
    // any other (0: none pending).
    std::uint64_t pending_sequence = 0;
    std::uint64_t pending_token = 0;
    std::uint64_t last_token = 0;

    reader_cursor cursor;

    ~channel_core()
    {
        // Pending asynchronous takes read the channel and hold a slot in the sibling: they end
        // first. Then the role and the endpoint, which write into the views: before unmapping.
        if (endpoint) {
            endpoint->async().shutdown();
        }
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
        const std::uint64_t w = view.writer(); // acquire (protocol/frame.hpp)
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
        const std::uint64_t nonce = view.sibling();
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
        ec = open_sibling(open_mode::open_only, name, true, nullptr, m);
        if (is_access_denied(ec)) {
            ec = open_sibling(open_mode::open_only, name, false, nullptr, m);
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
        const std::uint64_t nonce = view.sibling(); // acquire, as above
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
inline std::error_code map_channel(open_mode how, const object_name& name, const writer_options& config, bool writable,
                                   mapped_section& out, protocol::frame_layout::channel_view& view) noexcept
{
    protocol::frame_layout::geometry g;
    const bool has_config = how != open_mode::open_only;
    if (has_config) {
        if (const errc e = protocol::frame_layout::compute_geometry(config.max_frame_size, config.slots,
                                                          system_memory_info().page_size, g);
            e != errc{}) {
            return e;
        }
        // A 32-bit process cannot map a channel larger than its address space.
        if (g.total_size - protocol::frame_layout::header_size > std::numeric_limits<std::size_t>::max()) {
            return make_error_code(errc::size_overflow);
        }
    }
    section_request request;
    request.mode = how;
    request.size = has_config ? static_cast<std::size_t>(g.total_size - protocol::frame_layout::header_size) : 0;
    request.header_size = protocol::frame_layout::header_size;
    request.writable = writable;
    request.security_attributes = config.security_attributes;
    request.create_large_pages = config.large_pages;
    mapped_section m;
    if (const std::error_code ec = mapped_section::open(name, request, m)) {
        return ec;
    }
    if (!m.created() && how == open_mode::open_or_create) {
        // Taking over an existing channel: it must be one this account made (a restart of the
        // same service), not one a co-tenant created first under the name and left for us.
        owner_sid ours;
        owner_sid theirs;
        if (owner_of_new_objects(config.security_attributes, ours) || section_owner(name, theirs) ||
            !(ours == theirs)) {
            return make_error_code(errc::foreign_owner);
        }
    }
    const std::uint64_t view_size = m.view_size();
    const layout_plan plan{protocol::frame_layout::layout,
                           m.created() ? static_cast<std::size_t>(g.data_offset) : protocol::frame_layout::records_offset,
                           has_config && writable};
    bool initialized = false;
    std::error_code ec = establish_layout(
        m, plan,
        [&](std::byte* base) {
            if (g.total_size > view_size) {
                return errc::too_large; // a dead creator's section is smaller than our geometry
            }
            protocol::frame_layout::channel_view::initialize(base, g);
            return errc{};
        },
        initialized);
    if (ec) {
        return ec;
    }
    if (const errc e = protocol::frame_layout::channel_view::attach(m.base(), view_size, view); e != errc{}) {
        return make_error_code(e);
    }
    if (!m.created() && how == open_mode::open_or_create) {
        const protocol::frame_layout::geometry& have = view.shape();
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

inline std::error_code make_core(mapped_section&& m, const protocol::frame_layout::channel_view& view,
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

// The channel under the caller's name mapped and wrapped in a core, before any role is taken.
inline std::error_code map_core(open_mode how, const name_ref& requested, const writer_options& geometry,
                                bool writable, const SECURITY_ATTRIBUTES* objects_sa, object_name& name,
                                std::unique_ptr<channel_core>& out) noexcept
{
    std::error_code ec = make_base_name(requested, name);
    if (ec) {
        return ec;
    }
    mapped_section m;
    protocol::frame_layout::channel_view view;
    if ((ec = map_channel(how, name, geometry, writable, m, view))) {
        return ec;
    }
    return make_core(std::move(m), view, objects_sa, out);
}

// The writer's channel: mapped, the writer role claimed, and a sibling of its own made and
// published. Every step that fails leaves the channel as it was (the role is given back).
inline std::error_code open_writer_channel(open_mode how, const name_ref& requested, const writer_options& options,
                                           std::unique_ptr<channel_core>& out) noexcept
{
    SECURITY_ATTRIBUTES* const notification = options.notification_security_attributes != nullptr
                                                  ? options.notification_security_attributes
                                                  : options.security_attributes;
    object_name name;
    std::unique_ptr<channel_core> core;
    std::error_code ec = map_core(how, requested, options, true, notification, name, core);
    if (ec) {
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
    // release: a reader that reads the nonce finds the sibling initialised (acq_rel exchange,
    // protocol/frame.hpp's publish_sibling).
    const std::uint64_t old_nonce = core->view.publish_sibling(nonce);
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
    std::unique_ptr<channel_core> core;
    std::error_code ec = map_core(open_mode::open_only, requested, writer_options{},
                                  options.access == access_mode::read_write, options.security_attributes, name, core);
    if (ec) {
        return ec;
    }
    core->has_channel_owner = !section_owner(name, core->channel_owner);
    if ((ec = core->attach_current_sibling())) {
        return ec;
    }
    out = std::move(core);
    return {};
}

} // namespace winmmf::detail
