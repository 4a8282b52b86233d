// Asynchronous waits (async.hpp): the thread-pool callback form and the coroutine form, against
// real child processes, real events and the real thread pool.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/child.hpp"
#include <async_fan_in.hpp>
#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <exception>
#include <string>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
using winmmf::test::eventually;

namespace {

// What one completion saw.
template <class T>
struct completion {
    std::atomic<int> count{0};
    std::error_code ec;
    T value{};
    DWORD thread = 0;

    auto callback()
    {
        return [this](const std::error_code& e, T v) noexcept {
            ec = e;
            value = std::move(v);
            thread = ::GetCurrentThreadId();
            count.fetch_add(1);
        };
    }
    bool arrived(std::chrono::milliseconds bound = 30s)
    {
        return eventually([&] { return count.load() > 0; }, bound);
    }
};

// A coroutine that starts at once and runs to its end by itself.
struct detached {
    struct promise_type {
        detached get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};

std::vector<std::byte> frame_of(std::uint64_t round)
{
    std::vector<std::byte> f(64);
    std::memcpy(f.data(), &round, sizeof round);
    return f;
}

} // namespace

// ---- notifications ----------------------------------------------------------------------

TEST_CASE("async_wait completes on a pool thread when another process notifies", "[async][notify]")
{
    const std::string name = test::unique_name("async-notify");
    auto n = notification::create(local(name));
    completion<std::uint64_t> c;
    auto op = n.async_wait(0, acquire_mode::wait_for(60s), c.callback());
    CHECK(op.pending());
    REQUIRE(eventually([&] { return n.waiting() == 1; })); // announced, and no thread blocks for it
    CHECK(c.count.load() == 0);
    auto notifier = test::child_process::start(L"winmmf_child.exe", {"notify-notify", "local", name, "1"});
    REQUIRE(c.arrived());
    CHECK_FALSE(c.ec);
    CHECK(c.value == 1);
    CHECK(c.thread != ::GetCurrentThreadId());
    CHECK(notifier.wait() == std::optional<DWORD>(0));
    CHECK(n.waiting() == 0); // withdrawn
    CHECK_FALSE(op.pending());
    CHECK_FALSE(op.cancel()); // it has ended: its result stands
    ::Sleep(50);
    CHECK(c.count.load() == 1);
}

TEST_CASE("async_wait: a change already there, try_once, timeout and spin end as wait() does", "[async][notify]")
{
    auto n = notification::create(local(test::unique_name("async-notify-modes")));
    n.notify();
    completion<std::uint64_t> moved, once, timed, spun;
    n.async_wait(0, acquire_mode::wait_for(60s), moved.callback());
    n.async_wait(1, acquire_mode::try_once(), once.callback());
    const auto start = std::chrono::steady_clock::now();
    n.async_wait(1, acquire_mode::wait_for(80ms), timed.callback());
    n.async_wait(1, acquire_mode::spin(1000), spun.callback());
    REQUIRE(moved.arrived());
    REQUIRE(once.arrived());
    REQUIRE(timed.arrived());
    REQUIRE(spun.arrived());
    CHECK_FALSE(moved.ec);
    CHECK(moved.value == 1);
    CHECK(moved.thread != ::GetCurrentThreadId()); // a result found at once is still delivered on the pool
    CHECK(once.ec == errc::timeout);
    CHECK(timed.ec == errc::timeout);
    CHECK(std::chrono::steady_clock::now() - start >= 80ms);
    CHECK(spun.ec == errc::max_tries_reached);
    CHECK(n.waiting() == 0);
}

TEST_CASE("async_wait is cancelled by its cancel_token and by its handle", "[async][notify]")
{
    auto n = notification::create(local(test::unique_name("async-notify-cancel")));
    cancel_token token;
    completion<std::uint64_t> by_token, by_handle;
    n.async_wait(0, acquire_mode::wait_for(60s).with_cancel(token), by_token.callback());
    auto op = n.async_wait(0, acquire_mode::wait_for(60s), by_handle.callback());
    REQUIRE(eventually([&] { return n.waiting() == 2; })); // two waits, two slots
    token.cancel();
    REQUIRE(by_token.arrived());
    CHECK(by_token.ec == errc::cancelled);
    CHECK(by_handle.count.load() == 0);
    CHECK(op.cancel());
    REQUIRE(by_handle.arrived());
    CHECK(by_handle.ec == errc::cancelled);
    CHECK(by_handle.thread != ::GetCurrentThreadId()); // not inline in cancel()
    CHECK(eventually([&] { return n.waiting() == 0; }));
    // A token cancelled before the wait starts ends it at once.
    completion<std::uint64_t> late;
    n.async_wait(0, acquire_mode::wait_for(60s).with_cancel(token), late.callback());
    REQUIRE(late.arrived());
    CHECK(late.ec == errc::cancelled);
}

TEST_CASE("destroying a notification ends its pending waits with aborted before the destructor returns",
          "[async][notify][lifetime]")
{
    const std::string name = test::unique_name("async-notify-destroy");
    auto keeper = notification::create(local(name));
    completion<std::uint64_t> a, b;
    {
        auto n = notification::open(local(name));
        n.async_wait(0, acquire_mode::wait_for(60s), a.callback());
        n.async_wait(0, acquire_mode::wait_for(60s), b.callback());
        REQUIRE(eventually([&] { return keeper.waiting() == 2; }));
    }
    // No waiting here: the completions have run by the time the destructor returned.
    CHECK(a.count.load() == 1);
    CHECK(b.count.load() == 1);
    CHECK(a.ec == errc::aborted);
    CHECK(b.ec == errc::aborted);
    CHECK(keeper.waiting() == 0); // their slots were given back
    // Moving onto a notification aborts its waits too; a closed one refuses at once (on the pool).
    completion<std::uint64_t> moved_onto, closed;
    auto n = notification::open(local(name));
    n.async_wait(0, acquire_mode::wait_for(60s), moved_onto.callback());
    n = notification::open(local(name));
    CHECK(moved_onto.count.load() == 1);
    CHECK(moved_onto.ec == errc::aborted);
    n.close();
    n.async_wait(0, acquire_mode::wait_for(60s), closed.callback());
    REQUIRE(closed.arrived());
    CHECK(closed.ec == errc::not_open);
}

TEST_CASE("a notification destroyed from its own wait's completion does not deadlock", "[async][notify][lifetime]")
{
    const std::string name = test::unique_name("async-notify-selfdestroy");
    auto keeper = notification::create(local(name));
    auto n = std::make_unique<notification>(notification::open(local(name)));
    completion<std::uint64_t> other;
    std::atomic<bool> destroyed{false};
    n->async_wait(0, acquire_mode::wait_for(60s), other.callback());
    n->async_wait(0, acquire_mode::wait_for(60s), [&](const std::error_code&, std::uint64_t) noexcept {
        n.reset(); // ends `other` with aborted, and must not wait for this very completion
        destroyed = true;
    });
    REQUIRE(eventually([&] { return keeper.waiting() == 2; }));
    keeper.notify();
    REQUIRE(eventually([&] { return destroyed.load(); }));
    REQUIRE(other.arrived());
    CHECK((other.ec == errc::aborted || !other.ec)); // the notify may have reached it first
}

// ---- frame readers ----------------------------------------------------------------------

TEST_CASE("async_take and async_acquire get the next frame a writer process publishes", "[async][frame]")
{
    const std::string name = test::unique_name("async-frame");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64});
    auto r = frame_reader::open(local(name));
    std::vector<std::byte> buf(64);
    completion<frame_info> taken;
    auto op = r.async_take(buf, acquire_mode::wait_for(60s), taken.callback());
    REQUIRE(eventually([&] { return r.waiting() == 1; }));
    // While it is pending, the reader takes nothing else: it takes one frame at a time.
    std::error_code ec;
    frame_info info;
    CHECK_FALSE(r.try_take(buf, info, ec));
    CHECK(ec == errc::operation_pending);
    completion<frame_info> second;
    r.async_take(buf, acquire_mode::wait_for(60s), second.callback());
    REQUIRE(second.arrived());
    CHECK(second.ec == errc::operation_pending);
    w.publish(frame_of(7));
    REQUIRE(taken.arrived());
    CHECK_FALSE(taken.ec);
    CHECK(taken.value.sequence == 1);
    CHECK(taken.value.size == 64);
    std::uint64_t round = 0;
    std::memcpy(&round, buf.data(), sizeof round);
    CHECK(round == 7);
    CHECK(r.frames_taken() == 1);
    CHECK(r.waiting() == 0);

    completion<frame_view> viewed;
    r.async_acquire(acquire_mode::wait_for(60s), viewed.callback());
    REQUIRE(eventually([&] { return r.waiting() == 1; }));
    w.publish(frame_of(8));
    REQUIRE(viewed.arrived());
    CHECK_FALSE(viewed.ec);
    REQUIRE(viewed.value);
    CHECK(viewed.value.info().sequence == 2);
    std::memcpy(&round, viewed.value.bytes().data(), sizeof round);
    CHECK(round == 8);
    CHECK(viewed.value.still_valid());
    // The next take works again, synchronously too.
    w.publish(frame_of(9));
    CHECK(r.try_take(buf, info, ec));
    CHECK(info.sequence == 3);
}

