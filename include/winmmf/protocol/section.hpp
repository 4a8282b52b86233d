// winmmf/protocol/section.hpp - how every winmmf layout is created and opened: one handshake,
// one snapshot rule, one committed-pages rule.
// Win32 shell: winmmf/detail/section.hpp
//
// Platform-independent (unstable internals). The robust lock's header, the frame channel, its
// notification sibling and the standalone notification all start with the same 16-byte
// prologue and go through the steps below; detail/section.hpp is the Win32 shell that maps the
// section and calls them. WinMMF's own layout (compatible_lock) keeps WinMMF's creation
// sequence, byte for byte, and is not described here.
//
//   offset 0  marker   u32  the layout's marker (lock_word.hpp), where WinMMF keeps its lock word
//   offset 4  version  u32  0 until the header is ready, then the layout version
//   offset 8  init     u64  0, the identity of the process initialising it, or the ready value
//
// Creation, on a section this process has just created (the kernel zero-fills it; an opener,
// or a WinMMF peer using the same name by mistake, may map it before we write a byte):
//
//   1. first word 0 -> WinMMF's write lock (0x80000000): a WinMMF peer that mapped the new
//      section now finds it write-locked, so nobody writes into it from here on
//   2. the header must still be all zero (else a WinMMF peer wrote data before step 1: give the
//      lock back, and the creation fails with the layout's "foreign" error)
//   3. init 0 -> our identity
//   4. first word write lock -> the layout's marker (WinMMF peers now read "uninitialized")
//      ... the layout writes its own fields (geometry), nobody else touches the header ...
//   5. version, then init -> the ready value (release: all of the above is visible to whoever
//      sees it)
//
// An opener waits for the ready value. It takes the initialisation over only from a process
// that is certainly gone (protocol/identity.hpp), by a compare-exchange on init from that
// process's identity, and then runs steps 5 itself after rewriting the layout's fields. A
// creator that is merely slow is never overtaken: from step 3 on, init names it, and an opener
// waits for it (and times out) instead of guessing. A creator that dies in steps 1-3 leaves a
// first word that a WinMMF writer could have left too (its write lock, or 0 with data): the
// section is refused, never taken over, and goes away with its last handle.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/error.hpp>
#include <winmmf/protocol/atomic_word.hpp>
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/identity.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

