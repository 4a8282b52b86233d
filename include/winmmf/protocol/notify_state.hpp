// winmmf/protocol/notify_state.hpp - the shared-memory half of a cross-process notification.
// Win32 shell: winmmf/detail/notify_endpoint.hpp
//
// Platform-independent: a few atomics and the orderings that make "check, then sleep" safe, over
// memory M (std::atomic_ref in the library, rl::atomic in the Relacy model; protocol/atomic_word.hpp).
// The kernel half (one auto-reset event per waiter slot, created by name) is in detail/notify_endpoint.hpp;
// here is only what ThreadSanitizer can check natively.
//
// The protocol (docs/explanation/frames.md explains it at length):
//
//   notifier                               waiter in slot i, which has seen sequence s
//   1. sequence.fetch_add(1)    (seq_cst)  1. waiting.fetch_or(1 << i)        (seq_cst)
//   2. m = waiting.load()       (seq_cst)  2. if sequence.load() != s: leave  (seq_cst)
//   3. signal the event of every bit in m  3. sleep on event i; then clear the bit
//
// Both sides write one word and then read the other's word, all seq_cst, so in the single
// total order of those four operations at least one side sees the other: either the waiter
// sees the new sequence and does not sleep, or the notifier sees the bit and signals event i,
// which stays signalled until the waiter consumes it. No wake-up can fall between the check
// and the sleep. A notifier that finds `waiting == 0` makes no system call at all. The
// argument holds wherever the two words live: a frame channel keeps `sequence` in the channel
// mapping and `waiting` in a sibling mapping, and seq_cst orders operations on both.
#pragma once

#include <winmmf/protocol/atomic_word.hpp>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace winmmf::protocol {

// One bit per waiter slot in a 64-bit word: the notifier's "is anybody waiting?" is one load.
inline constexpr std::uint32_t max_waiters = 64;

// The waiters' half of a notification: who is asleep, and who owns each slot. Waiters write
// it; a notifier only reads `waiting` (and a process that reclaims a dead waiter's slot writes
// it too). A frame channel keeps this block in a mapping of its own, so that it can be
// writable for readers that may only read the frames (see protocol/frame.hpp).
//
// Lives in shared memory, so every field has a fixed width and an explicit alignment: the
// layout is identical for 32- and 64-bit processes (a 32-bit compiler aligns a bare uint64_t
// member to 4). Each hot word has its own cache line so that waiters coming and going do not
// slow the notifier.
struct waiter_block {
    alignas(64) std::uint64_t waiting;            // bit i: slot i is about to sleep, or sleeping
    alignas(64) std::uint64_t slots[max_waiters]; // claim word of each slot: 0, or its owner's identity
};
static_assert(offsetof(waiter_block, waiting) == 0);
static_assert(offsetof(waiter_block, slots) == 64);
static_assert(sizeof(waiter_block) == 64 + 8 * max_waiters);

// A standalone notification (notification.hpp): the sequence and the waiters in one block.
struct notify_block {
    alignas(64) std::uint64_t sequence; // bumped by every notify
    waiter_block waiters;
};
static_assert(offsetof(notify_block, sequence) == 0);
static_assert(offsetof(notify_block, waiters) == 64);
static_assert(offsetof(notify_block, waiters) + offsetof(waiter_block, slots) == 128);
static_assert(sizeof(notify_block) == 128 + 8 * max_waiters);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "notification words are shared between processes; they must be lock-free");

// Each waiter slot is owned by one process while a waiter of that process uses it: its claim
// word is 0 (free) or the owner's identity (protocol/identity.hpp), changed only by
// compare-exchange. A slot whose owner is certainly gone may be claimed by anyone; nothing but
// the kernel's answer about the owner's process decides that, so no co-tenant can make a dead
// waiter's slot look taken by keeping a named object of it alive.

// ---- orders ------------------------------------------------------------------------------------
//
// The four accesses of the handshake above are seq_cst: weakening any one of them allows the
// store-buffering outcome (each side misses the other's write) and so a lost wake-up. The two
// reads and the bump are the ones the model's mutation checks weaken (protocol/atomic_word.hpp;
// tests/relacy/notify_model.cpp); the waiter's fetch_or is the bump's mirror image.
inline constexpr std::memory_order waiter_check =
    order_unless_mutant(std::memory_order_seq_cst, "notify_waiter_check_acquire", std::memory_order_acquire);
inline constexpr std::memory_order notifier_check =
    order_unless_mutant(std::memory_order_seq_cst, "notify_notifier_check_acquire", std::memory_order_acquire);
inline constexpr std::memory_order notifier_bump =
    order_unless_mutant(std::memory_order_seq_cst, "notify_bump_release", std::memory_order_release);
