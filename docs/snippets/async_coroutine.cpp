// The coroutine form of the asynchronous waits, with no framework (docs/async.md). One process
// plays writer (a thread) and reader (a coroutine); the test runs it alone.
// [snippet:program]
#include <winmmf/winmmf.hpp>

#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

// The smallest coroutine type: starts at once and runs to its end by itself. winmmf's awaitables
// ask nothing more of a coroutine than that it can be suspended.
struct fire_and_forget {
    struct promise_type {
        fire_and_forget get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};

// A queue that one thread runs: `co_await home.resume_here()` moves a coroutine onto that thread.
// winmmf always resumes on a thread-pool thread; this is how to get back to your own.
class home_thread {
public:
    auto resume_here() noexcept
    {
        struct awaiter {
            home_thread& home;
            bool await_ready() const noexcept { return false; }
            void await_suspend(std::coroutine_handle<> h) { home.post(h); }
            void await_resume() const noexcept {}
        };
        return awaiter{*this};
    }
    void run()   // resumes what is posted, on the calling thread, until stop()
    {
        std::unique_lock lock(mutex_);
        for (;;) {
            ready_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;
            }
            const std::coroutine_handle<> next = queue_.front();
            queue_.pop_front();
            lock.unlock();
            next.resume();
            lock.lock();
        }
    }
    void stop()
    {
        const std::lock_guard lock(mutex_);
        stopped_ = true;
        ready_.notify_one();
    }

private:
    void post(std::coroutine_handle<> h)
    {
        const std::lock_guard lock(mutex_);
        queue_.push_back(h);
        ready_.notify_one();
    }

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::coroutine_handle<>> queue_;
    bool stopped_ = false;
};

fire_and_forget consume(winmmf::frame_reader& reader, home_thread& home, std::uint64_t& last, std::error_code& ec)
{
    std::vector<std::byte> frame(reader.max_frame_size());   // in the coroutine frame: outlives each wait
    for (;;) {
        const winmmf::frame_info info = co_await reader.async_take(frame, winmmf::acquire_mode::wait_for(5s), ec);
        // Here: a thread-pool thread. Back to the main thread before touching what it owns.
        co_await home.resume_here();
        if (ec) {
            break;   // errc::end_of_stream once the writer closes; timeout, writer_gone, ...
        }
        last = info.sequence;
        std::printf("frame %llu (%llu skipped before it)\n", static_cast<unsigned long long>(info.sequence),
                    static_cast<unsigned long long>(info.skipped));
    }
    home.stop();
}

// [end:program]
#include <future>
#include <system_error>

// [snippet:throwing]
fire_and_forget wait_once(winmmf::notification& changed, std::promise<std::error_code>& outcome)
{
    try {
        const std::uint64_t now = co_await changed.async_wait(changed.sequence(), winmmf::acquire_mode::wait_for(20ms));
        std::printf("changed: %llu\n", static_cast<unsigned long long>(now));
        outcome.set_value({});
    } catch (const std::system_error& e) {   // what wait() would throw: here errc::timeout
        outcome.set_value(e.code());
    }
}
// [end:throwing]

bool throwing_form_times_out()
{
    auto changed = winmmf::notification::create(winmmf::local("async-coroutine-changes"));
    std::promise<std::error_code> outcome;
    wait_once(changed, outcome);
    return outcome.get_future().get() == winmmf::errc::timeout;
}

// [snippet:program]
int main()
{
    auto writer = winmmf::frame_writer::create(winmmf::local("async-coroutine"), {.max_frame_size = 64});
    auto reader = winmmf::frame_reader::open(winmmf::local("async-coroutine"));

    std::uint64_t last = 0;
    std::error_code ended;
    home_thread home;
    consume(reader, home, last, ended);   // runs until its first co_await, then returns

    std::thread producer([&writer] {
        for (int i = 0; i < 5; ++i) {
            writer.publish(std::vector<std::byte>(64, std::byte{7}));
            std::this_thread::sleep_for(10ms);
        }
        writer.close();   // end of stream
    });
    home.run();           // the coroutine's printing runs here, on the main thread
    producer.join();
    std::printf("last frame %llu, then: %s\n", static_cast<unsigned long long>(last), ended.message().c_str());
    // [end:program]
    bool ok = last == 5 && ended == winmmf::errc::end_of_stream;
    ok = ok && throwing_form_times_out();
    std::printf("%s\n", ok ? "every wait ended as expected" : "a wait ended otherwise");
    return ok ? 0 : 1;
    // [snippet:program]
}
// [end:program]
