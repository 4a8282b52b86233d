// winmmf/detail/backoff.hpp - how a waiting thread gives the CPU back.
//
// Windows gets SwitchToThread/Sleep, as a Win32 waiter should; other platforms (the native
// sanitizer and fuzz builds) get the std::this_thread equivalents, so the waiting logic that
// calls these is the same code everywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#if defined(_WIN32)
#include <winmmf/detail/win32.hpp>
#endif

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#elif defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace winmmf::detail {

// Tells the core we are spinning, so a hyper-threaded sibling (often the lock holder) runs.
inline void cpu_relax() noexcept
{
#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    _mm_pause();
#elif defined(_MSC_VER) && defined(_M_ARM64)
    __yield();
#elif defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Before the retry that follows the n-th lost exchange on a lock word (protocol/lock_word.hpp,
// n from 0): nothing after the first loss - that is most often the uncontended guess proving
// wrong, and one more exchange settles it - then 1, 2, 4 ... 64 pauses (a pause is 3 to 140
// cycles, by CPU). A process that keeps losing stays off the cache line for a while, so the
// winner's next steps find it still there. It does not make a shared reader count cheap: every
// lock and unlock of another process still moves the line (benchmarks.md, the contention rows).
struct lock_word_backoff {
    void operator()(unsigned lost) const noexcept
    {
        if (lost == 0) {
            return;
        }
        const unsigned pauses = 1u << (lost - 1 < 6u ? lost - 1 : 6u);
        for (unsigned i = 0; i < pauses; ++i) {
            cpu_relax();
        }
    }
};

inline void yield_thread() noexcept
{
#if defined(_WIN32)
    ::SwitchToThread();
#else
    std::this_thread::yield();
#endif
}

inline void sleep_for(std::chrono::milliseconds duration) noexcept
{
#if defined(_WIN32)
    ::Sleep(static_cast<unsigned long>(duration.count()));
#else
    std::this_thread::sleep_for(duration);
#endif
}

// Spin briefly (the holder is usually done within microseconds), then yield the time slice,
// then sleep. Sleeping is what keeps a waiter that lost to a slow holder from burning a core.
class backoff {
public:
    // `remaining` is the time left before the caller's deadline; a sleep never exceeds it.
    void pause(std::chrono::steady_clock::duration remaining) noexcept
    {
        if (step_ < spin_steps) {
            const unsigned spins = 1u << (step_ < 6 ? step_ : 6);
            for (unsigned i = 0; i < spins; ++i) {
                cpu_relax();
            }
        } else if (step_ < spin_steps + yield_steps) {
            yield_thread();
        } else {
            // Sleep(1) may take a whole timer tick (15.6 ms by default); never sleep past the
            // deadline, and Sleep(0) when less than a millisecond remains.
            using std::chrono::milliseconds;
            const auto left = std::chrono::duration_cast<milliseconds>(remaining);
            sleep_for(left >= milliseconds(1) ? milliseconds(1) : milliseconds(0));
        }
        if (step_ != ~0u) {
            ++step_;
        }
    }

private:
    static constexpr unsigned spin_steps = 16;
    static constexpr unsigned yield_steps = 32;
    unsigned step_ = 0;
};

} // namespace winmmf::detail
