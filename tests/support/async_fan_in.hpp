// The fan-in scenario every asynchronous form is tested with: 1,000 concurrent waits - 500
// frame readers' takes and 500 notification waits, 50 on each of 20 objects - woken by 4
// writer processes, round after round. Every wait must complete exactly once per round, with
// the round's change, and the process must keep a bounded number of threads.
#pragma once

#include <winmmf/winmmf.hpp>

#include <test_support.hpp>

#include <tlhelp32.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace winmmf::test {

// Threads of this process right now.
inline std::size_t own_thread_count()
{
    detail::unique_handle snapshot(::CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0));
    if (!snapshot || snapshot.get() == INVALID_HANDLE_VALUE) {
        (void)snapshot.release();
        return 0;
    }
    const DWORD me = ::GetCurrentProcessId();
    THREADENTRY32 entry{};
    entry.dwSize = sizeof entry;
    std::size_t n = 0;
    for (BOOL more = ::Thread32First(snapshot.get(), &entry); more; more = ::Thread32Next(snapshot.get(), &entry)) {
        n += entry.th32OwnerProcessID == me ? 1 : 0;
    }
    return n;
}

class async_fan_in {
public:
    static constexpr unsigned objects = 20; // even: frame channels; odd: notifications
    static constexpr unsigned writers = 4;
    static constexpr unsigned waits_per_object = 50;
    static constexpr unsigned waits = objects * waits_per_object;
    static constexpr std::uint64_t rounds = 3;

    // A wait's completion: the wait's index, its error, and (frames) the round its frame names.
    struct outcome {
        std::atomic<unsigned> completions{0};
        std::atomic<unsigned> failures{0};
        std::atomic<unsigned> wrong_round{0};
    };

    async_fan_in() : prefix_(unique_name("fanin"))
    {
        go_ = notification::create(local(prefix_ + "-go"));
        for (unsigned i = 1; i < objects; i += 2) {
            notifications_.push_back(notification::create(local(prefix_ + "-n" + std::to_string(i))));
        }
        for (unsigned k = 0; k < writers; ++k) {
            children_.push_back(child_process::start(
                L"winmmf_child.exe", {"async-round-writer", prefix_, std::to_string(k), std::to_string(writers),
                                      std::to_string(objects), std::to_string(rounds)}));
        }
        for (unsigned i = 0; i < objects; i += 2) {
            for (unsigned r = 0; r < waits_per_object; ++r) {
                readers_.push_back(frame_reader::open(local(prefix_ + "-c" + std::to_string(i)),
                                                      {.wait = acquire_mode::wait_for(std::chrono::seconds(60))}));
                buffers_.push_back(std::make_unique<std::array<std::byte, 64>>());
            }
        }
    }

    // Wait w's objects: w < 500 is a reader's take (reader(w), buffer(w)); the rest notification
    // waits (notification_of(w)).
    static bool is_take(unsigned w) noexcept { return w < waits / 2; }
    frame_reader& reader(unsigned w) { return readers_[w]; }
    std::span<std::byte> buffer(unsigned w) { return *buffers_[w]; }
    notification& notification_of(unsigned w) { return notifications_[(w - waits / 2) / waits_per_object]; }

    // What the form's completion calls. `frame`: the taken frame's bytes (empty for notifications).
    void completed(unsigned w, const std::error_code& ec, std::span<const std::byte> frame = {}) noexcept
    {
        outcome& o = outcomes_[w];
        if (ec) {
            o.failures.fetch_add(1);
        } else if (is_take(w)) {
            std::uint64_t round = 0;
            if (frame.size() >= sizeof round) {
                std::memcpy(&round, frame.data(), sizeof round);
            }
            if (round != round_.load()) {
                o.wrong_round.fetch_add(1);
            }
        }
        o.completions.fetch_add(1);
    }

    // Runs every round: `start(w, seen)` starts wait w (for notifications, from sequence `seen`).
    // Returns false if a round did not complete; the counts say what went wrong.
    template <class Start>
    bool run(Start&& start)
    {
        threads_before_ = own_thread_count();
        for (std::uint64_t round = 1; round <= rounds; ++round) {
            round_.store(round);
            for (unsigned w = 0; w < waits; ++w) {
                start(w, is_take(w) ? 0 : notification_of(w).sequence());
            }
            if (round == 1) {
                // 1,000 waits pending, nothing signalled yet: the threads they cost.
                ::Sleep(200);
                threads_pending_ = own_thread_count();
            }
            go_.notify();
            const bool all = eventually([&] {
                for (const outcome& o : outcomes_) {
                    if (o.completions.load() < round) {
                        return false;
                    }
                }
                return true;
            });
            if (!all) {
                return false;
            }
        }
        ::Sleep(100); // a duplicate completion would show up here
        return true;
    }

    // Every wait completed exactly `rounds` times, without error, with its round's frame.
    std::size_t waits_not_exact() const
    {
        std::size_t bad = 0;
        for (const outcome& o : outcomes_) {
            if (o.completions.load() != rounds || o.failures.load() != 0 || o.wrong_round.load() != 0) ++bad;
        }
        return bad;
    }
    unsigned total_failures() const
    {
        unsigned n = 0;
        for (const outcome& o : outcomes_) {
            n += o.failures.load();
        }
        return n;
    }
    bool writers_succeeded()
    {
        for (auto& c : children_) {
            if (c.wait() != std::optional<DWORD>(0)) {
                return false;
            }
        }
        return true;
    }
    std::size_t threads_before() const noexcept { return threads_before_; }
    std::size_t threads_pending() const noexcept { return threads_pending_; }

private:
    std::string prefix_;
    notification go_;
    std::vector<notification> notifications_;
    std::vector<child_process> children_;
    std::vector<frame_reader> readers_;
    std::vector<std::unique_ptr<std::array<std::byte, 64>>> buffers_;
    std::array<outcome, waits> outcomes_;
    std::atomic<std::uint64_t> round_{0};
    std::size_t threads_before_ = 0;
    std::size_t threads_pending_ = 0;
};

} // namespace winmmf::test
