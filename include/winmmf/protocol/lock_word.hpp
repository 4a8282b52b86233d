// winmmf/protocol/lock_word.hpp - the WinMMF lock word and its compare-exchange state machine.
// Win32 shell: winmmf/lock.hpp
//
// Platform-independent: an atomic word over 4 bytes (std::atomic_ref in the library, rl::atomic in
// the Relacy model; protocol/atomic_word.hpp), nothing else. This is the code that
// ThreadSanitizer, the fork-based stress test and the fuzzer exercise natively on Linux, and
// the same code the Windows build runs. The protocol is the Rust crate WinMMF's, bit for bit
// (see docs/reference/winmmf-protocol.md and docs/explanation/design.md): a WinMMF process sees our locks and
// we see its locks.
#pragma once

#include <winmmf/error.hpp>
#include <winmmf/protocol/atomic_word.hpp>

#include <atomic>
#include <cstdint>

namespace winmmf::protocol::lock_word {

using word_type = std::uint32_t;
static_assert(std::atomic_ref<word_type>::is_always_lock_free,
              "the lock word is shared between processes; it must be lock-free");

inline constexpr word_type initialize_mask = 0xFF000000u; // top byte 0xFF: uninitialized
inline constexpr word_type write_lock_mask = 0x80000000u; // bit 31: a writer holds it
inline constexpr word_type read_lock_mask = 0x00FFFFFFu;  // low 24 bits: reader count
inline constexpr word_type unused_mask = 0x7F000000u;     // bits 24-30, never set by WinMMF
inline constexpr word_type uninitialized_value = initialize_mask;
inline constexpr word_type max_readers = read_lock_mask;

// Every value a WinMMF peer can leave in the word falls in one of the first four states.
// The others are reported instead of being "repaired", because a guess could break
// mutual exclusion for a process we cannot see.
enum class state : std::uint8_t {
    free,          // 0
    read_locked,   // 1..0x00FFFFFF readers
    write_locked,  // exactly 0x80000000
    uninitialized, // exactly 0xFF000000: creation has not finished
    foreign,       // 0xFF000001..0xFFFFFFFF: a marker that another winmmf policy owns the layout
    corrupt,       // bits 24-30 set, or a writer together with readers
};

constexpr state classify(word_type w) noexcept
{
    if ((w & initialize_mask) == initialize_mask) {
        return w == uninitialized_value ? state::uninitialized : state::foreign;
    }
    if ((w & unused_mask) != 0) {
        return state::corrupt;
    }
    if ((w & write_lock_mask) != 0) {
        return (w & read_lock_mask) == 0 ? state::write_locked : state::corrupt;
    }
    return w == 0 ? state::free : state::read_locked;
}

constexpr word_type reader_count(word_type w) noexcept { return w & read_lock_mask; }

// Layouts that a WinMMF peer must not touch put one of these in the first word: the top
// byte 0xFF reads as "uninitialized" to WinMMF (so it refuses every lock), and the low 24
// bits say which winmmf layout owns the mapping. Each layout gets its own tag, here, so two
// layouts can never be mistaken for each other.
inline constexpr word_type make_marker(word_type tag24) noexcept
{
    return initialize_mask | (tag24 & read_lock_mask);
}
inline constexpr word_type robust_layout_marker = make_marker(0x524F42);  // "ROB"
inline constexpr word_type channel_layout_marker = make_marker(0x43484E); // "CHN"
inline constexpr word_type notify_layout_marker = make_marker(0x4E5446);  // "NTF"
// A frame channel's notification sibling ("<channel>#<nonce>": its waiter slots, secured apart
// from the frames so that read-only readers can still sleep).
inline constexpr word_type channel_notify_marker = make_marker(0x434E54); // "CNT"
static_assert(robust_layout_marker != uninitialized_value);
static_assert(channel_layout_marker != uninitialized_value);
static_assert(notify_layout_marker != uninitialized_value);
static_assert(channel_notify_marker != uninitialized_value);

// The four operations of the protocol table (docs/reference/winmmf-protocol.md).
enum class operation : std::uint8_t { read_lock, read_unlock, write_lock, write_unlock };

namespace detail {

// Why `op` must not proceed from a word in state `s`, the protocol table row by row; errc{} when it
// may. A full reader count (the one read_locked word lock_read refuses) is checked apart.
constexpr errc refusal(operation op, state s) noexcept
{
    switch (s) {
    case state::uninitialized:
        return errc::uninitialized;
    case state::foreign:
        return errc::wrong_lock_policy;
    case state::corrupt:
        return errc::corrupt_lock_word;
    case state::free:
        return op == operation::read_lock || op == operation::write_lock ? errc{} : errc::lock_violation;
    case state::read_locked:
        return op == operation::write_lock     ? errc::read_locked
               : op == operation::write_unlock ? errc::lock_violation
                                               : errc{};
    case state::write_locked:
        return op == operation::write_unlock ? errc{} : errc::write_locked;
    }
    return errc::corrupt_lock_word;
}

} // namespace detail

// Why an operation must not proceed from word `w`; errc{} when it may.
constexpr errc refusal_for(operation op, word_type w) noexcept
{
    if (op == operation::read_lock && classify(w) == state::read_locked && reader_count(w) == max_readers) {
        return errc::max_readers;
    }
    return detail::refusal(op, classify(w));
}
constexpr errc refusal_for_read_lock(word_type w) noexcept { return refusal_for(operation::read_lock, w); }
constexpr errc refusal_for_read_unlock(word_type w) noexcept { return refusal_for(operation::read_unlock, w); }
constexpr errc refusal_for_write_lock(word_type w) noexcept { return refusal_for(operation::write_lock, w); }
constexpr errc refusal_for_write_unlock(word_type w) noexcept { return refusal_for(operation::write_unlock, w); }

// ---- orders ------------------------------------------------------------------------------------
//
// WinMMF's exchanges are AcqRel on success and Acquire on failure, for every operation; ours are
// the same values, named so that a model's mutation check (protocol/atomic_word.hpp) can weaken
// one. What each pairs with (docs/explanation/memory-model.md; model tests/relacy/lock_word_model.cpp):
//   lock success, acquire half: reads the release of the previous holder's unlock, so the
//     previous critical section happens before ours;
//   unlock success, release half: published to the next locker's acquire; a reader's unlock
//     also releases, so a writer that follows it sees the reads done (no write-after-read race);
//   the other halves (release on lock, acquire on unlock) are WinMMF's and order nothing a
//     critical section relies on;
//   failure, acquire: WinMMF's; a refused call reads no shared data, so nothing depends on it.
inline constexpr std::memory_order lock_success =
    order_unless_mutant(std::memory_order_acq_rel, "lock_word_lock_acquire_dropped", std::memory_order_release);
inline constexpr std::memory_order lock_failure =
    order_unless_mutant(std::memory_order_acquire, "lock_word_lock_acquire_dropped", std::memory_order_relaxed);
inline constexpr std::memory_order unlock_success =
    order_unless_mutant(std::memory_order_acq_rel, "lock_word_unlock_release_dropped", std::memory_order_acquire);
inline constexpr std::memory_order unlock_failure = std::memory_order_acquire;

namespace detail {

// The WinMMF step: check the state, compare_exchange_weak (AcqRel / Acquire) to its successor,
// and on failure check the fresh value the exchange returned and go again. So a "try" fails
// only for a reason in the state, never because another process raced us.
//
// WinMMF reads the word first (an acquire load); we start the exchange from `likely`, the state
// an uncontended call finds (free, or held only by us). When the guess is right, that saves
// the load, and the cache line is fetched once, for writing; when it is wrong, the failed
// exchange is the acquire load, and the loop goes on exactly as WinMMF's does. Either way the
// values written to the word, and when, are WinMMF's.
//
// WinMMF also issues a SeqCst fence after each successful exchange; we do not. Acquire on
// locking and release on unlocking already order the data accesses of one critical section
// before the next (that is all a mutex promises), the fence orders nothing another process can
// observe, and it cost half of an uncontended lock/unlock (docs/explanation/benchmarks.md).
//
// `backoff(n)` runs before the exchange that follows the n-th lost one (from 0): a race lost,
// or the guess above proving wrong, when the fresh value still allows the step (a refusal
// returns at once). It only waits: the values written, and when they may be written, stay
// WinMMF's.
template <std::memory_order Success, std::memory_order Failure, class W, class Refusal, class Next, class Backoff>
errc transition(W word, word_type likely, Refusal refusal, Next next, Backoff& backoff) noexcept
{
    word_type current = likely;
    for (unsigned lost = 0;; ++lost) {
        if (const errc why = refusal(current); why != errc{}) {
            return why;
        }
        if (lost != 0) {
            backoff(lost - 1); // about to try again, the state still allowing it
        }
        // Success / Failure: the caller's constants above (lock or unlock), template arguments so
        // that the compiler sees exactly the constants it saw before the orders were named.
        if (word.compare_exchange_weak(current, next(current), Success, Failure)) {
            return errc{};
        }
    }
}

} // namespace detail

// What a step does after a lost exchange, by default: nothing, so that a model or the fuzzer
// explores only the protocol. The library passes a pause that grows (lock.hpp): under
// contention a process that lost then leaves the cache line to the winner for a run of
// operations, instead of every operation of every process moving it.
struct no_backoff {
    void operator()(unsigned) const noexcept {}
};

// The word type: std::atomic_ref over the mapping in the library; any atomic_word in a model.
template <atomic_word<word_type> W = std::atomic_ref<word_type>, class Backoff = no_backoff>
errc try_lock_read(W word, Backoff backoff = {}) noexcept
{
    return detail::transition<lock_success, lock_failure>(word, 0, refusal_for_read_lock,
                              [](word_type w) { return w + 1; }, backoff);
}

template <atomic_word<word_type> W = std::atomic_ref<word_type>, class Backoff = no_backoff>
errc unlock_read(W word, Backoff backoff = {}) noexcept
{
    return detail::transition<unlock_success, unlock_failure>(word, 1, refusal_for_read_unlock,
                              [](word_type w) { return w - 1; }, backoff);
}

template <atomic_word<word_type> W = std::atomic_ref<word_type>, class Backoff = no_backoff>
errc try_lock_write(W word, Backoff backoff = {}) noexcept
{
    return detail::transition<lock_success, lock_failure>(word, 0, refusal_for_write_lock,
                              [](word_type w) { return w | write_lock_mask; }, backoff);
}

template <atomic_word<word_type> W = std::atomic_ref<word_type>, class Backoff = no_backoff>
errc unlock_write(W word, Backoff backoff = {}) noexcept
{
    return detail::transition<unlock_success, unlock_failure>(word, write_lock_mask, refusal_for_write_unlock,
                              [](word_type w) { return w & ~write_lock_mask; }, backoff);
}

// WinMMF's creation sequence on a freshly created (kernel zero-filled) section: mark the word
// uninitialized, then publish it as free. Fails only if another process wrote the word in
// between, which a correct peer never does on a section it did not create.
template <atomic_word<word_type> W = std::atomic_ref<word_type>>
errc initialize(W word) noexcept
{
    // release: WinMMF's. Nothing was written before it; the exchange below publishes.
    word.store(uninitialized_value, std::memory_order_release);
    word_type expected = uninitialized_value;
    // acq_rel: the release half publishes the free word (and the kernel's zeros behind it) to the
    // first locker's acquire; acquire on failure is WinMMF's.
    if (!word.compare_exchange_strong(expected, 0, std::memory_order_acq_rel, std::memory_order_acquire)) {
        return errc::corrupt_lock_word;
    }
    return errc{};
}

// The raw word, for diagnostics and the open-time check (compatible_lock::value, attach).
// acquire: pairs with the release of whichever exchange wrote it; a diagnostic read orders nothing.
template <atomic_word<word_type> W = std::atomic_ref<word_type>>
word_type load(W word) noexcept
{
    return word.load(std::memory_order_acquire);
}

// compatible_lock::force_unlock: whatever the word holds, unless it is another layout's marker,
// becomes 0 (free). Returns the value replaced; `refused` is set (and nothing written) for a marker.
// acq_rel / acquire, as every WinMMF exchange: the release half publishes "free" to the next
// locker, the acquire half makes whatever a dead holder wrote visible to us.
template <atomic_word<word_type> W = std::atomic_ref<word_type>>
word_type force_unlock(W word, bool& refused) noexcept
{
    word_type current = load(word);
    do {
        if (classify(current) == state::foreign) {
            refused = true;
            return current;
        }
        // acq_rel / acquire: see above.
    } while (!word.compare_exchange_weak(current, 0, std::memory_order_acq_rel, std::memory_order_acquire));
    refused = false;
    return current;
}

} // namespace winmmf::protocol::lock_word
