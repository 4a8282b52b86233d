// winmmf/asio.hpp - every asynchronous wait of the library with Asio completion tokens:
// callbacks, use_awaitable, use_future, deferred, as_tuple, ...; completed through the handler's
// associated executor (your io_context's, for a coroutine spawned on it); with per-operation
// cancellation (Asio 1.19+ / Boost 1.77+ cancellation slots); with asio::error_code.
//
//   asio::co_spawn(io, [&]() -> asio::awaitable<void> {
//       winmmf::frame_info info =
//           co_await winmmf::asio::async_take(reader, frame, winmmf::acquire_mode::wait_for(1s), asio::use_awaitable);
//   }, asio::detached);
//
// Standalone Asio (<asio.hpp>) by default; Boost.Asio when <boost/asio.hpp> was included first
// (and standalone Asio was not), or when WINMMF_ASIO_BOOST is defined. The core library does not
// need Asio; only this header does.
//
// Errors are the blocking twin's, as asio::error_code (std::error_code with standalone Asio; a
// boost::system::error_code whose category is "winmmf" or the system's with Boost - to_std()
// gives back the std::error_code that compares with winmmf::errc). A wait cancelled through its
// cancellation slot, or whose object is closed, moved onto or destroyed while it is pending,
// completes with asio::error::operation_aborted; a cancel_token in the mode gives errc::cancelled,
// as in the blocking call.
//
// The completion handler runs on its associated executor (the system executor when it has none:
// bind_executor() your io_context to callbacks); while the wait is pending it counts as work, so
// io_context::run() does not return. Buffers must stay valid until then; the object may be
// closed or destroyed meanwhile (operation_aborted, and a result already queued is dropped).
// Destroy or close the objects before the io_context: its destructor waits for pending work.
#pragma once

#include <winmmf/async.hpp>
#include <winmmf/error.hpp>
#include <winmmf/frame_reader.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/notification.hpp>

