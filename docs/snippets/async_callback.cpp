// The thread-pool callback form of the asynchronous waits (docs/async.md). One process plays
// writer and reader; the test runs it alone and checks what each wait ended with.
// [snippet:program]
#include <winmmf/winmmf.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <system_error>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

// What a completion hands back to the thread that wants it.
template <class T>
using result = std::pair<std::error_code, T>;

int main()
{
    auto writer = winmmf::frame_writer::create(winmmf::local("async-callback"), {.max_frame_size = 64});
    auto reader = winmmf::frame_reader::open(winmmf::local("async-callback"));
    std::vector<std::byte> frame(reader.max_frame_size());   // must stay valid until `done` has run

    std::promise<result<winmmf::frame_info>> taken;
    winmmf::async_operation op = reader.async_take(frame, winmmf::acquire_mode::wait_for(5s),
        [&taken](const std::error_code& ec, winmmf::frame_info info) noexcept {
            taken.set_value({ec, info});   // a thread-pool thread: hand over, do not block or throw
        });
    // No thread sleeps for the wait: the pool waits on the reader's event. op.cancel() would end
    // it early; dropping op would not.

    writer.publish(std::vector<std::byte>(64, std::byte{42}));
    const auto [ec, info] = taken.get_future().get();
    std::printf("frame %llu: %s\n", static_cast<unsigned long long>(info.sequence),
                ec ? ec.message().c_str() : "taken");
    // [end:program]
    bool ok = !ec && info.sequence == 1 && frame[0] == std::byte{42} && !op.pending();

    // [snippet:cancel]
    std::promise<std::error_code> stopped;
    winmmf::async_operation waiting = reader.async_take(frame, winmmf::acquire_mode::wait_for(1h),
        [&stopped](const std::error_code& e, winmmf::frame_info) noexcept { stopped.set_value(e); });
    waiting.cancel();                              // false if it had ended already: its result stands
    const std::error_code why = stopped.get_future().get();   // errc::cancelled, on a pool thread
    // [end:cancel]
    ok = ok && why == winmmf::errc::cancelled;

    // [snippet:lock]
    auto state = winmmf::memory_mapped_file::open_or_create(winmmf::local("async-callback-state"), 4096);
    std::promise<std::error_code> written;
    state.async_lock_write(winmmf::acquire_mode::wait_for(1s),
        [&written](const std::error_code& e, winmmf::write_guard guard) noexcept {
            if (!e) {
                guard.bytes()[0] = std::byte{1};   // the lock is held here, on the pool thread
            }
            written.set_value(e);                  // the guard unlocks when it goes
        });
    // [end:lock]
    ok = ok && !written.get_future().get();

    {
        // [snippet:aborted]
        std::promise<std::error_code> ended;
        {
            auto doomed = winmmf::notification::open_or_create(winmmf::local("async-callback-changes"));
            doomed.async_wait(doomed.sequence(), winmmf::acquire_mode::wait_for(1h),
                [&ended](const std::error_code& e, std::uint64_t) noexcept { ended.set_value(e); });
        }   // the destructor ended the wait (errc::aborted) and returned after its completion ran
        std::future<std::error_code> f = ended.get_future();
        // f is ready here: f.get() == winmmf::errc::aborted
        // [end:aborted]
        ok = ok && f.wait_for(0s) == std::future_status::ready && f.get() == winmmf::errc::aborted;
    }

    std::printf("%s\n", ok ? "every wait ended as expected" : "a wait ended otherwise");
    return ok ? 0 : 1;
    // [snippet:program]
}
// [end:program]
