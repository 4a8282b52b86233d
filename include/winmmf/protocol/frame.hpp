// winmmf/protocol/frame.hpp - the frame channel's shared layout and its sequence-lock protocol.
// Win32 shell: winmmf/detail/frame_core.hpp
//
// Platform-independent: fixed-width structures in shared memory, the size arithmetic, and the
// few atomic steps by which one writer publishes frames that any number of readers take, over
// memory M (std::atomic_ref and memcpy in the library, rl::atomic in the Relacy model;
// protocol/atomic_word.hpp). The Windows half (mappings, events, the writer claim) is detail/frame_core.hpp; this half is what
// the native ThreadSanitizer build exercises. docs/explanation/frames.md explains the design.
//
// Layout of a channel mapping (offsets from the start of the view), version 3:
//
//   0      channel_header   64 B   protocol/section.hpp's prologue (marker, version, init), then
//                                  the geometry
//   64     channel_control 192 B   published sequence, writer role, sibling nonce, closed flag,
//                                  notify sequence
//   256    slot_record[slots]      per slot: the sequence-lock stamp and the frame's metadata
//   data   slot 0 payload          page-aligned; each slot is slot_stride bytes (a page multiple)
//   ...    slot 1 payload, ...
//
// The first word is protocol::lock_word::channel_layout_marker: a WinMMF peer reads it as
// "uninitialized" and refuses every lock, and winmmf's compatible_lock reports
// errc::wrong_lock_policy, so neither can be talked into writing over a channel.
//
// The writer role is the identity of the writer's process (protocol/identity.hpp) in the
// channel's control block, which only principals that may write the frames can change; a reader
// judges the writer's liveness by that process alone. Nothing derived from the channel's name
// decides who writes or whether the writer lives.
//
// The readers' waiter slots live in a second mapping, the notification sibling
// "<channel>#<nonce>" (notify_header, then a protocol::waiter_block), where the nonce is 64
// random bits each writer chooses when it takes the role and publishes in `sibling` once the
// sibling exists: nobody can create it first, and every writer gets a fresh one. A blocking
// reader must write there to announce itself, so the sibling can be secured apart from the
// frames: a service grants users read-only frames and a writable sibling. Everything a reader
// trusts - frames, metadata, `published`, `closed` and the notify sequence it sleeps on - stays
// in the channel mapping, which only the writer may write; the sibling decides only who gets
// woken.
#pragma once

#include <winmmf/protocol/atomic_word.hpp>
#include <winmmf/protocol/notify_state.hpp>
#include <winmmf/error.hpp>
#include <winmmf/frame_types.hpp>
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/page.hpp>
#include <winmmf/protocol/identity.hpp>
#include <winmmf/protocol/section.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>

