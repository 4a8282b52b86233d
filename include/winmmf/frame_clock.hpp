// winmmf/frame_clock.hpp - the clock frames are stamped with.
#pragma once

#include <winmmf/detail/win32.hpp>

#include <chrono>
#include <cstdint>
#include <ratio>

namespace winmmf {

// QueryPerformanceCounter in nanoseconds: one clock for every process on the machine, so a
// reader can subtract a frame's publish_time from its own now() to get the latency.
struct frame_clock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<frame_clock>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept
    {
        static const std::int64_t frequency = detail::performance_frequency();
        const std::int64_t ticks = detail::performance_counter();
        // Split so that ticks * 1e9 cannot overflow (it would after ~15 minutes at 10 MHz).
        return time_point(duration((ticks / frequency) * 1000000000 + (ticks % frequency) * 1000000000 / frequency));
    }
};

} // namespace winmmf
