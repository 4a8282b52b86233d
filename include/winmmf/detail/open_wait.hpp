// winmmf/detail/open_wait.hpp - reader-first start-up: an open that waits, within the caller's
// budget, for a creator that has not made (or not finished) its object yet.
//
// A reader started before its writer otherwise fails with errc::not_found, and every user writes
// the same retry loop. Every open() of a named object takes the wait as an option
// (open_options::wait, notification_options::wait, reader_options::wait) and comes through
// open_waiting() below.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>

#include <algorithm>
#include <chrono>
#include <system_error>

namespace winmmf::detail {

// How often a waiting open looks again. Opening is a handful of system calls; 10 ms keeps a
// waiting reader's cost negligible and its start-up latency below a frame's time.
inline constexpr std::chrono::milliseconds open_retry_interval{10};

// The answers that mean "its creator is not done yet": nothing by that name (not_found), a
// creator still initialising past the handshake's grace (timeout), or a WinMMF-layout word that
// still says so (uninitialized). Anything else - access denied, the wrong layout, a bad name -
// cannot change by waiting and is returned at once.
inline bool creator_not_done(const std::error_code& ec) noexcept
{
    return ec == errc::not_found || ec == errc::timeout || ec == errc::uninitialized;
}

// Calls `attempt()` (returning std::error_code) until it succeeds, fails for a reason waiting
// cannot change, or `wait` runs out: try_once() (the default) is one attempt, spin(n) n
// attempts, wait_for(d) attempts until d has passed - the deadline is fixed here, at the call.
// A cancel_token in the mode ends it with errc::cancelled. Out of budget, the last attempt's
// error is returned (not_found when the object never appeared), so callers that test for
// not_found keep working. Each attempt is itself bounded (the handshake's grace for a stalled
// creator), so the call may end that much after the deadline, never later.
template <class Attempt>
std::error_code open_waiting(const acquire_mode& wait, Attempt&& attempt) noexcept
{
    wait_budget budget(wait);
    for (;;) {
        (void)budget.take_try();
        std::error_code ec = attempt();
        if (!ec || !creator_not_done(ec) || wait.how() == acquire_mode::kind::try_once) {
            return ec;
        }
        if (wait.cancelled()) {
            return make_error_code(errc::cancelled);
        }
        if (budget.spinning()) {
            if (budget.tries_used() >= wait.max_tries()) {
                return ec;
            }
            sleep_milliseconds(static_cast<unsigned long>(open_retry_interval.count()));
            continue;
        }
        const auto now = wait_budget::clock::now();
        if (budget.expired(now)) {
            return ec;
        }
        const auto pause = std::min<std::chrono::nanoseconds>(budget.remaining(now), open_retry_interval);
        // Whole milliseconds, at least one: Sleep(0) would turn this into a busy loop.
        const auto ms = std::max<long long>(1, std::chrono::ceil<std::chrono::milliseconds>(pause).count());
        sleep_milliseconds(static_cast<unsigned long>(ms));
    }
}

} // namespace winmmf::detail