namespace winmmf::protocol {

struct prologue {
    std::uint32_t marker;
    std::uint32_t version;
    std::uint64_t init;
};
static_assert(sizeof(prologue) == 16);
static_assert(offsetof(prologue, init) == 8);

// Bit 63 keeps a ready value apart from every identity; the version and a layout detail (the
// robust header's slot count) below it let another version be told apart from a corrupt word.
inline constexpr std::uint64_t ready_family = std::uint64_t{1} << 63;
constexpr std::uint64_t ready_value(std::uint32_t version, std::uint16_t detail = 0) noexcept
{
    return ready_family | (std::uint64_t{version} << 16) | detail;
}
constexpr bool is_ready_family(std::uint64_t init) noexcept
{
    return (init & ~std::uint64_t{0xFFFFFFFFu}) == ready_family;
}

// Which layout a caller expects, and how it names each refusal.
struct layout_kind {
    std::uint32_t marker = 0;
    std::uint32_t version = 0;
    std::uint64_t ready = 0;
    errc foreign = errc::wrong_layout;     // the first word is WinMMF's, or another layout's
    errc not_winmmf = errc::wrong_layout;  // the first word is nothing winmmf or WinMMF writes
    errc corrupt = errc::wrong_layout;     // init holds a value no step writes
};

// What the handshake needs from the platform (the same environment the robust lock waits with):
//   now()      monotonic time since any fixed point
//   alive(id)  false only when the process is certainly gone
//   pause(d)   give the CPU back for at most d
//   relax()    one spin-loop hint
// Optionally at(creation_step): the tests stage a stalled or dead creator there.
template <class E>
concept environment = requires(E& e, identity id, std::chrono::nanoseconds d) {
    { e.now() } -> std::same_as<std::chrono::nanoseconds>;
    { e.alive(id) } -> std::same_as<bool>;
    { e.pause(d) };
    { e.relax() };
};

// The points of creation at which a creator that stalls or dies leaves a state that is neither
// "nothing" nor "ready": right after steps 1, 3 and 4.
enum class creation_step : std::uint8_t { locked, claimed, marked };

namespace detail {

template <class E, class S>
void at(E& env, S s) noexcept
{
    if constexpr (requires { env.at(s); }) {
        env.at(s);
    }
}

// Every word of the prologue through memory M (protocol/atomic_word.hpp): std::atomic_ref over
// the mapping in the library, rl::atomic in the Relacy model.
template <class M>
word_t<M, std::uint32_t> ref32(std::uint32_t& w) noexcept
{
    return M::word(w);
}
template <class M>
word_t<M, std::uint64_t> ref64(std::uint64_t& w) noexcept
{
    return M::word(w);
}

// Whether the header after the first word is all zero. Read as 32-bit atomics, each once.
template <class M = mapped_memory>
bool rest_is_zero(const std::byte* base, std::size_t header_bytes) noexcept
{
    auto* words = reinterpret_cast<std::uint32_t*>(const_cast<std::byte*>(base));
    for (std::size_t i = 1; i < header_bytes / 4; ++i) {
        // relaxed: step 1's acquire (or the caller's) already ordered this after any writer.
        if (M::word(words[i]).load(std::memory_order_relaxed) != 0) {
            return false;
        }
    }
    return true;
}

} // namespace detail

// A plain atomic read of a shared field, for snapshots: every header value used for sizing,
// indexing, dividing or bounds is read exactly once, into a local, and only the local is
// validated and used (a check that re-reads shared memory is no check).
template <class M = mapped_memory, class T>
T load_once(const T& shared) noexcept
{
    // relaxed: the acquire load of the ready value (attach) ordered the read after the writes.
    return M::word(const_cast<T&>(shared)).load(std::memory_order_relaxed);
}

// ---- orders a mutation check weakens (protocol/atomic_word.hpp; tests/relacy/section_model.cpp) --
// Step 4's release: pairs with attach's acquire load of the marker, so that an opener that sees
// the marker also sees init naming the creator (never 0, which it would call corrupt).
inline constexpr std::memory_order marker_publish =
    order_unless_mutant(std::memory_order_release, "section_marker_release_dropped", std::memory_order_relaxed);
// Step 5's release: pairs with attach's acquire load of init; the layout's fields written
// before it are visible to every opener that sees the ready value.
inline constexpr std::memory_order ready_publish =
    order_unless_mutant(std::memory_order_release, "section_ready_release_dropped", std::memory_order_relaxed);
// attach's acquire loads of the marker and of init: the other half of both pairs above.
inline constexpr std::memory_order ready_observe =
    order_unless_mutant(std::memory_order_acquire, "section_ready_acquire_dropped", std::memory_order_relaxed);

// Steps 1-4 on a section this process created; `header_bytes` (a multiple of 4, at least 16) is
// the part of the view the layout owns before any payload. On success init names `me` and the
// marker is in place: write the layout's fields, then publish_ready().
template <class M = mapped_memory, class Env>
errc begin_creation(std::byte* base, std::size_t header_bytes, identity me, const layout_kind& kind, Env& env) noexcept
{
    auto& p = *reinterpret_cast<prologue*>(base);
    auto first = detail::ref32<M>(p.marker);
    std::uint32_t expected = 0;
    // acq_rel: a WinMMF peer's data written before its last unlock (release) is visible to the
    // check below; our later stores stay after the lock.
    if (!first.compare_exchange_strong(expected, protocol::lock_word::write_lock_mask, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        return kind.foreign; // a WinMMF peer holds its lock on our new section
    }
    detail::at(env, creation_step::locked);
    if (!detail::rest_is_zero<M>(base, header_bytes)) {
        // A WinMMF peer locked, wrote and unlocked before step 1: the section is its mapping.
        expected = protocol::lock_word::write_lock_mask;
        // release: gives WinMMF's lock back as an unlock does (pairs with its lockers' acquire).
        first.compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed);
        return kind.foreign;
    }
    std::uint64_t unclaimed = 0;
    // relaxed: the marker's release (below) publishes it. Nobody who follows a protocol writes
    // init while the first word is the write lock (openers only wait), and it was zero above.
    if (!detail::ref64<M>(p.init).compare_exchange_strong(unclaimed, pack(me), std::memory_order_relaxed)) {
        expected = protocol::lock_word::write_lock_mask;
        // release: as above, WinMMF's unlock.
        first.compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed);
        return kind.foreign;
    }
    detail::at(env, creation_step::claimed);
    expected = protocol::lock_word::write_lock_mask;
    // release: an opener that reads the marker (acquire) also reads init == me, never 0.
    if (!first.compare_exchange_strong(expected, kind.marker, marker_publish, std::memory_order_relaxed)) {
        // Only compatible_lock::force_unlock_stale_lock (someone's explicit reset of a WinMMF
        // lock they believed stale) changes the word here: leave the section to them.
        std::uint64_t mine = pack(me);
        // relaxed: nobody reads init of a section whose first word is not our marker.
        detail::ref64<M>(p.init).compare_exchange_strong(mine, 0, std::memory_order_relaxed);
        return kind.foreign;
    }
    detail::at(env, creation_step::marked);
    return errc{};
}

