// winmmf/async.hpp - waits that do not block a thread: what every async_* call returns, and the
// coroutine form.
//
// Every wait of the library has asynchronous twins: notification::async_wait,
// frame_reader::async_take and async_acquire, and the mappings' async_lock_read,
// async_lock_write and async_wait_for_change. Each comes in two forms:
//
//   // 1. Thread-pool callback: `done` runs on a Windows thread-pool thread.
//   auto op = reader.async_take(frame, winmmf::acquire_mode::wait_for(1s),
//                               [](std::error_code ec, winmmf::frame_info info) noexcept { ... });
//   op.cancel(); // optional: ends it with errc::cancelled
//
//   // 2. C++20 coroutine, from any coroutine type that does not restrict co_await (asio::awaitable
//   //    does: use <winmmf/asio.hpp> there); resumes on a thread-pool thread.
//   winmmf::frame_info info = co_await reader.async_take(frame, winmmf::acquire_mode::wait_for(1s));
//
// and <winmmf/asio.hpp> adds Asio completion tokens. An asynchronous wait has the same modes,
// errors and bounds as its blocking twin (try_once, wait_for, spin, with_cancel), sleeps on the
// same kernel event (no thread sleeps for it: the pool waits for it with up to 63 others per
// thread), and adds nothing to the writer's path. Extra errors: errc::aborted when the object
// is closed, moved onto or destroyed while the wait is pending, and errc::operation_pending for
// a second asynchronous wait on a frame reader (it takes one frame at a time).
//
// Lifetimes: destroying (or closing) the object ends its pending waits with errc::aborted; the
// destructor returns only after their completions have returned, except one running on the
// destroying thread (an object destroyed from its own wait's completion). A completion never
// runs after the object's destructor has returned, and never on the thread that started the
// wait. The completion is moved into the operation (copied, when passed as an lvalue) and
// destroyed after it ran. Completions must not throw (they run on pool threads: an exception
// ends the process).
// Buffers given to a wait must stay valid until its completion runs.
#pragma once

#include <winmmf/detail/async_op.hpp>
#include <winmmf/error.hpp>

#include <coroutine>
#include <new>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace winmmf {

// A pending asynchronous wait, to cancel it. Dropping the handle does not cancel the wait (it
// runs to its completion); it only lets go of the means to cancel it. Move-only.
class async_operation {
public:
    async_operation() noexcept = default;
    async_operation(async_operation&& other) noexcept : op_(std::exchange(other.op_, nullptr)) {}
    async_operation& operator=(async_operation&& other) noexcept
    {
        if (this != &other) {
            reset();
            op_ = std::exchange(other.op_, nullptr);
        }
        return *this;
    }
    async_operation(const async_operation&) = delete;
    async_operation& operator=(const async_operation&) = delete;
    ~async_operation() { reset(); }

    // Ends the wait with errc::cancelled, its completion running on a pool thread soon after.
    // False if it had already ended (its own result stands) or this handle is empty.
    bool cancel() noexcept { return op_ != nullptr && op_->cancel(errc::cancelled); }
    // Whether it has not ended yet (its completion may still be about to run when false).
    bool pending() const noexcept { return op_ != nullptr && op_->pending(); }
    explicit operator bool() const noexcept { return op_ != nullptr; }

    // Forgets the wait (which keeps running).
    void reset() noexcept
    {
        if (op_ != nullptr) {
            std::exchange(op_, nullptr)->release();
        }
    }

    // The library's: adopts a reference to `op`.
    explicit async_operation(detail::async_op* op) noexcept : op_(op) {}

private:
    detail::async_op* op_ = nullptr;
};

namespace detail {

// Starts an operation made by `make` (a new (std::nothrow) expression) and returns its handle;
// with no memory for it, `done` runs here and now with not_enough_memory - the one completion
// that can run on the caller's thread.
template <class Op, class OnNoMemory>
async_operation start_async(Op* op, async_registry& registry, const cancel_flag* cancel, OnNoMemory&& no_memory) noexcept
{
    if (op == nullptr) {
        no_memory(std::make_error_code(std::errc::not_enough_memory));
        return {};
    }
    op->add_ref(); // the handle's
    async_op::launch(op, registry, cancel);
    return async_operation(op);
}

// An operation that ends at its first step with a result known at the start (an object that is
// not open): still completed on the pool, like every other.
template <class T, class Done>
class immediate_op final : public async_op {
public:
    immediate_op(const std::error_code& ec, Done done) noexcept : ec_(ec), done_(std::move(done)) {}

private:
    next_step step(bool) noexcept override { return next_step::finished(); }
    void deliver(const std::error_code& ended) noexcept override { done_(ended ? ended : ec_, T{}); }

    std::error_code ec_;
    Done done_;
};

// The registry of operations no object owns (immediate_op's).
inline async_registry& ownerless_operations() noexcept
{
    static async_registry registry;
    return registry;
}

template <class T, class Done>
async_operation fail_async(const std::error_code& ec, Done&& done) noexcept
{
    using op_type = immediate_op<T, std::decay_t<Done>>;
    return start_async(new (std::nothrow) op_type(ec, std::forward<Done>(done)), ownerless_operations(), nullptr,
                       [&](const std::error_code& e) { done(e, T{}); });
}

// Whether an error code is a report beside a result rather than a failure (owner_dead: the lock
// is held): the throwing coroutine form throws for failures only.
struct no_reports {
    static bool is_report(const std::error_code&) noexcept { return false; }
};
struct owner_dead_is_report {
    static bool is_report(const std::error_code& ec) noexcept { return ec == errc::owner_dead; }
};

// The coroutine form of an async_* call: `co_await` starts the wait and resumes the coroutine on
// the pool thread that completes it. `Start(callback)` starts the wait. With an error_code
// pointer the result's error goes there; without one (and with exceptions) a failure throws
// std::system_error, like the blocking twin's throwing overload.
template <class T, class Start, class Reports = no_reports>
class [[nodiscard]] async_awaitable {
public:
    async_awaitable(Start start, std::error_code* ec, const char* what) noexcept
        : start_(std::move(start)), ec_out_(ec), what_(what)
    {
    }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> resume) noexcept
    {
        resume_ = resume;
        // The handle is dropped at once: the coroutine may already run again, and this object
        // be gone, by the time start_ returns. Cancel through the mode's cancel_token.
        start_([this](const std::error_code& ec, T value) noexcept {
            ec_ = ec;
            value_ = std::move(value);
            resume_.resume();
        });
    }
    T await_resume()
    {
        if (ec_out_ != nullptr) {
            *ec_out_ = ec_;
        }
#if WINMMF_EXCEPTIONS
        else if (ec_ && !Reports::is_report(ec_)) {
            throw std::system_error(ec_, std::string("winmmf: ") + what_);
        }
#endif
        return std::move(value_);
    }

private:
    Start start_;
    std::error_code* ec_out_;
    const char* what_;
    std::coroutine_handle<> resume_{};
    std::error_code ec_;
    T value_{};
};

template <class T, class Reports = no_reports, class Start>
async_awaitable<T, Start, Reports> make_awaitable(Start start, std::error_code* ec, const char* what) noexcept
{
    return async_awaitable<T, Start, Reports>(std::move(start), ec, what);
}

// An operation whose completion is a callable `done(std::error_code, T)`.
template <class T, class Done>
concept async_completion = std::is_invocable_v<Done&, const std::error_code&, T>;

} // namespace detail
} // namespace winmmf
