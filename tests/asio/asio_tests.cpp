// <winmmf/asio.hpp>: the asynchronous waits with Asio completion tokens, against real child
// processes, real events and the real thread pool. Built twice (tests/CMakeLists.txt): with
// standalone Asio, and with WINMMF_TEST_BOOST_ASIO against Boost.Asio (1.74 on Debian 12:
// Asio 1.18, which has no cancellation slots and no deferred token).
#include <utility> // before Boost's awaitable.hpp, which uses std::exchange without it (g++ 12)

#if defined(WINMMF_TEST_BOOST_ASIO)
#include <boost/asio.hpp>
namespace net = boost::asio;
using asio_system_error = boost::system::system_error;
#define WINMMF_TEST_ASIO_NAME "Boost.Asio"
#else
#include <asio.hpp>
#if ASIO_VERSION < 102400
#include <asio/experimental/deferred.hpp>
#endif
namespace net = asio;
using asio_system_error = asio::system_error;
#define WINMMF_TEST_ASIO_NAME "standalone Asio"
#endif

#include <winmmf/asio.hpp>
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <async_fan_in.hpp>
#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
using winmmf::test::eventually;

namespace {

std::vector<std::byte> frame_of(std::uint64_t round)
{
    std::vector<std::byte> f(64);
    std::memcpy(f.data(), &round, sizeof round);
    return f;
}
std::uint64_t round_of(std::span<const std::byte> frame)
{
    std::uint64_t round = 0;
    if (frame.size() >= sizeof round) {
        std::memcpy(&round, frame.data(), sizeof round);
    }
    return round;
}

// What one completion saw, and on which thread.
template <class T>
struct seen {
    int count = 0;
    winmmf::asio::error_code ec;
    T value{};
    std::thread::id thread;
};

template <class T>
auto recorder(seen<T>& s)
{
    return [&s](const winmmf::asio::error_code& ec, T v) {
        ++s.count;
        s.ec = ec;
        s.value = std::move(v);
        s.thread = std::this_thread::get_id();
    };
}

// Runs `io` on this thread until it runs out of work, for at most `bound`: a test that hangs
// fails instead.
bool run_for(net::io_context& io, std::chrono::milliseconds bound = 30s)
{
    io.run_for(bound);
    const bool finished = io.stopped();
    io.restart();
    return finished;
}

// Does `action` on another thread once `ready()` holds: a wake-up from outside the io_context.
template <class Ready, class Action>
std::jthread later(Ready ready, Action action)
{
    return std::jthread([ready, action]() mutable {
        if (eventually(ready)) {
            action();
        }
    });
}

} // namespace

TEST_CASE("callbacks bound to an io_context complete on its thread, with the blocking call's results", "[asio]")
{
    INFO(WINMMF_TEST_ASIO_NAME);
    net::io_context io;
    const std::string name = test::unique_name("asio-cb");
    auto n = notification::create(local(name + "-n"));
    auto w = frame_writer::create(local(name), {.max_frame_size = 64});
    auto r = frame_reader::open(local(name));
    std::vector<std::byte> buf(64);

    seen<std::uint64_t> woken;
    seen<frame_info> taken;
    winmmf::asio::async_wait(n, n.sequence(), acquire_mode::wait_for(60s), net::bind_executor(io, recorder(woken)));
    winmmf::asio::async_take(r, buf, acquire_mode::wait_for(60s), net::bind_executor(io, recorder(taken)));
    auto waker = later([&] { return n.waiting() == 1 && r.waiting() == 1; },
                       [&] {
                           n.notify();
                           w.publish(frame_of(5));
                       });
    REQUIRE(run_for(io));
    CHECK(woken.count == 1);
    CHECK_FALSE(woken.ec);
    CHECK(woken.value == 1);
    CHECK(woken.thread == std::this_thread::get_id());
    CHECK(taken.count == 1);
    CHECK_FALSE(taken.ec);
    CHECK(taken.value.sequence == 1);
    CHECK(round_of(buf) == 5);
    CHECK(taken.thread == std::this_thread::get_id());

    // The blocking twin's errors, as error_codes that compare with winmmf::errc.
    seen<frame_info> timed, small;
    seen<frame_view> once;
    std::vector<std::byte> tiny(8);
    winmmf::asio::async_take(r, buf, acquire_mode::wait_for(50ms), net::bind_executor(io, recorder(timed)));
    REQUIRE(run_for(io));
    CHECK(winmmf::asio::to_std(timed.ec) == errc::timeout);
    winmmf::asio::async_acquire(r, acquire_mode::try_once(), net::bind_executor(io, recorder(once)));
    REQUIRE(run_for(io));
    CHECK(winmmf::asio::to_std(once.ec) == errc::timeout);
    w.publish(frame_of(6));
    winmmf::asio::async_take(r, tiny, acquire_mode::wait_for(60s), net::bind_executor(io, recorder(small)));
    REQUIRE(run_for(io));
    CHECK(winmmf::asio::to_std(small.ec) == errc::buffer_too_small);
    CHECK(small.ec.message() == make_error_code(errc::buffer_too_small).message());
    CHECK(std::string(small.ec.category().name()) == "winmmf");
}

