// winmmf/lock_word.hpp - the WinMMF lock word and its compare-exchange state machine.
//
// Platform-independent: a std::atomic_ref over 4 bytes, nothing else. This is the code that
// ThreadSanitizer, the fork-based stress test and the fuzzer exercise natively on Linux, and
// the same code the Windows build runs. The protocol is the Rust crate WinMMF's, bit for bit
// (see docs/design.md and shared/winmmf-lock-layout.md): a WinMMF process sees our locks and
// we see its locks.
#pragma once

#include <winmmf/error.hpp>

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

// Why an operation must not proceed from state `w`; errc{} when it may.
constexpr errc refusal_for_read_lock(word_type w) noexcept
{
    switch (classify(w)) {
    case state::free:
        return errc{};
    case state::read_locked:
        return reader_count(w) == max_readers ? errc::max_readers : errc{};
    case state::write_locked:
        return errc::write_locked;
    case state::uninitialized:
        return errc::uninitialized;
    case state::foreign:
        return errc::wrong_lock_policy;
    case state::corrupt:
        break;
    }
    return errc::corrupt_lock_word;
}

constexpr errc refusal_for_read_unlock(word_type w) noexcept
{
    switch (classify(w)) {
    case state::read_locked:
        return errc{};
    case state::free:
        return errc::lock_violation;
    case state::write_locked:
        return errc::write_locked;
    case state::uninitialized:
        return errc::uninitialized;
    case state::foreign:
        return errc::wrong_lock_policy;
    case state::corrupt:
        break;
    }
    return errc::corrupt_lock_word;
}

constexpr errc refusal_for_write_lock(word_type w) noexcept
{
    switch (classify(w)) {
    case state::free:
        return errc{};
    case state::read_locked:
        return errc::read_locked;
    case state::write_locked:
        return errc::write_locked;
    case state::uninitialized:
        return errc::uninitialized;
    case state::foreign:
        return errc::wrong_lock_policy;
    case state::corrupt:
        break;
    }
    return errc::corrupt_lock_word;
}

constexpr errc refusal_for_write_unlock(word_type w) noexcept
{
    switch (classify(w)) {
    case state::write_locked:
        return errc{};
    case state::free:
    case state::read_locked:
        return errc::lock_violation;
    case state::uninitialized:
        return errc::uninitialized;
    case state::foreign:
        return errc::wrong_lock_policy;
    case state::corrupt:
        break;
    }
    return errc::corrupt_lock_word;
}

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
// observe, and it cost half of an uncontended lock/unlock (docs/benchmarks.md).
template <class Refusal, class Next>
errc transition(std::atomic_ref<word_type> word, word_type likely, Refusal refusal, Next next) noexcept
{
    word_type current = likely;
    for (;;) {
        if (const errc why = refusal(current); why != errc{}) {
            return why;
        }
        if (word.compare_exchange_weak(current, next(current), std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
            return errc{};
        }
    }
}

} // namespace detail

inline errc try_lock_read(std::atomic_ref<word_type> word) noexcept
{
    return detail::transition(word, 0, refusal_for_read_lock, [](word_type w) { return w + 1; });
}

inline errc unlock_read(std::atomic_ref<word_type> word) noexcept
{
    return detail::transition(word, 1, refusal_for_read_unlock, [](word_type w) { return w - 1; });
}

inline errc try_lock_write(std::atomic_ref<word_type> word) noexcept
{
    return detail::transition(word, 0, refusal_for_write_lock,
                              [](word_type w) { return w | write_lock_mask; });
}

inline errc unlock_write(std::atomic_ref<word_type> word) noexcept
{
    return detail::transition(word, write_lock_mask, refusal_for_write_unlock,
                              [](word_type w) { return w & ~write_lock_mask; });
}

// WinMMF's creation sequence on a freshly created (kernel zero-filled) section: mark the word
// uninitialized, then publish it as free. Fails only if another process wrote the word in
// between, which a correct peer never does on a section it did not create.
inline errc initialize(std::atomic_ref<word_type> word) noexcept
{
    word.store(uninitialized_value, std::memory_order_release);
    word_type expected = uninitialized_value;
    if (!word.compare_exchange_strong(expected, 0, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return errc::corrupt_lock_word;
    }
    return errc{};
}

} // namespace winmmf::protocol::lock_word