// sequence(): acquire, the other half of the bump's release (what the notifier wrote before it).
inline constexpr std::memory_order sequence_observe =
    order_unless_mutant(std::memory_order_acquire, "notify_sequence_acquire_dropped", std::memory_order_relaxed);

// The waiters a notifier must signal, read from a waiter block alone (a frame writer wakes the
// sleepers of a sibling it replaced). seq_cst: the notifier's read of the Dekker pair, after its
// own write (the bump, or the new sibling's nonce).
template <class M = mapped_memory>
std::uint64_t waiters_to_signal(waiter_block& waiters) noexcept
{
    return M::word(waiters.waiting).load(notifier_check);
}

// A view onto a notification's words: the sequence, and the waiter block. The two may live in
// different mappings (a frame channel's sequence is in the channel, where only the writer may
// write it; its waiters are in the notification sibling). The waiter block may be absent: then
// the sequence can be read and bumped, and nobody can be announced. Copyable, no ownership.
//
// Nothing here trusts the waiter block: any bit pattern in it is a valid state (a bit is a
// slot index below 64, a claim word any 64-bit value), so a process that scribbles over it can
// cost the notifier at most one signal per slot, and cannot make it read out of bounds. The mask
// is read once per notify, and only the local copy is used.
template <class M = mapped_memory>
class basic_notify_state {
public:
    using word = word_t<M, std::uint64_t>;

    basic_notify_state() noexcept = default;
    explicit basic_notify_state(notify_block* block) noexcept
        : sequence_(&block->sequence), waiters_(&block->waiters)
    {
    }
    basic_notify_state(std::uint64_t* sequence, waiter_block* waiters) noexcept
        : sequence_(sequence), waiters_(waiters)
    {
    }

    bool valid() const noexcept { return sequence_ != nullptr; }
    // Whether waiters can be announced (and so whether anyone can sleep on this state).
    bool has_waiters() const noexcept { return waiters_ != nullptr; }

    // acquire (sequence_observe): pairs with the release half of the notifier's bump, so whatever
    // the notifier wrote before notifying (a frame, its published sequence) is visible once the
    // change is seen.
    std::uint64_t sequence() const noexcept { return seq().load(sequence_observe); }

    // Notifier steps 1 and 2: returns the waiters to signal (0: nobody, so no system call).
    // The release half of the increment publishes whatever the notifier wrote before it.
    std::uint64_t bump() noexcept
    {
        // notifier_bump (seq_cst): the notifier's write of the Dekker pair.
        seq().fetch_add(1, notifier_bump);
        return waiters_ != nullptr ? waiters_to_signal<M>(*waiters_) : 0;
    }

    // Waiter steps 1 and 2: announce slot `slot`, then look again. Returns the sequence seen
    // after announcing: if it differs from what the caller had seen, the caller must withdraw
    // instead of sleeping. Needs the waiter block.
    std::uint64_t announce(std::uint32_t slot) noexcept
    {
        // seq_cst: the waiter's write of the Dekker pair.
        mask().fetch_or(bit(slot), std::memory_order_seq_cst);
        // waiter_check (seq_cst): the waiter's read of the Dekker pair, after its write.
        return seq().load(waiter_check);
    }

    void withdraw(std::uint32_t slot) noexcept
    {
        // release: the bit only decides who gets signalled; a notifier that still sees it costs
        // one spurious SetEvent, one that sees it cleared skips a waiter that no longer sleeps.
        mask().fetch_and(~bit(slot), std::memory_order_release);
    }

    // acquire: diagnostics (waiting_count); a notifier uses bump()'s seq_cst read instead.
    std::uint64_t waiting_mask() const noexcept
    {
        return waiters_ != nullptr ? mask().load(std::memory_order_acquire) : 0;
    }
    std::size_t waiting_count() const noexcept
    {
        return static_cast<std::size_t>(std::popcount(waiting_mask()));
    }

    // A slot's claim word (protocol/identity.hpp's try_claim / release_claim order it).
    word slot_word(std::uint32_t slot) const noexcept { return M::word(waiters_->slots[slot % max_waiters]); }

    std::uint64_t* slot_address(std::uint32_t slot) const noexcept { return &waiters_->slots[slot % max_waiters]; }

    static constexpr std::uint64_t bit(std::uint32_t slot) noexcept
    {
        return std::uint64_t{1} << (slot % max_waiters);
    }

private:
    word seq() const noexcept { return M::word(*sequence_); }
    word mask() const noexcept { return M::word(waiters_->waiting); }

    std::uint64_t* sequence_ = nullptr;
    waiter_block* waiters_ = nullptr;
};

// The library's view (std::atomic_ref over the mapping).
using notify_state = basic_notify_state<mapped_memory>;

} // namespace winmmf::protocol