TEST_CASE("async_take reports writer_gone when the writer process is killed, end_of_stream when it closes",
          "[async][frame]")
{
    const std::string name = test::unique_name("async-frame-gone");
    auto ready = test::named_event::create(name + "-ready");
    auto writer = test::child_process::start(L"winmmf_child.exe", {"frame-writer", "local", name, "4096", "1", name + "-ready"});
    REQUIRE(ready.wait_or_exit(writer.handle()));
    auto r = frame_reader::open(local(name));
    std::vector<std::byte> buf(4096);
    frame_info info;
    std::error_code ec;
    REQUIRE(r.try_take(buf, info, ec));
    completion<frame_info> gone;
    r.async_take(buf, acquire_mode::wait_for(60s), gone.callback());
    REQUIRE(eventually([&] { return r.waiting() == 1; }));
    writer.kill();
    // Noticed at the next liveness check (detail::writer_check_interval, 500 ms).
    REQUIRE(gone.arrived(10s));
    CHECK(gone.ec == errc::writer_gone);

    const std::string closing = test::unique_name("async-frame-close");
    auto w = frame_writer::create(local(closing), {.max_frame_size = 64});
    auto r2 = frame_reader::open(local(closing));
    completion<frame_info> end;
    r2.async_take(buf, acquire_mode::wait_for(60s), end.callback());
    REQUIRE(eventually([&] { return r2.waiting() == 1; }));
    w.close();
    REQUIRE(end.arrived());
    CHECK(end.ec == errc::end_of_stream);
}

