// winmmf/acquire.hpp - how long a lock call may wait, and the one retry loop that obeys it.
//
// A lock held by another process can stay held for as long as that process likes (or
// forever, if it died). So no call waits without the caller's consent: each acquire names
// its mode, and the only unbounded mode is the explicitly named spin_forever().
#pragma once

#include <winmmf/detail/backoff.hpp>
#include <winmmf/error.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <ratio>

namespace winmmf {

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

    constexpr kind how() const noexcept { return kind_; }
    constexpr std::chrono::nanoseconds timeout() const noexcept { return timeout_; }
    constexpr std::uint64_t max_tries() const noexcept { return max_tries_; }

private:
    constexpr acquire_mode(kind k, std::chrono::nanoseconds timeout, std::uint64_t tries) noexcept
        : timeout_(timeout), max_tries_(tries), kind_(k)
    {
    }

    std::chrono::nanoseconds timeout_;
    std::uint64_t max_tries_;
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

// After a first attempt failed with `result`: runs `attempt` again until it succeeds, fails for
// a permanent reason, or the mode runs out.
template <class Attempt>
errc keep_trying(const acquire_mode& mode, Attempt& attempt, errc result) noexcept
{
    if (mode.how() == acquire_mode::kind::spin) {
        for (std::uint64_t tries = 1; tries < mode.max_tries(); ++tries) {
            cpu_relax();
            result = attempt();
            if (result == errc{} || !is_transient(result)) {
                return result;
            }
        }
        return errc::max_tries_reached;
    }
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto headroom = std::chrono::duration_cast<std::chrono::nanoseconds>(
        clock::time_point::max() - start);
    const auto deadline = mode.timeout() >= headroom
                              ? clock::time_point::max()
                              : start + std::chrono::duration_cast<clock::duration>(mode.timeout());
    backoff pause;
    for (;;) {
        const auto now = clock::now();
        if (now >= deadline) {
            return errc::timeout;
        }
        pause.pause(deadline - now);
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
} // namespace winmmf
