// Sleeping until data changes, and ending a wait from another thread
// (docs/how-to/wait-for-data.md). One process plays writer and readers, with threads, so the
// test runs it alone.
#include <winmmf/winmmf.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Returns once `n` has `count` waiters asleep (the order of this demonstration, not a protocol).
template <class Waitable>
void until_waiting(const Waitable& n, std::size_t count)
{
    while (n.waiting() < count) {
        std::this_thread::sleep_for(1ms);
    }
}

} // namespace

int main()
{
    std::array<std::byte, 16> bytes{};
    bytes.fill(std::byte{7});
    bool ok = true;

    {
        // [snippet:companion]
        auto state = winmmf::memory_mapped_file::open_or_create(winmmf::local("telemetry-state"), 4096,
                                                                {.change_notification = true});
        // In a reader: open(winmmf::local("telemetry-state"), {.change_notification = true})
        std::uint64_t seen = state.change_sequence();
        state.write(0, bytes);                    // write() and every released write guard signal
        seen = state.wait_for_change(seen, winmmf::acquire_mode::wait_for(1s));   // the new value
        // [end:companion]
        ok = ok && seen == state.change_sequence();
    }

    // [snippet:pair]
    auto data = winmmf::memory_mapped_file::open_or_create(winmmf::local("telemetry"), 4096);
    auto changed = winmmf::notification::open_or_create(
        winmmf::custom(winmmf::notification::name_for(data.name()).full()));   // "Local\telemetry.notify"
    // [end:pair]

    std::atomic<std::uint64_t> woke_at{0};
    std::thread reader_thread([&] {
        // [snippet:wait]
        std::uint64_t seen = changed.sequence();
        // ... read the data ...
        seen = changed.wait(seen, winmmf::acquire_mode::wait_for(1s));   // returns the new value
        // [end:wait]
        woke_at = seen;
    });
    until_waiting(changed, 1);
    // [snippet:notify]
    data.write(0, bytes);
    changed.notify();                       // no system call when nobody waits
    // [end:notify]
    reader_thread.join();
    ok = ok && woke_at == changed.sequence();

    // A wait with a timeout reports it as an error; a change that raced the deadline is a change.
    // [snippet:timeout]
    std::error_code ec;
    const std::uint64_t now = changed.wait(changed.sequence(), winmmf::acquire_mode::wait_for(20ms), ec);
    if (ec == winmmf::errc::timeout) { /* nothing changed within 20 ms */ }
    // [end:timeout]
    ok = ok && ec == winmmf::errc::timeout && now == changed.sequence();

    // [snippet:cancel]
    winmmf::cancel_token stop;                      // not movable: waits hold a pointer to it
    std::thread waiter([&] {
        std::error_code wait_ec;
        changed.wait(changed.sequence(), winmmf::acquire_mode::wait_for(1h).with_cancel(stop), wait_ec);
        // wait_ec == winmmf::errc::cancelled
    // [end:cancel]
        ok = ok && wait_ec == winmmf::errc::cancelled;
    // [snippet:cancel]
    });
    // [end:cancel]
    until_waiting(changed, 1);
    // [snippet:cancel]
    stop.cancel();                                  // ends every wait given this token, until reset()
    waiter.join();
    stop.reset();
    // [end:cancel]

    // The same token, the same way, for a frame reader and for a lock.
    auto writer = winmmf::frame_writer::create(winmmf::local("telemetry-frames"), {.max_frame_size = 4096});
    auto reader = winmmf::frame_reader::open(winmmf::local("telemetry-frames"));
    std::vector<std::byte> frame(reader.max_frame_size());
    std::thread frames([&] {
        // [snippet:cancel-frames]
        std::error_code take_ec;
        reader.take(frame, winmmf::acquire_mode::wait_for(1h).with_cancel(stop), take_ec);
        if (take_ec == winmmf::errc::cancelled) { /* asked to stop */ }
        // [end:cancel-frames]
        ok = ok && take_ec == winmmf::errc::cancelled;
    });
    // [snippet:waiting]
    while (writer.waiting() == 0) {                 // readers asleep now, as the sibling says
        std::this_thread::sleep_for(1ms);
    }
    // [end:waiting]
    stop.cancel();
    frames.join();
    stop.reset();

    {
        auto held = data.lock_write();
        std::thread locker([&] {
            // [snippet:cancel-lock]
            std::error_code lock_ec;
            auto guard = data.lock_read(winmmf::acquire_mode::wait_for(1h).with_cancel(stop), lock_ec);
            // lock_ec == winmmf::errc::cancelled once stop.cancel() is called
            // [end:cancel-lock]
            ok = ok && lock_ec == winmmf::errc::cancelled;
        });
        std::this_thread::sleep_for(50ms);
        stop.cancel();
        locker.join();
    }

    std::printf("notification at %llu; %s\n", static_cast<unsigned long long>(changed.sequence()),
                ok ? "every wait ended as expected" : "a wait ended otherwise");
    return ok ? 0 : 1;
}