TEST_CASE("takes started together spread their writer liveness checks over the interval", "[async][frame]")
{
    // 1,000 takes started at once must not all time out at once, every 500 ms: the pool would
    // start a thread for each (the benchmark's "[async][idle]" row measures what that costs).
    using std::chrono::nanoseconds;
    const nanoseconds interval = detail::writer_check_interval;
    constexpr int buckets = 20;
    std::vector<int> in_bucket(buckets, 0);
    for (int k = 0; k < 1000; ++k) {
        const nanoseconds d = detail::first_writer_check_delay();
        REQUIRE(d >= interval / 4);
        REQUIRE(d <= interval); // never later than the blocking take's bound
        ++in_bucket[static_cast<std::size_t>((d - interval / 4) * buckets / (interval - interval / 4))];
    }
    // Even: 50 per bucket; none holds twice that.
    for (const int n : in_bucket) {
        CHECK(n > 25);
        CHECK(n < 100);
    }
}

TEST_CASE("async_take: timeout, cancel, a buffer too small, and destroying the reader", "[async][frame][lifetime]")
{
    const std::string name = test::unique_name("async-frame-end");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64});
    std::vector<std::byte> buf(64), small(8);
    auto r = frame_reader::open(local(name));
    completion<frame_info> timed;
    r.async_take(buf, acquire_mode::wait_for(60ms), timed.callback());
    REQUIRE(timed.arrived());
    CHECK(timed.ec == errc::timeout);

    cancel_token token;
    completion<frame_info> cancelled;
    r.async_take(buf, acquire_mode::wait_for(60s).with_cancel(token), cancelled.callback());
    REQUIRE(eventually([&] { return r.waiting() == 1; }));
    token.cancel();
    REQUIRE(cancelled.arrived());
    CHECK(cancelled.ec == errc::cancelled);
    CHECK(eventually([&] { return r.waiting() == 0; }));

    w.publish(frame_of(1));
    completion<frame_info> too_small;
    r.async_take(small, acquire_mode::wait_for(60s), too_small.callback());
    REQUIRE(too_small.arrived());
    CHECK(too_small.ec == errc::buffer_too_small);

    completion<frame_info> aborted;
    {
        auto doomed = frame_reader::open(local(name));
        REQUIRE(doomed.take(buf, acquire_mode::try_once()).sequence == 1); // a new reader starts at the newest frame
        doomed.async_take(buf, acquire_mode::wait_for(60s), aborted.callback());
        auto moved = std::move(doomed); // the wait follows the channel, not the object
        REQUIRE(eventually([&] { return moved.waiting() == 1; }));
        CHECK(aborted.count.load() == 0);
    }
    CHECK(aborted.count.load() == 1);
    CHECK(aborted.ec == errc::aborted);
}

