// winmmf/acquire.hpp - how long a call may wait, and the one retry loop that obeys it.
//
// A lock held by another process can stay held for as long as that process likes (or
// forever, if it died). So no call waits without the caller's consent: each wait names its
// mode, and the only unbounded mode is the explicitly named spin_forever(). A mode may also
// carry a cancel_token (cancel_token.hpp): every wait of the library - locks, notifications,
// frame readers - is cancelled the same way, through the mode it was given.
#pragma once

#include <winmmf/detail/backoff.hpp>
#include <winmmf/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <ratio>
#include <string>
#include <system_error>

namespace winmmf {

namespace detail {

// What a wait needs from a cancel_token: the flag, and (on Windows) the event a kernel wait can
// wait on beside its own. cancel_token (cancel_token.hpp) is the one implementation; the pure
// protocol code sees only this.
class cancel_flag {
public:
    bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
    // The manual-reset event that cancel() signals; null where there is none.
    void* wait_handle() const noexcept { return wait_handle_; }

protected:
    cancel_flag() noexcept = default;
    ~cancel_flag() = default;
    void set(bool cancelled) noexcept { cancelled_.store(cancelled, std::memory_order_release); }
    void set_wait_handle(void* handle) noexcept { wait_handle_ = handle; }

private:
    std::atomic<bool> cancelled_{false};
    void* wait_handle_ = nullptr;
};

} // namespace detail

class acquire_mode {
public:
    enum class kind : std::uint8_t {
        try_once, // one attempt; fails with the reason found in the lock word
        wait,     // retry with spin, then SwitchToThread, then Sleep backoff until a deadline
        spin,     // retry on the CPU, as WinMMF's *_spin calls do, up to a number of tries
    };

    static constexpr acquire_mode try_once() noexcept { return {kind::try_once, {}, 1}; }

    // Waits up to `timeout`, then fails with errc::timeout (a zero or negative timeout makes one
    // attempt).
    template <class Rep, class Period>
    static constexpr acquire_mode wait_for(std::chrono::duration<Rep, Period> timeout) noexcept
    {
        using std::chrono::nanoseconds;
        if (timeout <= timeout.zero()) {
            return {kind::wait, nanoseconds(0), 0};
        }
        // Saturate instead of overflowing: hours::max() means "practically forever".
        if constexpr (std::ratio_greater_equal_v<Period, std::nano>) {
            using given = std::chrono::duration<Rep, Period>;
            if (timeout >= std::chrono::duration_cast<given>(nanoseconds::max())) {
                return {kind::wait, nanoseconds::max(), 0};
            }
        }
        return {kind::wait, std::chrono::duration_cast<nanoseconds>(timeout), 0};
    }

    // Busy-retries up to `max_tries` attempts, then fails with errc::max_tries_reached.
    static constexpr acquire_mode spin(std::uint64_t max_tries) noexcept
    {
        return {kind::spin, {}, max_tries == 0 ? 1 : max_tries};
    }

    // WinMMF's default: spin until acquired. If the holder died, this never returns; use it
    // only where that is acceptable.
    static constexpr acquire_mode spin_forever() noexcept
    {
        return {kind::spin, {}, std::numeric_limits<std::uint64_t>::max()};
    }

    // The same mode, ended early with errc::cancelled once `cancel` is cancelled (from any
    // thread). The token must outlive every wait given this mode.
    constexpr acquire_mode with_cancel(const detail::cancel_flag& cancel) const noexcept
    {
        acquire_mode m = *this;
        m.cancel_ = &cancel;
        return m;
    }

    constexpr kind how() const noexcept { return kind_; }
    constexpr std::chrono::nanoseconds timeout() const noexcept { return timeout_; }
    constexpr std::uint64_t max_tries() const noexcept { return max_tries_; }
    constexpr const detail::cancel_flag* cancel() const noexcept { return cancel_; }
    bool cancelled() const noexcept { return cancel_ != nullptr && cancel_->cancelled(); }

private:
    constexpr acquire_mode(kind k, std::chrono::nanoseconds timeout, std::uint64_t tries) noexcept
        : timeout_(timeout), max_tries_(tries), kind_(k)
    {
    }

    std::chrono::nanoseconds timeout_;
    std::uint64_t max_tries_;
    const detail::cancel_flag* cancel_ = nullptr;
    kind kind_;
};

// What read()/write() and argument-less lock calls use unless told otherwise.
inline constexpr std::chrono::milliseconds default_lock_timeout{1000};

// Conditions that another process can clear by itself, so waiting for them makes sense.
constexpr bool is_transient(errc e) noexcept
{
    return e == errc::read_locked || e == errc::write_locked || e == errc::max_readers ||
           e == errc::uninitialized;
}

namespace detail {

// The one deadline rule: `start + timeout`, saturating, so that wait_for(hours::max()) means
// "practically forever" and never an overflow into the past. For the protocols' own clocks
// (nanoseconds since any point, from their environment) and for the steady clock.
constexpr std::chrono::nanoseconds deadline_after(std::chrono::nanoseconds start, std::chrono::nanoseconds timeout) noexcept
{
    return timeout < std::chrono::nanoseconds::max() - start ? start + timeout : std::chrono::nanoseconds::max();
}
inline std::chrono::steady_clock::time_point deadline_after(std::chrono::steady_clock::time_point start,
                                                            std::chrono::nanoseconds timeout) noexcept
{
    using clock = std::chrono::steady_clock;
    const auto headroom = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::time_point::max() - start);
    return timeout >= headroom ? clock::time_point::max()
                               : start + std::chrono::duration_cast<clock::duration>(timeout);
}

// A wait's budget, fixed when the call starts, and spent across the whole call: tries for
// spin(n), a deadline for wait_for(d). Nothing that moves in shared memory - a sequence bumped
// without a frame, a lock word that keeps changing hands - gives any of it back, so spin(n) is
// at most n tries and wait_for(d) ends at d (plus the scheduler's slack) however often the loop
// around it goes round.
class wait_budget {
public:
    using clock = std::chrono::steady_clock;

