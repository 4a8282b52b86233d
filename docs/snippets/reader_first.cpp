// Structured data, a reader started before its writer, and waiting for the next write
// (docs/tutorial/getting-started.md, sections 6 and 7). The reader runs on a thread here, so
// the test runs the program alone; in real use it is another process.
#include <winmmf/winmmf.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

using namespace std::chrono_literals;

// [snippet:struct]
struct telemetry {                       // trivially copyable: its bytes are all there is to it
    std::uint64_t frame;
    double temperature;
    float position[3];
};
// [end:struct]

int main()
{
    bool ok = true;
    std::thread reader([&] {
        try {
            // [snippet:reader]
            // Started first: open waits up to 5 s for the writer to create the mapping.
            auto m = winmmf::robust_memory_mapped_file::open(
                winmmf::local("getting-started-telemetry"),
                {.wait = winmmf::acquire_mode::wait_for(5s), .change_notification = true});
            std::uint64_t seen = m.change_sequence();
            telemetry t = m.read<telemetry>(0);                          // a copy, under the lock
            while (t.frame < 3) {
                seen = m.wait_for_change(seen, winmmf::acquire_mode::wait_for(1s));  // the next write
                t = m.read<telemetry>(0);
            }
            std::printf("frame %llu at %.1f degrees\n", static_cast<unsigned long long>(t.frame), t.temperature);
            // [end:reader]
        } catch (const std::system_error& e) {
            std::fprintf(stderr, "reader: %s\n", e.what());
            ok = false;
        }
    });
    std::this_thread::sleep_for(200ms); // the reader is waiting for the mapping by now

    // [snippet:writer]
    auto m = winmmf::robust_memory_mapped_file::create(winmmf::local("getting-started-telemetry"),
                                                       sizeof(telemetry), {.change_notification = true});
    for (std::uint64_t frame = 1; frame <= 3; ++frame) {
        m.write(0, telemetry{frame, 20.0 + static_cast<double>(frame), {0.0f, 1.0f, 2.0f}});  // wakes the reader
        std::this_thread::sleep_for(10ms);
    }
    // [end:writer]
    {
        // [snippet:in-place]
        auto guard = m.lock_write();
        telemetry& t = guard.as<telemetry>(0);   // in place: checked for size and alignment
        t.temperature += 0.5;
        // [end:in-place]
    }
    reader.join();
    std::printf("%s\n", ok ? "reader-first start-up and change waits worked" : "FAILED");
    return ok ? 0 : 1;
}
