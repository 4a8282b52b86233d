// winmmf/cancel_token.hpp - lets another thread end a wait.
//
//   winmmf::cancel_token stop;
//   std::thread t([&] { reader.take(frame, winmmf::acquire_mode::wait_for(1h).with_cancel(stop)); });
//   stop.cancel();                      // the take ends with errc::cancelled
//
// Every wait of the library takes its cancel_token the same way: in the acquire_mode
// (acquire_mode::with_cancel), so locks, notifications and frame readers are all cancelled
// alike. cancel() ends every wait given this token, now and until reset(). Backed by an unnamed
// manual-reset event (nothing another process can see). Not movable: waits hold a pointer to it.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/event.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>

#include <system_error>

namespace winmmf {

class cancel_token : public detail::cancel_flag {
public:
#if WINMMF_EXCEPTIONS
    cancel_token()
    {
        std::error_code ec;
        init(ec);
        detail::throw_if(ec, "winmmf: cancel_token");
    }
#endif
    explicit cancel_token(std::error_code& ec) noexcept { init(ec); }
    cancel_token(const cancel_token&) = delete;
    cancel_token& operator=(const cancel_token&) = delete;
    ~cancel_token() = default;

    void cancel() noexcept
    {
        set(true);
        detail::signal_event(event_.get());
    }
    void reset() noexcept
    {
        detail::unsignal_event(event_.get());
        set(false);
    }
    using detail::cancel_flag::cancelled;

    // For callers that wait on more than winmmf's objects.
    HANDLE native_handle() const noexcept { return event_.get(); }

private:
    void init(std::error_code& ec) noexcept
    {
        event_ = detail::create_unnamed_event(true, ec);
        set_wait_handle(event_.get());
    }

    detail::unique_handle event_;
};

} // namespace winmmf
