// winmmf/detail/threadpool.hpp - the Windows thread pool objects an asynchronous wait runs on:
// a wait object (a kernel handle with a timeout), a timer, and one-shot work. Owners only; the
// state machine that drives them is detail/async_op.hpp.
//
// Every object is created on the process's default pool. Closing one cancels what is queued and
// waits for a callback that is running, unless the caller is that callback (then it only
// closes: the pool frees the object once the callback returns).
#pragma once

#include <winmmf/detail/win32.hpp>

#include <chrono>
#include <cstdint>
#include <system_error>
#include <utility>

namespace winmmf::detail {

// The thread pool object whose callback runs on this thread right now (null outside one), so
// that nothing waits for the very callback it runs in: that would never return.
inline const void*& running_pool_object() noexcept
{
    thread_local const void* running = nullptr;
    return running;
}

class running_callback_scope {
public:
    explicit running_callback_scope(const void* object) noexcept : previous_(running_pool_object())
    {
        running_pool_object() = object;
    }
    ~running_callback_scope() { running_pool_object() = previous_; }
    running_callback_scope(const running_callback_scope&) = delete;
    running_callback_scope& operator=(const running_callback_scope&) = delete;

private:
    const void* previous_;
};

// A relative due time for SetThreadpoolWait / SetThreadpoolTimer: negative 100 ns units, never
// positive (which would be an absolute time), rounded up so a wait never ends early.
inline FILETIME relative_due_time(std::chrono::nanoseconds delay) noexcept
{
    const std::int64_t ticks = delay.count() <= 0 ? 0 : (delay.count() + 99) / 100;
    ULARGE_INTEGER u{};
    u.QuadPart = static_cast<ULONGLONG>(-ticks);
    FILETIME ft{};
    ft.dwLowDateTime = u.LowPart;
    ft.dwHighDateTime = u.HighPart;
    return ft;
}

// A thread pool wait: the callback runs once `handle` is signalled or the timeout passes. One
// arm, one callback; arm again for the next.
class pool_wait {
public:
    pool_wait() noexcept = default;
    pool_wait(const pool_wait&) = delete;
    pool_wait& operator=(const pool_wait&) = delete;
    ~pool_wait() { close(); }

    std::error_code create(PTP_WAIT_CALLBACK callback, void* context) noexcept
    {
        wait_ = ::CreateThreadpoolWait(callback, context, nullptr);
        return wait_ != nullptr ? std::error_code{} : last_error();
    }
    explicit operator bool() const noexcept { return wait_ != nullptr; }
    const void* id() const noexcept { return wait_; }

    void arm(HANDLE handle, std::chrono::nanoseconds timeout) noexcept
    {
        FILETIME due = relative_due_time(timeout);
        ::SetThreadpoolWait(wait_, handle, &due);
    }
    // Without a timeout: the callback runs only when `handle` is signalled.
    void arm(HANDLE handle) noexcept { ::SetThreadpoolWait(wait_, handle, nullptr); }

    // Stops it: nothing new is queued, queued callbacks are dropped, and a running one has
    // returned - unless it is the caller's own.
    void disarm() noexcept
    {
        if (wait_ == nullptr) {
            return;
        }
        ::SetThreadpoolWait(wait_, nullptr, nullptr);
        if (running_pool_object() != wait_) {
            ::WaitForThreadpoolWaitCallbacks(wait_, TRUE);
        }
    }
    // Stops it (unless this is its own callback, which has fired and is armed no more) and
    // frees it.
    void close() noexcept
    {
        if (wait_ != nullptr) {
            if (running_pool_object() != wait_) {
                disarm();
            }
            ::CloseThreadpoolWait(std::exchange(wait_, nullptr));
        }
    }

private:
    PTP_WAIT wait_ = nullptr;
};

// A thread pool timer: the callback runs once the due time passes.
class pool_timer {
public:
    pool_timer() noexcept = default;
    pool_timer(const pool_timer&) = delete;
    pool_timer& operator=(const pool_timer&) = delete;
    ~pool_timer() { close(); }

    std::error_code create(PTP_TIMER_CALLBACK callback, void* context) noexcept
    {
        timer_ = ::CreateThreadpoolTimer(callback, context, nullptr);
        return timer_ != nullptr ? std::error_code{} : last_error();
    }
    explicit operator bool() const noexcept { return timer_ != nullptr; }
    const void* id() const noexcept { return timer_; }

    void arm(std::chrono::nanoseconds delay) noexcept
    {
        FILETIME due = relative_due_time(delay);
        ::SetThreadpoolTimer(timer_, &due, 0, 0);
    }
    void disarm() noexcept
    {
        if (timer_ == nullptr) {
            return;
        }
        ::SetThreadpoolTimer(timer_, nullptr, 0, 0);
        if (running_pool_object() != timer_) {
            ::WaitForThreadpoolTimerCallbacks(timer_, TRUE);
        }
    }
    void close() noexcept
    {
        if (timer_ != nullptr) {
            if (running_pool_object() != timer_) {
                disarm();
            }
            ::CloseThreadpoolTimer(std::exchange(timer_, nullptr));
        }
    }

private:
    PTP_TIMER timer_ = nullptr;
};

// Runs `callback(context)` once on a pool thread. False (GetLastError set) if the pool refused.
inline bool submit_to_pool(PTP_SIMPLE_CALLBACK callback, void* context) noexcept
{
    return ::TrySubmitThreadpoolCallback(callback, context, nullptr) != FALSE;
}

} // namespace winmmf::detail