// ---- locks ------------------------------------------------------------------------------

TEST_CASE("async_lock_write gets the lock once another process lets go of it", "[async][lock]")
{
    const std::string name = test::unique_name("async-lock");
    auto m = memory_mapped_file::create(local(name), 64);
    auto ready = test::named_event::create(name + "-ready");
    auto release = test::named_event::create(name + "-release");
    auto holder = test::child_process::start(L"winmmf_child.exe",
                                             {"hold-write", "local", name, name + "-ready", name + "-release"});
    REQUIRE(ready.wait_or_exit(holder.handle()));
    completion<write_guard> locked;
    m.async_lock_write(acquire_mode::wait_for(60s), locked.callback());
    ::Sleep(100);
    CHECK(locked.count.load() == 0);
    release.set();
    REQUIRE(locked.arrived());
    CHECK_FALSE(locked.ec);
    CHECK(locked.value.owns_lock());
    CHECK(holder.wait() == std::optional<DWORD>(0));
    // While we hold it: a read lock times out, a try_once is refused with the reason.
    completion<read_guard> timed, once;
    m.async_lock_read(acquire_mode::wait_for(50ms), timed.callback());
    m.async_lock_read(acquire_mode::try_once(), once.callback());
    REQUIRE(timed.arrived());
    REQUIRE(once.arrived());
    CHECK(timed.ec == errc::timeout);
    CHECK(once.ec == errc::write_locked);
    locked.value.unlock();
    // A pending lock on a mapping that is closed ends with aborted.
    auto g = m.lock_write();
    completion<write_guard> aborted;
    auto other = memory_mapped_file::open(local(name));
    other.async_lock_write(acquire_mode::wait_for(60s), aborted.callback());
    other.close();
    CHECK(aborted.count.load() == 1);
    CHECK(aborted.ec == errc::aborted);
    CHECK_FALSE(aborted.value.owns_lock());
}

TEST_CASE("async_lock_write on a robust mapping clears a killed holder and reports owner_dead", "[async][lock][robust]")
{
    const std::string name = test::unique_name("async-robust");
    auto m = robust_memory_mapped_file::create(local(name), 64);
    auto ready = test::named_event::create(name + "-ready");
    auto holder = test::child_process::start(L"winmmf_child.exe", {"robust-hold", "write", "local", name, name + "-ready"});
    REQUIRE(ready.wait_or_exit(holder.handle()));
    completion<robust_write_guard> locked;
    m.async_lock_write(acquire_mode::wait_for(60s), locked.callback());
    ::Sleep(100);
    CHECK(locked.count.load() == 0);
    holder.kill();
    REQUIRE(locked.arrived(10s));
    CHECK(locked.ec == errc::owner_dead);
    CHECK(locked.value.owns_lock());
    CHECK(locked.value.previous_owner_died());
}

// ---- coroutines -------------------------------------------------------------------------

namespace {

detached await_notification(notification& n, std::uint64_t seen, acquire_mode mode, completion<std::uint64_t>& c)
{
    std::uint64_t v = 0;
    std::error_code ec;
    try {
        v = co_await n.async_wait(seen, mode);
    } catch (const std::system_error& e) {
        ec = e.code();
    }
    c.callback()(ec, v);
}

detached await_frame(frame_reader& r, std::span<std::byte> buf, acquire_mode mode, completion<frame_info>& c)
{
    std::error_code ec;
    const frame_info info = co_await r.async_take(buf, mode, ec);
    c.callback()(ec, info);
}

detached await_lock(memory_mapped_file& m, acquire_mode mode, completion<write_guard>& c)
{
    std::error_code ec;
    write_guard g = co_await m.async_lock_write(mode, ec);
    c.callback()(ec, std::move(g));
}

} // namespace