#if defined(WINMMF_ASIO_BOOST) || (defined(BOOST_ASIO_VERSION) && !defined(ASIO_VERSION))
#define WINMMF_ASIO_IS_BOOST 1
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/system/error_code.hpp>
#if BOOST_ASIO_VERSION >= 101900
#define WINMMF_ASIO_HAS_CANCELLATION 1
#include <boost/asio/associated_cancellation_slot.hpp>
#endif
#else
#define WINMMF_ASIO_IS_BOOST 0
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/error_code.hpp>
#include <asio/executor_work_guard.hpp>
#if ASIO_VERSION >= 101900
#define WINMMF_ASIO_HAS_CANCELLATION 1
#include <asio/associated_cancellation_slot.hpp>
#endif
#endif
#if !defined(WINMMF_ASIO_HAS_CANCELLATION)
#define WINMMF_ASIO_HAS_CANCELLATION 0
#endif

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace winmmf::asio {

#if WINMMF_ASIO_IS_BOOST
namespace net = ::boost::asio;
using error_code = ::boost::system::error_code;

namespace detail {
// The winmmf category as Boost.System sees it: same name, values and messages.
class boost_winmmf_category final : public ::boost::system::error_category {
public:
    const char* name() const noexcept override { return "winmmf"; }
    std::string message(int value) const override { return winmmf_category().message(value); }
};
inline const boost_winmmf_category& boost_category() noexcept
{
    static const boost_winmmf_category category;
    return category;
}
} // namespace detail

// A library error as Boost.System's error_code: system and generic codes keep their category.
inline error_code to_asio(const std::error_code& ec) noexcept
{
    if (!ec) {
        return {};
    }
    if (ec.category() == std::system_category()) {
        return {ec.value(), ::boost::system::system_category()};
    }
    if (ec.category() == std::generic_category()) {
        return {ec.value(), ::boost::system::generic_category()};
    }
    if (ec.category() == winmmf_category()) {
        return {ec.value(), detail::boost_category()};
    }
    return {ec.value(), detail::boost_category()}; // no other category reaches here
}
// Back to the std::error_code the blocking calls give (compares with winmmf::errc).
inline std::error_code to_std(const error_code& ec) noexcept
{
    if (!ec) {
        return {};
    }
    if (ec.category() == detail::boost_category()) {
        return {ec.value(), winmmf_category()};
    }
    if (ec.category() == ::boost::system::system_category()) {
        return {ec.value(), std::system_category()};
    }
    if (ec.category() == ::boost::system::generic_category()) {
        return {ec.value(), std::generic_category()};
    }
    return ec; // Boost's own conversion
}
#else
namespace net = ::asio;
using error_code = ::asio::error_code;
inline error_code to_asio(const std::error_code& ec) noexcept { return ec; }
inline std::error_code to_std(const error_code& ec) noexcept { return ec; }
#endif

namespace detail {

inline error_code completion_error(const std::error_code& ec) noexcept
{
    if (ec == errc::aborted) {
        return net::error::operation_aborted;
    }
    return to_asio(ec);
}

// One pending wait's Asio side: the handler, the work that keeps its executor running, the
// winmmf wait to cancel from its cancellation slot, and, once the wait ended, its result until
// the handler runs (held by the object's registry meanwhile: detail::held_result).
template <class Handler, class T>
class pending_wait final : public winmmf::detail::held_result {
public:
    using executor_type = net::associated_executor_t<Handler>;

    explicit pending_wait(Handler&& handler)
        : work_(net::make_work_guard(net::get_associated_executor(handler))), handler_(std::move(handler))
    {
    }
    ~pending_wait() = default;

    Handler& handler() noexcept { return handler_; }

    // Called from the cancellation slot, or once the wait is started.
    void cancel_requested() noexcept
    {
        winmmf::detail::srw_guard g(mutex_);
        cancelled_ = true;
        if (operation_) {
            operation_.cancel();
        }
    }
    void started(async_operation&& operation) noexcept
    {
        winmmf::detail::srw_guard g(mutex_);
        if (completed_) {
            return; // it completed before its start returned: nothing left to cancel, or to keep
        }
        operation_ = std::move(operation);
        if (cancelled_) {
            operation_.cancel();
        }
    }

    // On the pool thread that completed the wait: hands the result to the handler's executor.
    static void complete(std::shared_ptr<pending_wait> self, const std::error_code& ec, T value)
    {
        {
            // Dropped here, not in the handler: the operation holds `self` until it is freed, so a
            // handler that never runs (its io_context destroyed first) would keep both alive, and
            // the work guard with them - the io_context's destructor would wait for it forever.
            winmmf::detail::srw_guard g(self->mutex_);
            self->by_slot_ = self->cancelled_;
            self->completed_ = true;
            self->operation_.reset();
        }
        self->ec_ = ec;
        self->value_.emplace(std::move(value));
        // The value may point into the object (a frame_view, a guard), which may be closed before
        // the handler runs: its registry keeps the value until then, or drops it first.
        if (winmmf::detail::async_registry* const registry = winmmf::detail::delivering_registry()) {
            registry->hold(*self);
        }
        auto executor = self->work_.get_executor();
        net::dispatch(executor, [self = std::move(self)]() mutable { self->run_handler(); });
    }

private:
    void drop_result() noexcept override { value_.reset(); }

    void run_handler()
    {
#if WINMMF_ASIO_HAS_CANCELLATION
        net::get_associated_cancellation_slot(handler_).clear();
#endif
        std::error_code ec = ec_;
        T value{};
        if (winmmf::detail::async_registry::take_back(*this)) {
            value = std::move(*value_);
        } else {
            ec = make_error_code(errc::aborted); // the object was closed first: its result went with it
        }
        value_.reset();
        const error_code result = by_slot_ && ec == errc::cancelled ? error_code(net::error::operation_aborted)
                                                                    : completion_error(ec);
        auto work = std::move(work_);
        Handler handler = std::move(handler_);
        std::move(handler)(result, std::move(value));
        work.reset();
    }

    net::executor_work_guard<executor_type> work_;
    Handler handler_;
    winmmf::detail::srw_mutex mutex_;
    async_operation operation_;
    bool cancelled_ = false;
    bool completed_ = false;
    // Written on the pool before the handler is dispatched; read by the handler.
    bool by_slot_ = false;
    std::error_code ec_;
    std::optional<T> value_; // guarded by detail::held_results_lock() while held
};

#if WINMMF_ASIO_HAS_CANCELLATION
// Weak: the slot belongs to the handler's state (a coroutine's frame), which the pending wait
// owns through the handler; a strong reference would keep both alive when the handler never runs.
template <class Pending>
struct slot_canceller {
    std::weak_ptr<Pending> pending;
    void operator()(net::cancellation_type type) noexcept
    {
        if (type != net::cancellation_type::none) {
            if (auto p = pending.lock()) {
                p->cancel_requested();
            }
        }
    }
};
#endif

// Starts a wait through `start(callback)` (a winmmf async_* call) for any completion token.
template <class T, class Token, class Start>
auto initiate(Token&& token, Start&& start)
{
    return net::async_initiate<Token, void(error_code, T)>(
        [](auto handler, Start begin) {
            using handler_type = decltype(handler);
            using pending_type = pending_wait<handler_type, T>;
            auto pending = std::make_shared<pending_type>(std::move(handler));
#if WINMMF_ASIO_HAS_CANCELLATION
            // Connected before the wait starts: its completion clears the slot, perhaps at once
            // on another thread. A cancel that arrives before started() is kept until then.
            auto slot = net::get_associated_cancellation_slot(pending->handler());
            if (slot.is_connected()) {
                slot.template emplace<slot_canceller<pending_type>>(slot_canceller<pending_type>{pending});
            }
#endif
            async_operation operation = begin([pending](const std::error_code& ec, T value) noexcept {
                pending_type::complete(pending, ec, std::move(value));
            });
            pending->started(std::move(operation));
        },
        token, std::forward<Start>(start));
}

} // namespace detail

// notification::async_wait. Completion: void(error_code, std::uint64_t current).
template <class Token>
auto async_wait(notification& n, std::uint64_t seen, const acquire_mode& mode, Token&& token)
{
    return detail::initiate<std::uint64_t>(std::forward<Token>(token), [&n, seen, mode](auto&& done) {
        return n.async_wait(seen, mode, std::move(done));
    });
}

// frame_reader::async_take. Completion: void(error_code, frame_info).
template <class Token>
auto async_take(frame_reader& reader, std::span<std::byte> out, const acquire_mode& mode, Token&& token)
{
    return detail::initiate<frame_info>(std::forward<Token>(token), [&reader, out, mode](auto&& done) {
        return reader.async_take(out, mode, std::move(done));
    });
}

// frame_reader::async_acquire. Completion: void(error_code, frame_view).
template <class Token>
auto async_acquire(frame_reader& reader, const acquire_mode& mode, Token&& token)
{
    return detail::initiate<frame_view>(std::forward<Token>(token), [&reader, mode](auto&& done) {
        return reader.async_acquire(mode, std::move(done));
    });
}

// A mapping's async_lock_read / async_lock_write / async_wait_for_change. Completion:
// void(error_code, read_guard / write_guard / std::uint64_t). owner_dead comes with a guard
// that holds the lock, as from the blocking call.
template <class Mapping, class Token>
auto async_lock_read(const Mapping& m, const acquire_mode& mode, Token&& token)
{
    using guard = typename Mapping::read_guard;
    return detail::initiate<guard>(std::forward<Token>(token), [&m, mode](auto&& done) {
        return m.async_lock_read(mode, std::move(done));
    });
}
template <class Mapping, class Token>
auto async_lock_write(Mapping& m, const acquire_mode& mode, Token&& token)
{
    using guard = typename Mapping::write_guard;
    return detail::initiate<guard>(std::forward<Token>(token), [&m, mode](auto&& done) {
        return m.async_lock_write(mode, std::move(done));
    });
}
template <class Mapping, class Token>
auto async_wait_for_change(Mapping& m, std::uint64_t seen, const acquire_mode& mode, Token&& token)
{
    return detail::initiate<std::uint64_t>(std::forward<Token>(token), [&m, seen, mode](auto&& done) {
        return m.async_wait_for_change(seen, mode, std::move(done));
    });
}

} // namespace winmmf::asio