namespace winmmf::protocol {

namespace frame_layout {

// 2: the waiter slots moved out to the notification sibling (version 1 had them in
// channel_control). 3: protocol/section.hpp's handshake; the writer role is a process identity
// and the sibling's name carries the writer's nonce. Readers and writers of one version refuse
// the other (errc::unsupported_layout_version) rather than misread it.
inline constexpr std::uint32_t version = 3;
inline constexpr std::uint32_t min_slots = 2;  // one being written, one complete
inline constexpr std::uint32_t max_slots = 64;
inline constexpr std::uint32_t default_slots = 3;
// How often a reader retries when the writer overwrites the frame it was copying, before it
// reports errc::frame_overwritten. Each retry goes to the newest frame, which has the most time
// left before the writer comes back to its slot.
inline constexpr unsigned max_read_attempts = 16;

// Offset 0.
struct channel_header {
    std::uint32_t marker;      // protocol::lock_word::channel_layout_marker
    std::uint32_t version;     // 0 until the creator has published the geometry; then `version`
    std::uint64_t init;        // the handshake's word (protocol/section.hpp)
    std::uint32_t slot_count;
    std::uint32_t reserved0;
    alignas(8) std::uint64_t max_frame_size; // bytes a frame may have
    alignas(8) std::uint64_t slot_stride;    // bytes from one slot's payload to the next
    alignas(8) std::uint64_t data_offset;    // slot 0's payload, from the start of the view
    alignas(8) std::uint64_t total_size;     // bytes of the view the layout uses
    alignas(8) std::uint64_t reserved1;
};
static_assert(sizeof(channel_header) == 64);
static_assert(offsetof(channel_header, init) == 8);
static_assert(offsetof(channel_header, slot_count) == 16);
static_assert(offsetof(channel_header, max_frame_size) == 24);
static_assert(offsetof(channel_header, total_size) == 48);

inline constexpr std::size_t header_size = sizeof(channel_header);

// Offset 64: what changes while the channel runs. Hot words on lines of their own.
struct channel_control {
    alignas(64) std::uint64_t published;       // sequence of the newest complete frame; 0: none yet
    alignas(64) std::uint64_t writer;          // 0, or the identity of the writer's process
    std::uint64_t sibling;                     // the current writer's sibling nonce; 0: none yet
    std::uint32_t closed;                      // 1 once the writer closed: end of stream
    std::uint32_t reserved;
    alignas(64) std::uint64_t notify_sequence; // bumped after every publish and at close; readers
                                               // sleep until it moves (notify_state.hpp)
};
static_assert(offsetof(channel_control, published) == 0);
static_assert(offsetof(channel_control, writer) == 64);
static_assert(offsetof(channel_control, sibling) == 72);
static_assert(offsetof(channel_control, closed) == 80);
static_assert(offsetof(channel_control, notify_sequence) == 128);
static_assert(sizeof(channel_control) == 192);

// One per slot. `stamp` is the slot's sequence lock: 2n while it holds complete frame n,
// 2n + 1 while frame n is being written into it, 0 before its first frame.
struct slot_record {
    alignas(64) std::uint64_t stamp;
    alignas(8) std::uint64_t size;
    alignas(8) std::int64_t publish_time;
    alignas(8) std::int64_t timestamp;
    alignas(8) std::uint64_t user_tag;
    std::uint32_t width;
    std::uint32_t height;
    std::uint32_t stride;
    std::uint32_t format;
};
static_assert(sizeof(slot_record) == 64);
static_assert(offsetof(slot_record, size) == 8);
static_assert(offsetof(slot_record, width) == 40);
static_assert(offsetof(slot_record, format) == 52);

inline constexpr std::size_t control_offset = header_size;
inline constexpr std::size_t records_offset = control_offset + sizeof(channel_control);
static_assert(records_offset == 256);

inline constexpr protocol::layout_kind layout{protocol::lock_word::channel_layout_marker, version,
                                              protocol::ready_value(version)};

// ---- the notification sibling ----------------------------------------------------------------

// "<channel>#<nonce>" (detail::with_nonce). 2: the prologue of protocol/section.hpp, and waiter
// claim words that hold process identities.
inline constexpr std::uint32_t notify_version = 2;

// Offset 0 of the sibling; its first word is protocol::lock_word::channel_notify_marker, so the sibling is
// never mistaken for a channel, a standalone notification or a WinMMF mapping (nor they for it).
struct notify_header {
    std::uint32_t marker;  // protocol::lock_word::channel_notify_marker
    std::uint32_t version; // 0 until the creator is done; then notify_version
    std::uint64_t init;    // the handshake's word
    std::uint32_t reserved[12];
};
static_assert(sizeof(notify_header) == 64);
static_assert(offsetof(notify_header, version) == 4);

inline constexpr std::size_t notify_header_size = sizeof(notify_header);
// The waiter block follows the header: its size is what the sibling's creator asks for.
inline constexpr std::size_t notify_block_size = sizeof(protocol::waiter_block);
static_assert(notify_header_size + notify_block_size == 640);

inline constexpr protocol::layout_kind notify_layout{protocol::lock_word::channel_notify_marker, notify_version,
                                                     protocol::ready_value(notify_version)};

struct geometry {
    std::uint32_t slot_count = 0;
    std::uint64_t max_frame_size = 0;
    std::uint64_t slot_stride = 0;
    std::uint64_t data_offset = 0;
    std::uint64_t total_size = 0;
};

// The geometry of a new channel: `slots` payloads of `max_frame_size` bytes, each starting on a
// page. Every step is overflow-checked, as compute_layout is.
constexpr errc compute_geometry(std::uint64_t max_frame_size, std::uint32_t slots,
                                std::uint64_t page_size, geometry& out) noexcept
{
    out = {};
    if (max_frame_size == 0) {
        return errc::zero_size;
    }
    if (slots < min_slots || slots > max_slots) {
        return errc::invalid_slot_count;
    }
    const auto stride = round_up(max_frame_size, page_size);
    const auto data = round_up(records_offset + std::uint64_t{slots} * sizeof(slot_record), page_size);
    if (!stride || !data || *stride > (std::numeric_limits<std::uint64_t>::max() - *data) / slots) {
        return errc::size_overflow;
    }
    out.slot_count = slots;
    out.max_frame_size = max_frame_size;
    out.slot_stride = *stride;
    out.data_offset = *data;
    out.total_size = *data + *stride * slots;
    return errc{};
}

// The header's geometry fields as they are now, each read exactly once. check_geometry judges
// this copy, and only this copy is used afterwards: a process that may write the header can
// change it at any moment, and a value checked in shared memory and then read again there is a
// value nobody checked.
template <class M = mapped_memory>
channel_header snapshot_header(const std::byte* base) noexcept
{
    const auto& shared = *reinterpret_cast<const channel_header*>(base);
    channel_header h{};
    h.slot_count = protocol::load_once<M>(shared.slot_count);
    h.max_frame_size = protocol::load_once<M>(shared.max_frame_size);
    h.slot_stride = protocol::load_once<M>(shared.slot_stride);
    h.data_offset = protocol::load_once<M>(shared.data_offset);
    h.total_size = protocol::load_once<M>(shared.total_size);
    return h;
}

// Checks a snapshot of an existing channel's header against the view it was found in. A header
// that does not add up is refused before any offset in it is used.
constexpr errc check_geometry(const channel_header& h, std::uint64_t view_size, geometry& out) noexcept
{
    out = {};
    geometry expected;
    if (h.slot_count < min_slots || h.slot_count > max_slots || h.max_frame_size == 0 ||
        h.slot_stride < h.max_frame_size || h.slot_stride % 64 != 0 || h.data_offset % 64 != 0 ||
        h.data_offset < records_offset + std::uint64_t{h.slot_count} * sizeof(slot_record) ||
        h.slot_stride > (std::numeric_limits<std::uint64_t>::max() - h.data_offset) / h.slot_count) {
        return errc::wrong_layout;
    }
    expected.slot_count = h.slot_count;
    expected.max_frame_size = h.max_frame_size;
    expected.slot_stride = h.slot_stride;
    expected.data_offset = h.data_offset;
    expected.total_size = h.data_offset + h.slot_stride * h.slot_count;
    if (expected.total_size != h.total_size || expected.total_size > view_size) {
        return errc::wrong_layout;
    }
    out = expected;
    return errc{};
}

// Copies that may race with the other side of the sequence lock (protocol/atomic_word.hpp): a
// memcpy in hardware, relaxed atomics under ThreadSanitizer, relaxed rl::atomic in the model.
using protocol::racy_copy;

// ---- orders ------------------------------------------------------------------------------------
//
// The per-slot sequence lock (Boehm, "Can seqlocks get along with programming language memory
// models?", 2012): the writer makes the stamp odd, fences (release), writes the bytes, and
// stores the even stamp (release); a reader loads the stamp (acquire), copies, fences
// (acquire) and loads the stamp again. The bytes are copied with racy_copy, so a reader that
// overlapped a write may copy a torn frame, and the second stamp load then tells it so: if it
// read any byte of the new frame, the writer's release fence (before that byte) synchronises
// with the reader's acquire fence (after it), so the odd stamp is visible to the second load.
// These are the orders a model's mutation checks weaken (protocol/atomic_word.hpp;
// tests/relacy/frame_model.cpp).
inline constexpr std::memory_order begin_fence =
    order_unless_mutant(std::memory_order_release, "frame_begin_fence_dropped", std::memory_order_relaxed);
inline constexpr std::memory_order validate_fence =
    order_unless_mutant(std::memory_order_acquire, "frame_validate_fence_dropped", std::memory_order_relaxed);
// The even stamp's release and the published sequence's release each publish a complete frame
// to a reader (locate() reads `published` with acquire before the stamp with acquire, and either
// pair alone orders the frame's bytes before the reader's copy): the models show that weakening
// one pair alone is not a failure, so the mutation checks weaken both halves of both pairs.
inline constexpr std::memory_order stamp_publish =
    order_unless_mutant(std::memory_order_release, "frame_commit_release_dropped", std::memory_order_relaxed);
inline constexpr std::memory_order published_store =
    order_unless_mutant(std::memory_order_release, "frame_commit_release_dropped", std::memory_order_relaxed);
inline constexpr std::memory_order stamp_observe =
    order_unless_mutant(std::memory_order_acquire, "frame_observe_acquire_dropped", std::memory_order_relaxed);
inline constexpr std::memory_order published_observe =
    order_unless_mutant(std::memory_order_acquire, "frame_observe_acquire_dropped", std::memory_order_relaxed);

// A fence of order `Mo`, or none for relaxed (which is what a mutation that drops one leaves).
template <class M, std::memory_order Mo>
void fence() noexcept
{
    if constexpr (Mo != std::memory_order_relaxed) {
        M::fence(Mo);
    }
}

// A view onto one channel's shared memory; copyable, no ownership.
template <class M = mapped_memory>
class basic_channel_view {
public:
    using word64 = word_t<M, std::uint64_t>;