TEST_CASE("co_await: notifications, frames and locks, resumed on a pool thread", "[async][coroutine]")
{
    const std::string name = test::unique_name("async-co");
    auto n = notification::create(local(name));
    completion<std::uint64_t> woken, timed, aborted;
    await_notification(n, 0, acquire_mode::wait_for(60s), woken);
    await_notification(n, 0, acquire_mode::wait_for(30ms), timed); // throws timeout
    REQUIRE(timed.arrived());
    CHECK(timed.ec == errc::timeout);
    auto notifier = test::child_process::start(L"winmmf_child.exe", {"notify-notify", "local", name, "1"});
    REQUIRE(woken.arrived());
    CHECK_FALSE(woken.ec);
    CHECK(woken.value == 1);
    CHECK(woken.thread != ::GetCurrentThreadId());
    {
        auto doomed = notification::open(local(name));
        await_notification(doomed, 1, acquire_mode::wait_for(60s), aborted);
        REQUIRE(eventually([&] { return n.waiting() == 1; }));
    }
    CHECK(aborted.count.load() == 1);
    CHECK(aborted.ec == errc::aborted);

    auto w = frame_writer::create(local(name + "-frames"), {.max_frame_size = 64});
    auto r = frame_reader::open(local(name + "-frames"));
    std::vector<std::byte> buf(64);
    cancel_token token;
    completion<frame_info> cancelled, taken;
    await_frame(r, buf, acquire_mode::wait_for(60s).with_cancel(token), cancelled);
    REQUIRE(eventually([&] { return r.waiting() == 1; }));
    token.cancel();
    REQUIRE(cancelled.arrived());
    CHECK(cancelled.ec == errc::cancelled);
    token.reset();
    await_frame(r, buf, acquire_mode::wait_for(60s), taken);
    REQUIRE(eventually([&] { return r.waiting() == 1; }));
    w.publish(frame_of(3));
    REQUIRE(taken.arrived());
    CHECK_FALSE(taken.ec);
    CHECK(taken.value.sequence == 1);

    auto m = memory_mapped_file::create(local(name + "-lock"), 64);
    auto g = m.lock_write();
    completion<write_guard> locked;
    await_lock(m, acquire_mode::wait_for(60s), locked);
    ::Sleep(50);
    CHECK(locked.count.load() == 0);
    g.unlock();
    REQUIRE(locked.arrived());
    CHECK_FALSE(locked.ec);
    CHECK(locked.value.owns_lock());
}

// ---- 1,000 waits ------------------------------------------------------------------------

TEST_CASE("1,000 concurrent thread-pool waits over 20 channels and notifications, woken by 4 processes",
          "[async][fanin]")
{
    test::async_fan_in f;
    const bool done = f.run([&](unsigned w, std::uint64_t seen) {
        if (test::async_fan_in::is_take(w)) {
            f.reader(w).async_take(f.buffer(w), acquire_mode::wait_for(120s),
                                   [&f, w](const std::error_code& ec, const frame_info&) noexcept {
                                       f.completed(w, ec, f.buffer(w));
                                   });
        } else {
            f.notification_of(w).async_wait(seen, acquire_mode::wait_for(120s),
                                             [&f, w](const std::error_code& ec, std::uint64_t) noexcept {
                                                 f.completed(w, ec);
                                             });
        }
    });
    CHECK(done);
    CHECK(f.waits_not_exact() == 0);
    CHECK(f.total_failures() == 0);
    CHECK(f.writers_succeeded());
    // The thread pool waits for up to 63 handles per thread: far fewer threads than waits.
    WARN("threads: " << f.threads_before() << " before, " << f.threads_pending() << " with 1,000 waits pending");
    CHECK(f.threads_pending() < f.threads_before() + 100);
}

namespace {
detached fan_in_take(test::async_fan_in& f, unsigned w)
{
    std::error_code ec;
    co_await f.reader(w).async_take(f.buffer(w), acquire_mode::wait_for(120s), ec);
    f.completed(w, ec, f.buffer(w));
}
detached fan_in_wait(test::async_fan_in& f, unsigned w, std::uint64_t seen)
{
    std::error_code ec;
    co_await f.notification_of(w).async_wait(seen, acquire_mode::wait_for(120s), ec);
    f.completed(w, ec);
}
} // namespace

TEST_CASE("1,000 concurrent coroutine waits over 20 channels and notifications, woken by 4 processes",
          "[async][fanin][coroutine]")
{
    test::async_fan_in f;
    const bool done = f.run([&](unsigned w, std::uint64_t seen) {
        if (test::async_fan_in::is_take(w)) {
            fan_in_take(f, w);
        } else {
            fan_in_wait(f, w, seen);
        }
    });
    CHECK(done);
    CHECK(f.waits_not_exact() == 0);
    CHECK(f.total_failures() == 0);
    CHECK(f.writers_succeeded());
    WARN("threads: " << f.threads_before() << " before, " << f.threads_pending() << " with 1,000 waits pending");
    CHECK(f.threads_pending() < f.threads_before() + 100);
}
