// winmmf/detail/async_op.hpp - the engine under every asynchronous wait (async.hpp): one
// operation is a series of looks ("steps") at shared memory, run on the Windows thread pool
// between waits on the very event, or timer, that the blocking twin would sleep on. No thread
// sleeps for it, and the writer's side is the blocking wait's: nothing is added to it.
//
// Who ends an operation, exactly once, decided under the operation's lock:
//   - a step that finds the result (a change, a frame, a lock, a failure, the deadline);
//   - cancel(): a cancel_token's event (a pool wait of its own), async_operation::cancel(), an
//     Asio cancellation slot - errc::cancelled;
//   - the owner closing (async_registry::shutdown) - errc::aborted.
// Then, on a pool thread (a step's own, or work submitted for it), the pool objects are stopped
// and their running callbacks waited for (never the one it runs in), what the steps held is let
// go, and the result is delivered: completions never run on the caller's thread. The owner's
// shutdown returns only once every delivery has returned, except one that runs on the calling
// thread (an owner destroyed from its own operation's completion), which is cut loose from the
// registry instead: so no completion ever runs after the owner's destructor has returned.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/threadpool.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>
#include <system_error>
#include <utility>

namespace winmmf::detail {

// An exclusive SRW lock (it cannot fail, and needs no destruction).
class srw_mutex {
public:
    void lock() noexcept { ::AcquireSRWLockExclusive(&lock_); }
    void unlock() noexcept { ::ReleaseSRWLockExclusive(&lock_); }
    PSRWLOCK native() noexcept { return &lock_; }

private:
    SRWLOCK lock_ = SRWLOCK_INIT;
};

class srw_guard {
public:
    explicit srw_guard(srw_mutex& m) noexcept : m_(m) { m_.lock(); }
    ~srw_guard() { m_.unlock(); }
    srw_guard(const srw_guard&) = delete;
    srw_guard& operator=(const srw_guard&) = delete;

private:
    srw_mutex& m_;
};

class async_op;
class async_registry;

// A result delivered on the pool that has not reached its consumer yet - an Asio handler queued
// on its executor - and that points into its owner (a frame_view into the mapped channel, a
// guard that unlocks the mapping's lock word). Held by the owner's registry meanwhile: if the
// owner shuts down first, the registry orphans it, which drops the result while the owner's
// memory is still there, so that the consumer gets errc::aborted instead of a dangling view.
class held_result {
public:
    held_result(const held_result&) = delete;
    held_result& operator=(const held_result&) = delete;

protected:
    held_result() noexcept = default;
    ~held_result() = default;
    // Drops the result. Under held_results_lock(), from the owner's shutdown.
    virtual void drop_result() noexcept = 0;

private:
    friend class async_registry;
    // Guarded by held_results_lock().
    async_registry* registry_ = nullptr;
    held_result* prev_ = nullptr;
    held_result* next_ = nullptr;
    bool orphaned_ = false;
};

// One lock for every registry's held results: they are linked and unlinked once per completion
// that goes through an executor, briefly, so contention is no concern, and one lock orders an
// owner's shutdown against a consumer on any thread without a lock order between registries.
inline srw_mutex& held_results_lock() noexcept
{
    static srw_mutex lock;
    return lock;
}

// The registry of the operation whose completion runs on this thread (null outside one): a
// completion that hands its result on (asio.hpp) holds it there.
inline async_registry*& delivering_registry() noexcept
{
    thread_local async_registry* registry = nullptr;
    return registry;
}

// The pending asynchronous operations of one object (a notification's endpoint, a frame
// reader's channel, a mapping). Process-local.
class async_registry {
public:
    async_registry() noexcept = default;
    async_registry(const async_registry&) = delete;
    async_registry& operator=(const async_registry&) = delete;
    ~async_registry() { shutdown(); }

    // Ends every pending operation with errc::aborted and returns once none of them runs any
    // code of the owner's or delivers any more. Later operations are refused (errc::aborted).
    inline void shutdown() noexcept;

    std::size_t pending() noexcept
    {
        srw_guard g(mutex_);
        return count_;
    }

    // From a completion running for one of this registry's operations (delivering_registry()):
    // keeps `result` until take_back(), or drops it at shutdown. After shutdown, drops it here.
    inline void hold(held_result& result) noexcept;
    // The consumer's side: false if the result was dropped (the owner shut down first; report
    // errc::aborted), else it is the consumer's now. For a result never held: true.
    static inline bool take_back(held_result& result) noexcept;

private:
    friend class async_op;
    inline bool add(async_op* op) noexcept;
    inline void remove(async_op* op) noexcept;
    inline void drop_held() noexcept;