    basic_channel_view() noexcept = default;

    // The creator (or an opener finishing a dead creator's work), between the handshake's
    // begin_creation and publish_ready: writes the geometry and empties the control block and
    // the slot records. The handshake's release publishes it.
    static basic_channel_view initialize(std::byte* base, const geometry& g) noexcept
    {
        auto* h = reinterpret_cast<channel_header*>(base);
        // relaxed: the handshake's publish_ready (release) publishes all of it.
        const auto put32 = [](std::uint32_t& w, std::uint32_t v) { M::word(w).store(v, std::memory_order_relaxed); };
        const auto put64 = [](std::uint64_t& w, std::uint64_t v) { M::word(w).store(v, std::memory_order_relaxed); };
        put32(h->slot_count, g.slot_count);
        put64(h->max_frame_size, g.max_frame_size);
        put64(h->slot_stride, g.slot_stride);
        put64(h->data_offset, g.data_offset);
        put64(h->total_size, g.total_size);
        // A dead creator may have left a writer claim or stamps behind: a taker starts clean.
        auto* c = reinterpret_cast<channel_control*>(base + control_offset);
        put64(c->published, 0);
        put64(c->writer, 0);
        put64(c->sibling, 0);
        put32(c->closed, 0);
        put64(c->notify_sequence, 0);
        auto* records = reinterpret_cast<slot_record*>(base + records_offset);
        for (std::uint32_t i = 0; i < g.slot_count; ++i) {
            put64(records[i].stamp, 0);
        }
        return basic_channel_view(base, g);
    }