// Step 5, by the process whose identity init holds.
template <class M = mapped_memory>
errc publish_ready(std::byte* base, identity me, const layout_kind& kind) noexcept
{
    auto& p = *reinterpret_cast<prologue*>(base);
    // relaxed: the init exchange below is the release that publishes it.
    detail::ref32<M>(p.version).store(kind.version, std::memory_order_relaxed);
    std::uint64_t expected = pack(me);
    // release (ready_publish): pairs with attach's acquire load of init; everything the
    // initialiser wrote (the layout's fields, the version) happens before an opener that sees
    // ready uses it.
    if (!detail::ref64<M>(p.init).compare_exchange_strong(expected, kind.ready, ready_publish,
                                                         std::memory_order_relaxed)) {
        return kind.corrupt; // init no longer names us: a liveness misjudgement, or a stray write
    }
    return errc{};
}

struct attach_result {
    errc error{};
    // True when this process took the initialisation over from a dead creator: init now names
    // it; it must write the layout's fields and then publish_ready().
    bool must_initialize = false;
};

// The time between two liveness checks of the same wait: half the recovery bound, so a
// creator that dies is noticed within the bound.
constexpr std::chrono::nanoseconds check_interval(std::chrono::nanoseconds bound) noexcept
{
    return std::max(bound / 2, std::chrono::nanoseconds(1));
}
// A creator that is merely slow usually finishes within microseconds; checking its liveness
// before this much waiting would spend system calls on live creators.
inline constexpr std::chrono::nanoseconds first_check_delay = std::chrono::milliseconds(1);