TEST_CASE("use_awaitable: frames, notifications and locks from a coroutine on the io_context", "[asio][coroutine]")
{
    INFO(WINMMF_TEST_ASIO_NAME);
    net::io_context io;
    const std::string name = test::unique_name("asio-co");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64});
    auto r = frame_reader::open(local(name));
    auto m = memory_mapped_file::create(local(name + "-m"), 64);
    std::vector<std::byte> buf(64);
    auto held = std::make_optional(m.lock_write());

    std::vector<std::uint64_t> rounds;
    std::vector<std::thread::id> threads;
    bool locked = false, threw_timeout = false, done = false;
    std::atomic<std::uint64_t> frames_seen{0};
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            for (int i = 0; i < 3; ++i) {
                const frame_info info =
                    co_await winmmf::asio::async_take(r, buf, acquire_mode::wait_for(60s), net::use_awaitable);
                rounds.push_back(round_of(std::span(buf).first(info.size)));
                threads.push_back(std::this_thread::get_id());
                frames_seen.fetch_add(1);
            }
            frame_view view = co_await winmmf::asio::async_acquire(r, acquire_mode::wait_for(60s), net::use_awaitable);
            rounds.push_back(round_of(view.bytes()));
            frames_seen.fetch_add(1);
            view = {};
            auto guard = co_await winmmf::asio::async_lock_write(m, acquire_mode::wait_for(60s), net::use_awaitable);
            locked = guard.owns_lock();
            threads.push_back(std::this_thread::get_id());
            guard.unlock();
            try {
                (void)co_await winmmf::asio::async_take(r, buf, acquire_mode::wait_for(30ms), net::use_awaitable);
            } catch (const asio_system_error& e) {
                threw_timeout = winmmf::asio::to_std(e.code()) == errc::timeout;
            }
            done = true;
        },
        net::detached);
    auto writer = std::jthread([&] {
        // Each frame once the coroutine took the one before and sleeps again: none is skipped.
        for (std::uint64_t k = 1; k <= 4; ++k) {
            eventually([&] { return frames_seen.load() == k - 1 && r.waiting() == 1; });
            w.publish(frame_of(k));
        }
        ::Sleep(50);
        held.reset(); // the lock coroutine is polling by now
    });
    REQUIRE(run_for(io));
    writer.join();
    CHECK(done);
    CHECK(rounds == std::vector<std::uint64_t>{1, 2, 3, 4});
    CHECK(locked);
    CHECK(threw_timeout);
    for (const auto& t : threads) {
        CHECK(t == std::this_thread::get_id());
    }
}

TEST_CASE("use_future: the result, or the blocking call's error as an exception", "[asio][future]")
{
    INFO(WINMMF_TEST_ASIO_NAME);
    const std::string name = test::unique_name("asio-future");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64});
    auto r = frame_reader::open(local(name));
    auto n = notification::create(local(name + "-n"));
    std::vector<std::byte> buf(64);

    // No io_context: use_future's handler completes on the pool thread.
    std::future<std::uint64_t> woken = winmmf::asio::async_wait(n, 0, acquire_mode::wait_for(60s), net::use_future);
    REQUIRE(eventually([&] { return n.waiting() == 1; }));
    n.notify();
    REQUIRE(woken.wait_for(30s) == std::future_status::ready);
    CHECK(woken.get() == 1);

    auto timed = winmmf::asio::async_take(r, buf, acquire_mode::wait_for(40ms), net::use_future);
    REQUIRE(timed.wait_for(30s) == std::future_status::ready);
    std::error_code failure;
    try {
        (void)timed.get();
    } catch (const asio_system_error& e) {
        failure = winmmf::asio::to_std(e.code());
    }
    CHECK(failure == errc::timeout);

    w.publish(frame_of(3));
    auto taken = winmmf::asio::async_take(r, buf, acquire_mode::wait_for(60s), net::use_future);
    REQUIRE(taken.wait_for(30s) == std::future_status::ready);
    CHECK(taken.get().sequence == 1);
    CHECK(round_of(buf) == 3);
}