    // An opener, once the handshake says the header is ready: snapshots and checks the geometry.
    static errc attach(std::byte* base, std::uint64_t view_size, basic_channel_view& out) noexcept
    {
        out = {};
        if (view_size < records_offset) {
            return errc::wrong_layout;
        }
        geometry g;
        if (const errc e = check_geometry(snapshot_header<M>(base), view_size, g); e != errc{}) {
            return e;
        }
        out = basic_channel_view(base, g);
        return errc{};
    }

    bool valid() const noexcept { return base_ != nullptr; }
    const geometry& shape() const noexcept { return geometry_; }
    // The channel's half of its notification: the sequence readers sleep on. `waiters` is the
    // sibling's block, or null where it is not mapped (the state then cannot announce anyone).
    protocol::basic_notify_state<M> notify(protocol::waiter_block* waiters) const noexcept
    {
        return protocol::basic_notify_state<M>(&control()->notify_sequence, waiters);
    }
    // acquire: pairs with the release half of the writer's bump (notify_state.hpp).
    std::uint64_t notify_sequence() const noexcept
    {
        return M::word(control()->notify_sequence).load(std::memory_order_acquire);
    }
    // The writer role's claim word (protocol/identity.hpp's try_claim / release_claim order it).
    word64 writer_word() const noexcept { return M::word(control()->writer); }
    // The writer's identity as it is now, for liveness checks. acquire: pairs with try_claim's
    // acq_rel exchange; a reader only judges the process it names.
    std::uint64_t writer() const noexcept { return writer_word().load(std::memory_order_acquire); }
    // The current writer's sibling nonce (0: no writer has published one). acquire: pairs with
    // publish_sibling's release, so a reader that sees the nonce finds the sibling made.
    std::uint64_t sibling() const noexcept { return M::word(control()->sibling).load(std::memory_order_acquire); }
    // The writer, once its sibling is initialised: returns the previous writer's nonce. acq_rel:
    // the release half pairs with sibling()'s acquire; the acquire half makes the previous
    // writer's sibling (whose waiters we wake) visible to us.
    std::uint64_t publish_sibling(std::uint64_t nonce) const noexcept
    {
        return M::word(control()->sibling).exchange(nonce, std::memory_order_acq_rel);
    }