    explicit wait_budget(const acquire_mode& mode) noexcept
        : mode_(mode),
          deadline_(mode.how() == acquire_mode::kind::wait ? deadline_after(clock::now(), mode.timeout())
                                                           : clock::time_point::max())
    {
    }

    acquire_mode::kind how() const noexcept { return mode_.how(); }
    const acquire_mode& mode() const noexcept { return mode_; }
    bool cancelled() const noexcept { return mode_.cancelled(); }
    bool blocking() const noexcept { return mode_.how() == acquire_mode::kind::wait; }
    bool spinning() const noexcept { return mode_.how() == acquire_mode::kind::spin; }

    // Spends one try of a spin budget; false when none is left. (Wait modes: always true.)
    bool take_try() noexcept
    {
        if (!spinning()) {
            return true;
        }
        if (tries_ >= mode_.max_tries()) {
            return false;
        }
        ++tries_;
        return true;
    }
    std::uint64_t tries_used() const noexcept { return tries_; }

    clock::time_point deadline() const noexcept { return deadline_; }
    bool expired(clock::time_point now) const noexcept { return blocking() && now >= deadline_; }
    std::chrono::nanoseconds remaining(clock::time_point now) const noexcept
    {
        return now >= deadline_ ? std::chrono::nanoseconds(0)
                                : std::chrono::duration_cast<std::chrono::nanoseconds>(deadline_ - now);
    }

private:
    acquire_mode mode_;
    clock::time_point deadline_;
    std::uint64_t tries_ = 0;
};

// The reason the last wait on this thread that ran out was refused at its last attempt.
inline errc& last_refusal_slot() noexcept
{
    thread_local errc refusal{};
    return refusal;
}

// For the message of a lock call that ran out: " (last refused: <why>)", or "".
inline std::string refusal_note(const std::error_code& ec)
{
    const errc why = last_refusal_slot();
    if ((ec == errc::timeout || ec == errc::max_tries_reached) && why != errc{}) {
        return " (last refused: " + make_error_code(why).message() + ")";
    }
    return {};
}

// After a first attempt failed with `result`: runs `attempt` again until it succeeds, fails for
// a permanent reason, or the mode runs out. The first attempt counts as the budget's first try.
template <class Attempt>
errc keep_trying(const acquire_mode& mode, Attempt& attempt, errc result) noexcept
{
    wait_budget budget(mode);
    budget.take_try();
    backoff pause;
    for (;;) {
        if (mode.cancelled()) {
            return errc::cancelled;
        }
        if (budget.spinning()) {
            if (!budget.take_try()) {
                last_refusal_slot() = result;
                return errc::max_tries_reached;
            }
            cpu_relax();
        } else {
            const auto now = wait_budget::clock::now();
            if (budget.expired(now)) {
                last_refusal_slot() = result;
                return errc::timeout;
            }
            pause.pause(budget.deadline() - now);
        }
        result = attempt();
        if (result == errc{} || !is_transient(result)) {
            return result;
        }
    }
}

// Runs `attempt` (a callable returning errc, errc{} on success) until it succeeds, fails for a
// permanent reason, or the mode runs out. Each policy's lock calls go through here. The first
// attempt - all of an uncontended lock - is kept apart from the waiting loop, so that it stays
// small enough for the compiler to inline into the caller.
template <class Attempt>
errc acquire_with(const acquire_mode& mode, Attempt&& attempt) noexcept
{
    const errc result = attempt();
    if (result == errc{} || !is_transient(result) || mode.how() == acquire_mode::kind::try_once) {
        return result;
    }
    return keep_trying(mode, attempt, result);
}

} // namespace detail

// Why the last wait of the calling thread that ran out - a lock call that failed with
// errc::timeout or errc::max_tries_reached - was refused at its last attempt: read_locked,
// write_locked, max_readers (WinMMF's reader count is full), uninitialized (its creator has not
// finished, or died: see force_unlock_stale_lock). Like GetLastError: per thread, and meaningful
// right after such a failure; later waits that run out overwrite it. The throwing overloads put
// it in their message.
inline errc last_wait_refusal() noexcept { return detail::last_refusal_slot(); }

} // namespace winmmf