TEST_CASE("deferred: the wait starts when the deferred operation is invoked", "[asio][deferred]")
{
#if defined(WINMMF_TEST_BOOST_ASIO)
    SKIP("Boost 1.74's Asio (1.18) has no deferred completion token");
#else
    net::io_context io;
    auto n = notification::create(local(test::unique_name("asio-deferred")));
#if ASIO_VERSION >= 102400
    auto op = winmmf::asio::async_wait(n, 0, acquire_mode::wait_for(60s), net::deferred);
#else
    auto op = winmmf::asio::async_wait(n, 0, acquire_mode::wait_for(60s), net::experimental::deferred);
#endif
    ::Sleep(50);
    CHECK(n.waiting() == 0); // nothing started yet
    seen<std::uint64_t> woken;
    std::move(op)(net::bind_executor(io, recorder(woken)));
    auto waker = later([&] { return n.waiting() == 1; }, [&] { n.notify(); });
    REQUIRE(run_for(io));
    CHECK(woken.count == 1);
    CHECK_FALSE(woken.ec);
    CHECK(woken.value == 1);
#endif
}

TEST_CASE("a cancellation slot ends a pending wait with operation_aborted; a cancel_token with cancelled",
          "[asio][cancel]")
{
#if !WINMMF_ASIO_HAS_CANCELLATION
    SKIP("Boost 1.74's Asio (1.18) has no per-operation cancellation slots");
#else
    net::io_context io;
    const std::string name = test::unique_name("asio-slot");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64});
    auto r = frame_reader::open(local(name));
    auto n = notification::create(local(name + "-n"));
    auto m = memory_mapped_file::create(local(name + "-m"), 64);
    std::vector<std::byte> buf(64);
    auto held = m.lock_write();

    net::cancellation_signal take_signal, wait_signal, lock_signal;
    seen<frame_info> taken;
    seen<std::uint64_t> woken;
    seen<memory_mapped_file::write_guard> locked;
    winmmf::asio::async_take(r, buf, acquire_mode::wait_for(60s),
                             net::bind_cancellation_slot(take_signal.slot(), net::bind_executor(io, recorder(taken))));
    winmmf::asio::async_wait(n, 0, acquire_mode::wait_for(60s),
                             net::bind_cancellation_slot(wait_signal.slot(), net::bind_executor(io, recorder(woken))));
    winmmf::asio::async_lock_write(m, acquire_mode::wait_for(60s),
                                   net::bind_cancellation_slot(lock_signal.slot(), net::bind_executor(io, recorder(locked))));
    net::steady_timer t(io, 100ms);
    t.async_wait([&](const winmmf::asio::error_code&) {
        CHECK(r.waiting() == 1);
        CHECK(n.waiting() == 1);
        take_signal.emit(net::cancellation_type::terminal);
        wait_signal.emit(net::cancellation_type::total);
        lock_signal.emit(net::cancellation_type::partial);
    });
    REQUIRE(run_for(io));
    CHECK(taken.count == 1);
    CHECK(taken.ec == net::error::operation_aborted);
    CHECK(woken.count == 1);
    CHECK(woken.ec == net::error::operation_aborted);
    CHECK(locked.count == 1);
    CHECK(locked.ec == net::error::operation_aborted);
    CHECK_FALSE(locked.value.owns_lock());
    CHECK(r.waiting() == 0);
    CHECK(n.waiting() == 0);

    // The reader takes again at once, and the frame it missed is still there.
    w.publish(frame_of(9));
    seen<frame_info> again;
    winmmf::asio::async_take(r, buf, acquire_mode::wait_for(60s), net::bind_executor(io, recorder(again)));
    REQUIRE(run_for(io));
    CHECK_FALSE(again.ec);
    CHECK(round_of(buf) == 9);

    // A cancel_token in the mode: errc::cancelled, as the blocking call reports it.
    cancel_token token;
    seen<std::uint64_t> by_token;
    winmmf::asio::async_wait(n, 0, acquire_mode::wait_for(60s).with_cancel(token), net::bind_executor(io, recorder(by_token)));
    auto canceller = later([&] { return n.waiting() == 1; }, [&] { token.cancel(); });
    REQUIRE(run_for(io));
    CHECK(winmmf::asio::to_std(by_token.ec) == errc::cancelled);

    // A slot emitted after the wait completed changes nothing.
    n.notify();
    seen<std::uint64_t> finished;
    net::cancellation_signal late;
    winmmf::asio::async_wait(n, 0, acquire_mode::wait_for(60s),
                             net::bind_cancellation_slot(late.slot(), net::bind_executor(io, recorder(finished))));
    REQUIRE(run_for(io));
    late.emit(net::cancellation_type::terminal);
    CHECK(finished.count == 1);
    CHECK_FALSE(finished.ec);
    CHECK(finished.value == 1);