    // acquire (published_observe): pairs with commit's release store, so the frame it names is
    // complete for us.
    std::uint64_t published() const noexcept { return published_ref().load(published_observe); }
    // acquire: pairs with set_closed's release (end of stream after the last frame).
    bool closed() const noexcept { return M::word(control()->closed).load(std::memory_order_acquire) != 0; }
    void set_closed(bool closed) const noexcept
    {
        // release: every frame published before closing is visible to a reader that sees it.
        M::word(control()->closed).store(closed ? 1u : 0u, std::memory_order_release);
    }

    std::uint32_t slot_of(std::uint64_t sequence) const noexcept
    {
        return static_cast<std::uint32_t>((sequence - 1) % geometry_.slot_count);
    }
    std::byte* payload(std::uint32_t slot) const noexcept
    {
        return base_ + geometry_.data_offset + geometry_.slot_stride * slot;
    }
    word64 stamp(std::uint32_t slot) const noexcept { return M::word(record(slot)->stamp); }

    // ---- the writer (only the process holding the writer claim calls these) -------------

    // Opens frame `sequence` for writing: its slot's stamp turns odd before a byte of the old
    // frame there changes, so a reader still copying that old frame will see the change.
    std::span<std::byte> begin_write(std::uint64_t sequence) const noexcept
    {
        const std::uint32_t slot = slot_of(sequence);
        // relaxed: the fence after it orders it before every byte written (begin_fence).
        stamp(slot).store(2 * sequence + 1, std::memory_order_relaxed);
        // release (begin_fence): pairs with a reader's acquire fence in still_valid; a reader
        // that copied any byte written after it sees the odd stamp on its second load.
        fence<M, begin_fence>();
        return {payload(slot), static_cast<std::size_t>(geometry_.max_frame_size)};
    }

    // Completes frame `sequence`: metadata, then the even stamp (release: the bytes and the
    // metadata are visible to whoever sees it), then the channel's "newest frame".
    void commit(std::uint64_t sequence, std::size_t size, std::int64_t publish_time,
                const frame_meta& meta) const noexcept
    {
        const std::uint32_t slot = slot_of(sequence);
        slot_record fields{};
        fields.size = size;
        fields.publish_time = publish_time;
        fields.timestamp = meta.timestamp;
        fields.user_tag = meta.user_tag;
        fields.width = meta.width;
        fields.height = meta.height;
        fields.stride = meta.stride;
        fields.format = static_cast<std::uint32_t>(meta.format);
        M::racy_copy(reinterpret_cast<std::byte*>(record(slot)) + offsetof(slot_record, size),
                     reinterpret_cast<const std::byte*>(&fields) + offsetof(slot_record, size),
                     sizeof(slot_record) - offsetof(slot_record, size));
        // release (stamp_publish): pairs with locate's acquire load of the stamp; the bytes and
        // the metadata are complete for a reader that sees the even stamp. (locate reads
        // `published` first, whose pair below publishes the same; either pair alone suffices.)
        stamp(slot).store(2 * sequence, stamp_publish);
        // release (published_store): pairs with published()'s acquire; the stamp store above is
        // before it, so a reader that sees `sequence` finds its slot stamped 2 * sequence or later.
        published_ref().store(sequence, published_store);
    }

    // Writes a whole frame: begin_write, copy, commit.
    void write(std::uint64_t sequence, std::span<const std::byte> frame, std::int64_t publish_time,
               const frame_meta& meta) const noexcept
    {
        const std::span<std::byte> slot = begin_write(sequence);
        M::racy_copy(slot.data(), frame.data(), frame.size());
        commit(sequence, frame.size(), publish_time, meta);
    }

    // ---- readers ----------------------------------------------------------------------------

    enum class read_status : std::uint8_t {
        frame,       // `out` holds a complete frame; `info` describes it
        no_new_frame, // nothing newer than `after` has been published
        too_small,   // the newest frame does not fit; info.size says how much it needs
        overwritten, // the writer lapped the reader max_read_attempts times in a row
    };