// Waits up to `max_wait` for the header to be ready. `may_initialize` false (a read-only view,
// or a caller that cannot rewrite the layout's fields): a dead creator is reported as
// errc::uninitialized instead of taken over. Errors: the kind's foreign, not_winmmf and
// corrupt codes; unsupported_layout_version for another version of this layout; timeout for a
// live initialiser that does not finish in time.
template <class M = mapped_memory, class Env>
attach_result attach(std::byte* base, std::size_t header_bytes, identity me, const layout_kind& kind,
                     std::chrono::nanoseconds max_wait, std::chrono::nanoseconds bound, Env& env,
                     bool may_initialize) noexcept
{
    using std::chrono::nanoseconds;
    auto& p = *reinterpret_cast<prologue*>(base);
    const nanoseconds start = env.now();
    const nanoseconds deadline = ::winmmf::detail::deadline_after(start, max_wait);
    const nanoseconds interval = check_interval(bound);
    nanoseconds next_check = start + std::min(interval, first_check_delay);
    for (;;) {
        // acquire (ready_observe): pairs with the marker's release (step 4) and the ready
        // value's (step 5). The version is read after init's acquire and stored before its
        // release, so relaxed suffices for it.
        const std::uint32_t first = detail::ref32<M>(p.marker).load(ready_observe);
        const std::uint64_t init = detail::ref64<M>(p.init).load(ready_observe);
        const std::uint32_t version = detail::ref32<M>(p.version).load(std::memory_order_relaxed);
        const nanoseconds now = env.now();
        const bool check_due = now >= next_check;
        if (check_due) {
            next_check = now + interval;
        }
        if (first == kind.marker) {
            if (init == kind.ready && version == kind.version) {
                return {};
            }
            if ((version != 0 && version != kind.version) || is_ready_family(init)) {
                return {errc::unsupported_layout_version};
            }
            if (!is_identity(init)) {
                return {kind.corrupt}; // no step leaves the marker without a named initialiser
            }
            const identity initialiser = owner_of(init);
            if (check_due && initialiser != me && !env.alive(initialiser)) {
                if (!may_initialize) {
                    return {errc::uninitialized};
                }
                std::uint64_t expected = init;
                // acquire: whatever the dead creator wrote is before our rewrite; nobody else
                // writes the header while init names us.
                if (detail::ref64<M>(p.init).compare_exchange_strong(expected, pack(me), std::memory_order_acquire,
                                                                    std::memory_order_relaxed)) {
                    return {errc{}, true};
                }
                continue; // another opener took it over first: wait for that one
            }
        } else if (first == 0) {
            if (!detail::rest_is_zero<M>(base, header_bytes)) {
                // A creator locks the first word before it writes anything, so data behind a
                // zero first word is a WinMMF mapping's - unless the creator has locked it since.
                // acquire: pairs with a creator's step 1 exchange (acq_rel), which precedes its writes.
                if (detail::ref32<M>(p.marker).load(std::memory_order_acquire) == 0) {
                    return {kind.foreign};
                }
                continue;
            }
        } else if (first != protocol::lock_word::write_lock_mask) {
            // Not ours and not a creator at work: WinMMF's states, another layout's marker, or a
            // word that nothing writes.
            return {protocol::lock_word::classify(first) == protocol::lock_word::state::corrupt ? kind.not_winmmf : kind.foreign};
        }
        // Still at work: a creator in steps 1-4 (or a WinMMF writer holding its lock), a fresh
        // section whose creator has not started, or a live initialiser.
        if (now >= deadline) {
            return {first == kind.marker ? errc::timeout : kind.foreign};
        }
        env.pause(std::min(deadline, next_check) - now);
    }
}

// ---- committed pages ---------------------------------------------------------------------------
//
// A section made by winmmf is pagefile-backed and committed (SEC_COMMIT). Anyone may create a
// section under the name first, with SEC_RESERVE: it maps fine, but every page is only reserved,
// and on Windows the first read of the header faults. So an opener checks the view's regions
// (VirtualQuery) before it reads a byte.

namespace win32_memory {
inline constexpr std::uint32_t mem_commit = 0x1000;
inline constexpr std::uint32_t page_noaccess = 0x01;
inline constexpr std::uint32_t page_guard = 0x100;
} // namespace win32_memory

// One region of a view as VirtualQuery describes it.
struct region_facts {
    std::uint32_t state = 0;   // MEM_COMMIT, MEM_RESERVE, MEM_FREE
    std::uint32_t protect = 0; // PAGE_* of the region
    std::uint64_t size = 0;    // bytes
};

// The regions of one view, in address order, as far as they belong to it. errc{} when every
// region is committed and readable; `total` is then the view's length.
constexpr errc check_view_regions(std::span<const region_facts> regions, std::uint64_t& total) noexcept
{
    total = 0;
    if (regions.empty()) {
        return errc::uncommitted_view;
    }
    for (const region_facts& r : regions) {
        if (r.state != win32_memory::mem_commit || r.size == 0 ||
            (r.protect & (win32_memory::page_noaccess | win32_memory::page_guard)) != 0 || r.protect == 0) {
            return errc::uncommitted_view;
        }
        total += r.size;
    }
    return errc{};
}

} // namespace winmmf::protocol