#endif
}

TEST_CASE("destroying the object ends its pending Asio waits with operation_aborted", "[asio][lifetime]")
{
    INFO(WINMMF_TEST_ASIO_NAME);
    net::io_context io;
    const std::string name = test::unique_name("asio-destroy");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64});
    seen<frame_info> taken;
    seen<std::uint64_t> woken, changed;
    std::vector<std::byte> buf(64);
    {
        auto r = frame_reader::open(local(name));
        auto n = notification::create(local(name + "-n"));
        auto m = memory_mapped_file::create(local(name + "-m"), 64, {.change_notification = true});
        winmmf::asio::async_take(r, buf, acquire_mode::wait_for(60s), net::bind_executor(io, recorder(taken)));
        winmmf::asio::async_wait(n, 0, acquire_mode::wait_for(60s), net::bind_executor(io, recorder(woken)));
        winmmf::asio::async_wait_for_change(m, m.change_sequence(), acquire_mode::wait_for(60s),
                                            net::bind_executor(io, recorder(changed)));
        REQUIRE(eventually([&] {
            return r.waiting() == 1 && n.waiting() == 1 && m.change_notification()->waiting() == 1;
        }));
    } // the completions are queued on io by now; none has run
    CHECK(taken.count == 0);
    REQUIRE(run_for(io));
    CHECK(taken.count == 1);
    CHECK(taken.ec == net::error::operation_aborted);
    CHECK(woken.count == 1);
    CHECK(woken.ec == net::error::operation_aborted);
    CHECK(changed.count == 1);
    CHECK(changed.ec == net::error::operation_aborted);
}

TEST_CASE("an Asio wait reports writer_gone when the writer process is killed, and a notification closed while waiting",
          "[asio][frame]")
{
    INFO(WINMMF_TEST_ASIO_NAME);
    net::io_context io;
    const std::string name = test::unique_name("asio-gone");
    auto ready = test::named_event::create(name + "-ready");
    auto writer = test::child_process::start(L"winmmf_child.exe", {"frame-writer", "local", name, "4096", "1", name + "-ready"});
    REQUIRE(ready.wait_or_exit(writer.handle()));
    auto r = frame_reader::open(local(name));
    std::vector<std::byte> buf(4096);
    frame_info info;
    std::error_code ec;
    REQUIRE(r.try_take(buf, info, ec));
    seen<frame_info> gone;
    winmmf::asio::async_take(r, buf, acquire_mode::wait_for(60s), net::bind_executor(io, recorder(gone)));
    auto killer = later([&] { return r.waiting() == 1; }, [&] { writer.kill(); });
    REQUIRE(run_for(io));
    CHECK(winmmf::asio::to_std(gone.ec) == errc::writer_gone);
    CHECK(gone.thread == std::this_thread::get_id());

    // A notification closed while its wait is pending (here: from the io_context's own thread).
    auto n = notification::create(local(name + "-n"));
    seen<std::uint64_t> closed;
    winmmf::asio::async_wait(n, 0, acquire_mode::wait_for(60s), net::bind_executor(io, recorder(closed)));
    net::steady_timer t(io, 50ms);
    t.async_wait([&](const winmmf::asio::error_code&) { n.close(); });
    REQUIRE(run_for(io));
    CHECK(closed.count == 1);
    CHECK(closed.ec == net::error::operation_aborted);
}