    // Copies the newest frame if it is newer than `after` (a sequence already taken). `retries`
    // is increased by the number of attempts the writer spoiled by lapping the reader.
    read_status read_latest(std::uint64_t after, std::span<std::byte> out, frame_info& info,
                            std::uint64_t& retries) const noexcept
    {
        for (unsigned attempt = 0; attempt < max_read_attempts; ++attempt, ++retries) {
            std::uint64_t expected_stamp = 0;
            std::uint32_t slot = 0;
            switch (locate(after, info, slot, expected_stamp)) {
            case locate_status::found:
                break;
            case locate_status::none:
                return read_status::no_new_frame;
            case locate_status::moved:
                continue;
            }
            if (info.size > out.size()) {
                return read_status::too_small;
            }
            M::racy_copy(out.data(), payload(slot), info.size);
            if (still_valid(slot, expected_stamp)) {
                return read_status::frame;
            }
        }
        return read_status::overwritten;
    }

    // Zero-copy: finds the newest frame newer than `after` and describes it without copying
    // its payload. The caller reads payload(slot) in place and then asks still_valid().
    read_status peek_latest(std::uint64_t after, frame_info& info, std::uint32_t& slot,
                            std::uint64_t& expected_stamp, std::uint64_t& retries) const noexcept
    {
        for (unsigned attempt = 0; attempt < max_read_attempts; ++attempt, ++retries) {
            switch (locate(after, info, slot, expected_stamp)) {
            case locate_status::found:
                return read_status::frame;
            case locate_status::none:
                return read_status::no_new_frame;
            case locate_status::moved:
                break;
            }
        }
        return read_status::overwritten;
    }

    // True if nothing in `slot` changed since its stamp read `expected_stamp`: the bytes read
    // from it in between belong to one complete frame.
    bool still_valid(std::uint32_t slot, std::uint64_t expected_stamp) const noexcept
    {
        // acquire (validate_fence): pairs with begin_write's release fence; the copies before it
        // are ordered before the stamp load after it.
        fence<M, validate_fence>();
        // relaxed: the fence above gives it the acquire it needs.
        return stamp(slot).load(std::memory_order_relaxed) == expected_stamp;
    }

private:
    basic_channel_view(std::byte* base, const geometry& g) noexcept : base_(base), geometry_(g) {}

    channel_control* control() const noexcept
    {
        return reinterpret_cast<channel_control*>(base_ + control_offset);
    }
    slot_record* record(std::uint32_t slot) const noexcept
    {
        return reinterpret_cast<slot_record*>(base_ + records_offset) + slot;
    }
    word64 published_ref() const noexcept { return M::word(control()->published); }

    enum class locate_status : std::uint8_t { found, none, moved };

    // One attempt at the newest frame's metadata, under its slot's sequence lock.
    locate_status locate(std::uint64_t after, frame_info& info, std::uint32_t& slot,
                         std::uint64_t& expected_stamp) const noexcept
    {
        const std::uint64_t newest = published();
        if (newest <= after) {
            return locate_status::none;
        }
        slot = slot_of(newest);
        expected_stamp = 2 * newest;
        // acquire (stamp_observe): pairs with commit's release store of the even stamp.
        if (stamp(slot).load(stamp_observe) != expected_stamp) {
            return locate_status::moved; // already being rewritten: a newer frame is published
        }
        slot_record fields{};
        M::racy_copy(reinterpret_cast<std::byte*>(&fields) + offsetof(slot_record, size),
                  reinterpret_cast<const std::byte*>(record(slot)) + offsetof(slot_record, size),
                  sizeof(slot_record) - offsetof(slot_record, size));
        if (!still_valid(slot, expected_stamp)) {
            return locate_status::moved;
        }
        if (fields.size > geometry_.max_frame_size) {
            // Only a writer that breaks the protocol can leave this; never read past the slot.
            fields.size = geometry_.max_frame_size;
        }
        info.sequence = newest;
        info.skipped = newest - after - 1;
        info.size = static_cast<std::size_t>(fields.size);
        info.publish_time = fields.publish_time;
        info.meta.width = fields.width;
        info.meta.height = fields.height;
        info.meta.stride = fields.stride;
        info.meta.format = static_cast<pixel_format>(fields.format);
        info.meta.timestamp = fields.timestamp;
        info.meta.user_tag = fields.user_tag;
        return locate_status::found;
    }

    std::byte* base_ = nullptr;
    geometry geometry_{};
};

// The library's view (std::atomic_ref over the mapping, memcpy).
using channel_view = basic_channel_view<mapped_memory>;

} // namespace frame_layout
} // namespace winmmf::protocol