    srw_mutex mutex_;
    CONDITION_VARIABLE emptied_ = CONDITION_VARIABLE_INIT;
    async_op* head_ = nullptr;
    std::size_t count_ = 0;
    bool closing_ = false;
    // Guarded by held_results_lock().
    held_result* held_ = nullptr;
    bool held_closed_ = false;
};

// One asynchronous operation. Heap-allocated, reference-counted: the engine holds one
// reference while it is pending, an async_operation handle another.
class async_op {
public:
    using clock = std::chrono::steady_clock;

    // What a step asks for next.
    struct next_step {
        enum class kind : std::uint8_t { done, wait_event, wait_time };
        kind how = kind::done;
        HANDLE event = nullptr;
        clock::time_point until{};

        static next_step finished() noexcept { return {}; }
        // Sleep on `event` (auto-reset: the pool's wait consumes the signal) until `until`.
        static next_step on_event(HANDLE event, clock::time_point until) noexcept
        {
            return {kind::wait_event, event, until};
        }
        static next_step at(clock::time_point until) noexcept { return {kind::wait_time, nullptr, until}; }
    };

    async_op(const async_op&) = delete;
    async_op& operator=(const async_op&) = delete;

    void add_ref() noexcept
    {
        // relaxed: a new reference is made from an existing one; nothing to order.
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept
    {
        // acq_rel: the last owner sees every write the others made before letting go.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }

    bool pending() noexcept
    {
        srw_guard g(mutex_);
        return !done_;
    }

    // Ends it now with `why`; false if it had already ended (its result stands).
    bool cancel(errc why) noexcept
    {
        {
            srw_guard g(mutex_);
            if (done_) {
                return false;
            }
            done_ = true;
            ended_ = make_error_code(why);
        }
        // On the pool, like every other completion: a caller that cancels while holding a lock
        // its own callback takes must not deadlock.
        deliver_later();
        return true;
    }

    // Starts `op` (just made, holding the engine's reference): registers it with `registry`, runs
    // its first step on this thread, and arms what that step asks for. A result found at once is
    // delivered on a pool thread, never on the caller's.
    static void launch(async_op* op, async_registry& registry, const cancel_flag* cancel) noexcept
    {
        op->add_ref(); // ours, for as long as this runs: a cancel may end and free it meanwhile
        op->start(registry, cancel);
        op->release();
    }

protected:
    async_op() noexcept = default;
    virtual ~async_op() = default;

    // One look, under the operation's lock. `signalled`: the event of the previous step was set
    // (false: first step, or the time of the previous step passed). Returns finished() once the
    // result is known (kept by the derived class).
    virtual next_step step(bool signalled) noexcept = 0;
    // Once it has ended, with no callback running: lets go of what the steps held (a waiter
    // slot). Touches the owner; runs before shutdown() can return.
    virtual void let_go() noexcept {}
    // Delivers the result, once, on a pool thread: `ended` is the
    // reason when cancel(), shutdown() or the engine ended it, else empty and the steps' result
    // stands. No lock is held.
    virtual void deliver(const std::error_code& ended) noexcept = 0;

private:
    friend class async_registry;

    void start(async_registry& registry, const cancel_flag* cancel) noexcept
    {
        async_op* const op = this;
        op->registry_ = &registry;
        if (!registry.add(op)) {
            op->registry_ = nullptr;
            op->end_and_deliver_later(make_error_code(errc::aborted));
            return;
        }
        if (cancel != nullptr && cancel->wait_handle() != nullptr) {
            if (const std::error_code ec = op->cancel_wait_.create(&on_cancel_signalled, op)) {
                op->end_and_deliver_later(ec);
                return;
            }
            op->cancel_wait_.arm(static_cast<HANDLE>(cancel->wait_handle()));
        }
        bool finished = false;
        {
            srw_guard g(op->mutex_);
            if (op->done_) {
                return; // the token was already cancelled, and its callback ended it
            }
            finished = op->advance(false);
        }
        if (finished) {
            op->deliver_later();
        }
    }

    // Runs a step and arms what it asks for. Under mutex_. True when the operation ended.
    bool advance(bool signalled) noexcept
    {
        const next_step next = step(signalled);
        if (next.how == next_step::kind::done) {
            done_ = true;
            return true;
        }
        const auto now = clock::now();
        const auto delay = next.until > now ? std::chrono::duration_cast<std::chrono::nanoseconds>(next.until - now)
                                            : std::chrono::nanoseconds(0);
        std::error_code ec;
        if (next.how == next_step::kind::wait_event) {
            if (!wait_ && (ec = wait_.create(&on_event_signalled, this))) {
                return fail(ec);
            }
            wait_.arm(next.event, delay);
        } else {
            if (!timer_ && (ec = timer_.create(&on_timer_due, this))) {
                return fail(ec);
            }
            timer_.arm(delay);
        }
        return false;
    }

    bool fail(const std::error_code& ec) noexcept
    {
        done_ = true;
        ended_ = ec;
        return true;
    }

    void resume(bool signalled) noexcept
    {
        bool finished = false;
        {
            srw_guard g(mutex_);
            if (done_) {
                return;
            }
            finished = advance(signalled);
        }
        if (finished) {
            finish();
        }
    }

    // After done_ was set by this thread: stop, let go, deliver, close, drop the engine's
    // reference. A pool object whose callback is this one fired once and is armed no more (and
    // while it was armed, the other of wait_ and timer_ was not): it needs no stopping, and
    // closing the pool objects waits until after the delivery, which is what the latency rows
    // of the benchmark measure. Anything still armed is stopped first: it waits on a handle
    // (the lease's event, the cancel token's) that let_go() or the completion may close.
    void finish() noexcept
    {
        cancel_wait_.disarm();
        const void* const running = running_pool_object();
        if (running == nullptr || (running != wait_.id() && running != timer_.id())) {
            wait_.disarm();
            timer_.disarm();
        }
        let_go();
        async_registry* registry = nullptr;
        {
            srw_guard g(mutex_);
            delivering_thread_ = ::GetCurrentThreadId();
            registry = registry_;
        }
        async_registry* const outer = std::exchange(delivering_registry(), registry);
        deliver(ended_);
        delivering_registry() = outer;
        cancel_wait_.close();
        wait_.close();
        timer_.close();
        // Cut loose only by a shutdown on this thread, inside deliver(): the registry may be gone.
        if (registry != nullptr && !cut_loose_) {
            registry->remove(this);
        }
        release();
    }

    void end_and_deliver_later(const std::error_code& ec) noexcept
    {
        {
            srw_guard g(mutex_);
            done_ = true;
            ended_ = ec;
        }
        deliver_later();
    }

    void deliver_later() noexcept
    {
        if (!submit_to_pool(&on_deliver, this)) {
            finish(); // the pool refused work: deliver here rather than never
        }
    }

    static void CALLBACK on_event_signalled(PTP_CALLBACK_INSTANCE, PVOID context, PTP_WAIT wait,
                                            TP_WAIT_RESULT result) noexcept
    {
        running_callback_scope scope(wait);
        static_cast<async_op*>(context)->resume(result == WAIT_OBJECT_0);
    }
    static void CALLBACK on_timer_due(PTP_CALLBACK_INSTANCE, PVOID context, PTP_TIMER timer) noexcept
    {
        running_callback_scope scope(timer);
        static_cast<async_op*>(context)->resume(false);
    }
    static void CALLBACK on_cancel_signalled(PTP_CALLBACK_INSTANCE, PVOID context, PTP_WAIT wait,
                                             TP_WAIT_RESULT) noexcept
    {
        running_callback_scope scope(wait);
        static_cast<async_op*>(context)->cancel(errc::cancelled);
    }
    static void CALLBACK on_deliver(PTP_CALLBACK_INSTANCE, PVOID context) noexcept
    {
        static_cast<async_op*>(context)->finish();
    }

    srw_mutex mutex_;
    bool done_ = false;
    std::error_code ended_;
    pool_wait wait_;
    pool_timer timer_;
    pool_wait cancel_wait_;
    std::atomic<long> refs_{1};
    // Guarded by the registry's mutex.
    async_registry* registry_ = nullptr;
    async_op* prev_ = nullptr;
    async_op* next_ = nullptr;
    // Guarded by mutex_ (set once, before delivery).
    DWORD delivering_thread_ = 0;
    // Set and read only by the delivering thread.
    bool cut_loose_ = false;
};

// A registry made at the first asynchronous wait on its owner (a mapping, which most programs
// never wait on asynchronously), safely from any thread. Movable by swap only, like its owner.
class lazy_async_registry {
public:
    lazy_async_registry() noexcept = default;
    lazy_async_registry(const lazy_async_registry&) = delete;
    lazy_async_registry& operator=(const lazy_async_registry&) = delete;
    ~lazy_async_registry() { reset(); }

    // Null only without memory for it.
    async_registry* get() noexcept
    {
        // acquire: pairs with the publishing exchange below.
        async_registry* r = registry_.load(std::memory_order_acquire);
        if (r != nullptr) {
            return r;
        }
        async_registry* made = new (std::nothrow) async_registry;
        if (made == nullptr) {
            return nullptr;
        }
        // acq_rel: publishes ours, or (acquire on failure) takes the one another thread made.
        if (!registry_.compare_exchange_strong(r, made, std::memory_order_acq_rel, std::memory_order_acquire)) {
            delete made;
            return r;
        }
        return made;
    }

    // Ends every pending wait (errc::aborted) and forgets the registry.
    void reset() noexcept
    {
        // acq_rel: takes the registry, with everything its maker wrote.
        delete registry_.exchange(nullptr, std::memory_order_acq_rel);
    }

    void swap(lazy_async_registry& other) noexcept
    {
        // relaxed: swapping an owner is not concurrent with waits on it (like the rest of its swap).
        async_registry* mine = registry_.load(std::memory_order_relaxed);
        registry_.store(other.registry_.load(std::memory_order_relaxed), std::memory_order_relaxed);
        other.registry_.store(mine, std::memory_order_relaxed);
    }

private:
    std::atomic<async_registry*> registry_{nullptr};
};

inline bool async_registry::add(async_op* op) noexcept
{
    srw_guard g(mutex_);
    if (closing_) {
        return false;
    }
    op->prev_ = nullptr;
    op->next_ = head_;
    if (head_ != nullptr) {
        head_->prev_ = op;
    }
    head_ = op;
    ++count_;
    return true;
}

inline void async_registry::remove(async_op* op) noexcept
{
    srw_guard g(mutex_);
    if (op->registry_ != this) {
        return; // cut loose by shutdown
    }
    (op->prev_ != nullptr ? op->prev_->next_ : head_) = op->next_;
    if (op->next_ != nullptr) {
        op->next_->prev_ = op->prev_;
    }
    op->registry_ = nullptr;
    --count_;
    ::WakeAllConditionVariable(&emptied_);
}

inline void async_registry::shutdown() noexcept
{
    const DWORD me = ::GetCurrentThreadId();
    srw_guard g(mutex_);
    closing_ = true;
    for (;;) {
        // One operation not yet ended, or none: end it outside the lock (its callbacks take the
        // operation's lock, and an ending operation takes ours to leave the list).
        async_op* victim = nullptr;
        for (async_op* op = head_; op != nullptr;) {
            async_op* const next = op->next_;
            if (op->pending()) {
                victim = op;
                break;
            }
            op->mutex_.lock();
            const DWORD delivering = op->delivering_thread_;
            op->mutex_.unlock();
            if (delivering == me) {
                // Its completion is what is closing the owner: it must not wait for itself.
                (op->prev_ != nullptr ? op->prev_->next_ : head_) = op->next_;
                if (op->next_ != nullptr) {
                    op->next_->prev_ = op->prev_;
                }
                op->registry_ = nullptr;
                op->cut_loose_ = true; // read by this same thread once deliver() returns
                --count_;
            }
            op = next;
        }
        if (victim != nullptr) {
            victim->add_ref();
            mutex_.unlock();
            victim->cancel(errc::aborted);
            victim->release();
            mutex_.lock();
            continue;
        }
        if (count_ == 0) {
            drop_held();
            return;
        }
        // The rest are ending on other threads: wait for them to leave the list.
        ::SleepConditionVariableSRW(&emptied_, mutex_.native(), INFINITE, 0);
    }
}

inline void async_registry::hold(held_result& result) noexcept
{
    srw_guard g(held_results_lock());
    if (held_closed_) {
        result.orphaned_ = true;
        result.drop_result();
        return;
    }
    result.registry_ = this;
    result.prev_ = nullptr;
    result.next_ = held_;
    if (held_ != nullptr) {
        held_->prev_ = &result;
    }
    held_ = &result;
}

inline bool async_registry::take_back(held_result& result) noexcept
{
    srw_guard g(held_results_lock());
    if (result.orphaned_) {
        return false;
    }
    if (async_registry* const r = std::exchange(result.registry_, nullptr)) {
        (result.prev_ != nullptr ? result.prev_->next_ : r->held_) = result.next_;
        if (result.next_ != nullptr) {
            result.next_->prev_ = result.prev_;
        }
    }
    return true;
}

// At the end of shutdown (no operation delivers any more): what consumers have not taken yet
// goes, while the owner's memory is still mapped.
inline void async_registry::drop_held() noexcept
{
    srw_guard g(held_results_lock());
    held_closed_ = true;
    while (held_result* const r = held_) {
        held_ = r->next_;
        r->registry_ = nullptr;
        r->prev_ = r->next_ = nullptr;
        r->orphaned_ = true;
        r->drop_result();
    }
}

} // namespace winmmf::detail