TEST_CASE("1,000 concurrent Asio waits over 20 channels and notifications on one io_context thread, woken by 4 processes",
          "[asio][fanin]")
{
    INFO(WINMMF_TEST_ASIO_NAME);
    net::io_context io;
    auto work = net::make_work_guard(io);
    std::atomic<std::thread::id> io_thread_id{};
    std::jthread io_thread([&] {
        io_thread_id.store(std::this_thread::get_id());
        io.run();
    });
    REQUIRE(eventually([&] { return io_thread_id.load() != std::thread::id{}; }));
    std::atomic<unsigned> elsewhere{0};

    test::async_fan_in f;
    const bool done = f.run([&](unsigned w, std::uint64_t seen_value) {
        if (test::async_fan_in::is_take(w)) {
            winmmf::asio::async_take(f.reader(w), f.buffer(w), acquire_mode::wait_for(120s),
                                     net::bind_executor(io, [&, w](const winmmf::asio::error_code& e, const frame_info&) {
                                         elsewhere += std::this_thread::get_id() == io_thread_id.load() ? 0u : 1u;
                                         f.completed(w, winmmf::asio::to_std(e), f.buffer(w));
                                     }));
        } else {
            winmmf::asio::async_wait(f.notification_of(w), seen_value, acquire_mode::wait_for(120s),
                                     net::bind_executor(io, [&, w](const winmmf::asio::error_code& e, std::uint64_t) {
                                         elsewhere += std::this_thread::get_id() == io_thread_id.load() ? 0u : 1u;
                                         f.completed(w, winmmf::asio::to_std(e));
                                     }));
        }
    });
    work.reset();
    io_thread.join(); // run() returns: no wait is left pending
    CHECK(done);
    CHECK(f.waits_not_exact() == 0);
    CHECK(f.total_failures() == 0);
    CHECK(elsewhere.load() == 0);
    CHECK(f.writers_succeeded());
    WARN(WINMMF_TEST_ASIO_NAME << " threads: " << f.threads_before() << " before, " << f.threads_pending()
                               << " with 1,000 waits pending");
    CHECK(f.threads_pending() < f.threads_before() + 100);
}

TEST_CASE("a coroutine suspended in a wait when its reader and then its io_context are destroyed", "[asio][lifetime]")
{
    INFO(WINMMF_TEST_ASIO_NAME);
    const std::string name = test::unique_name("asio-abandon");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64});
    std::vector<std::byte> buf(64);
    bool resumed = false;
    {
        net::io_context io;
        auto r = std::make_optional(frame_reader::open(local(name)));
        net::co_spawn(
            io,
            [&]() -> net::awaitable<void> {
                (void)co_await winmmf::asio::async_take(*r, buf, acquire_mode::wait_for(60s), net::use_awaitable);
                resumed = true;
            },
            net::detached);
        CHECK_FALSE(run_for(io, 100ms)); // suspended in the wait
        REQUIRE(r->waiting() == 1);
        r.reset(); // the wait ends with operation_aborted, queued on io, which never runs again
    } // io's destructor destroys the coroutine without resuming it
    CHECK_FALSE(resumed);
}

TEST_CASE("a result queued for its handler when the object is closed becomes operation_aborted, and lets go first",
          "[asio][lifetime]")
{
    INFO(WINMMF_TEST_ASIO_NAME);
    net::io_context io; // not run until the objects are closed
    const std::string name = test::unique_name("asio-queued");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64});
    auto r = frame_reader::open(local(name));
    auto m = memory_mapped_file::create(local(name + "-m"), 64);
    seen<frame_view> viewed;
    seen<memory_mapped_file::write_guard> locked;
    winmmf::asio::async_acquire(r, acquire_mode::wait_for(60s), net::bind_executor(io, recorder(viewed)));
    REQUIRE(eventually([&] { return r.waiting() == 1; }));
    w.publish(frame_of(4));
    winmmf::asio::async_lock_write(m, acquire_mode::wait_for(60s), net::bind_executor(io, recorder(locked)));
    // Both ended on the pool (the frame taken, the lock held); their handlers wait for io.
    auto keeper = memory_mapped_file::open(local(name + "-m"));
    std::error_code ec;
    REQUIRE(eventually([&] { return r.waiting() == 0 && !keeper.try_lock_read(ec).owns_lock(); }));
    ::Sleep(200); // past their deliveries, into the queue
    r.close(); // unmaps the channel the view points into
    m.close(); // the guard must unlock before the lock word is unmapped
    REQUIRE(run_for(io));
    CHECK(viewed.count == 1);
    CHECK(viewed.ec == net::error::operation_aborted);
    CHECK_FALSE(viewed.value);
    CHECK(locked.count == 1);
    CHECK(locked.ec == net::error::operation_aborted);
    CHECK_FALSE(locked.value.owns_lock());
    // The lock was let go: the other open of the mapping takes it at once.
    CHECK(keeper.try_lock_write(ec).owns_lock());
}
