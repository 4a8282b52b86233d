// winmmf/detail/frame_take_op.hpp - frame_reader's look at the channel, shared by its blocking
// take/acquire (frame_reader.hpp) and their asynchronous twins, and the asynchronous take
// itself: the blocking loop's steps, with each sleep handed to the thread pool.
//
// The asynchronous loop is the blocking one turned inside out. Every turn reads the notify
// sequence, then looks for a frame; if there is none it announces the reader in the current
// writer's sibling, looks at the sequence again, and only then asks the pool to wait on the
// slot's event - until the deadline or the next writer liveness check, whichever is first. A
// reader that cannot sleep (no sibling yet, every slot taken) polls every millisecond, as the
// blocking one does. Each wake-up withdraws the slot and goes round again, so a new writer's
// sibling is followed between turns, never under a pending wait.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/async_op.hpp>
#include <winmmf/detail/backoff.hpp>
#include <winmmf/detail/frame_core.hpp>
#include <winmmf/detail/notify_endpoint.hpp>
#include <winmmf/error.hpp>
#include <winmmf/frame_types.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <utility>

namespace winmmf::detail {

// Where a zero-copy look found its frame: the slot and the stamp its view checks.
struct frame_location {
    std::uint32_t slot = 0;
    std::uint64_t stamp = 0;
};

enum class look_result : std::uint8_t { taken, failed, nothing };

// One look for a frame newer than the reader's last: copied into `out`, or (when `at` is given)
// located in place. Moves the cursor when it takes one. `failed`: buffer_too_small,
// frame_overwritten, end_of_stream in `ec`.
inline look_result look_for_frame(channel_core& core, std::span<std::byte> out, frame_location* at,
                                  frame_info& info, std::error_code& ec) noexcept
{
    using status = protocol::frame_layout::channel_view::read_status;
    reader_cursor& cursor = core.cursor;
    const status s = at != nullptr ? core.view.peek_latest(cursor.last, info, at->slot, at->stamp, cursor.retries)
                                   : core.view.read_latest(cursor.last, out, info, cursor.retries);
    switch (s) {
    case status::frame:
        cursor.last = info.sequence;
        ++cursor.taken;
        cursor.skipped += info.skipped;
        ec.clear();
        return look_result::taken;
    case status::too_small:
        ec = errc::buffer_too_small;
        return look_result::failed;
    case status::overwritten:
        ec = errc::frame_overwritten;
        return look_result::failed;
    case status::no_new_frame:
        break;
    }
    if (core.view.closed()) {
        ec = errc::end_of_stream;
        return look_result::failed;
    }
    return look_result::nothing;
}

// How often a reader that cannot sleep on the sibling looks at the sequence.
inline constexpr std::chrono::milliseconds frame_poll_interval{1};

// How long after it first sleeps an asynchronous take makes its first writer liveness check:
// a fraction of writer_check_interval that differs from one take to the next (a golden-ratio
// sequence, so takes started together spread evenly), and every interval after that. A thousand
// takes started together would otherwise all time out together, every interval, and the pool
// would start a thread for each. Checking early only checks more often: the bound stands.
inline std::chrono::nanoseconds first_writer_check_delay() noexcept
{
    static std::atomic<std::uint32_t> takes{0};
    // relaxed: only the spread matters, not which take gets which phase.
    const std::uint32_t k = takes.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t phase = static_cast<std::uint32_t>(k * 2654435769u); // [0, 2^32)
    const std::int64_t interval = std::chrono::nanoseconds(writer_check_interval).count();
    const std::int64_t quarter = interval / 4;
    const std::uint64_t spread = (phase * static_cast<std::uint64_t>(interval - quarter)) >> 32;
    return std::chrono::nanoseconds(quarter + static_cast<std::int64_t>(spread));
}

// frame_reader::async_take / async_acquire. `Done(ec, info, location)`.
template <class Done>
class frame_take_op final : public async_op {
public:
    frame_take_op(channel_core& core, std::span<std::byte> out, bool zero_copy, const acquire_mode& mode,
                  Done done) noexcept
        : core_(core), out_(out), budget_(mode), zero_copy_(zero_copy), done_(std::move(done))
    {
    }

private:
    next_step step(bool) noexcept override
    {
        notify_endpoint& endpoint = *core_.endpoint;
        endpoint.give_back(lease_);
        const bool blocking = budget_.blocking();
        if (!started_) {
            started_ = true;
            // As the blocking take: a reader that can never sleep learns it at once.
            if (blocking) {
                if ((result_ = core_.follow_sibling())) {
                    return next_step::finished();
                }
                if (!core_.can_sleep() && core_.sleep_refusal != errc::not_found) {
                    result_ = core_.sleep_refusal;
                    return next_step::finished();
                }
            }
            if (budget_.spinning()) {
                return next_step::at(clock::now()); // spin on a pool thread, not the caller's
            }
        } else if (blocking) {
            const auto now = clock::now();
            if (core_.view.notify_sequence() == seen_ && now >= next_writer_check_) {
                if (core_.writer_state() == writer_status::gone) {
                    result_ = make_error_code(errc::writer_gone);
                    return next_step::finished();
                }
                next_writer_check_ = now + writer_check_interval;
            }
        }
        for (;;) {
            if (!budget_.take_try()) {
                result_ = make_error_code(errc::max_tries_reached);
                return next_step::finished();
            }
            if (budget_.cancelled()) {
                result_ = make_error_code(errc::cancelled);
                return next_step::finished();
            }
            // The sequence first: a frame published after this read changes it.
            seen_ = core_.view.notify_sequence();
            if (look_for_frame(core_, out_, zero_copy_ ? &location_ : nullptr, info_, result_) != look_result::nothing) {
                return next_step::finished();
            }
            if (budget_.how() == acquire_mode::kind::try_once) {
                result_ = make_error_code(errc::timeout);
                return next_step::finished();
            }
            if (budget_.spinning()) {
                cpu_relax();
                continue;
            }
            const auto now = clock::now();
            if (budget_.expired(now)) {
                result_ = make_error_code(errc::timeout);
                return next_step::finished();
            }
            if (next_writer_check_ == clock::time_point{}) {
                next_writer_check_ = now + first_writer_check_delay();
            }
            const auto until = std::min(budget_.deadline(), next_writer_check_);
            std::error_code ec;
            bool poll = false;
            if (!core_.ready_to_sleep(ec)) {
                if (ec != errc::not_found) {
                    result_ = ec;
                    return next_step::finished();
                }
                poll = true; // a live writer without its sibling yet: its frames come all the same
            } else if ((ec = endpoint.lease_slot(lease_))) {
                if (ec != errc::too_many_waiters) {
                    result_ = ec;
                    return next_step::finished();
                }
                poll = true; // every slot is taken: the frames are still ours
            }
            if (poll) {
                return next_step::at(std::min(until, now + frame_poll_interval));
            }
            if (endpoint.announce(lease_) != seen_) {
                endpoint.give_back(lease_);
                continue;
            }
            return next_step::on_event(lease_.event(), until);
        }
    }

    void let_go() noexcept override
    {
        core_.endpoint->give_back(lease_);
        // release: the next take (perhaps from this completion) sees the cursor this one moved.
        core_.cursor.async_pending.store(false, std::memory_order_release);
    }

    void deliver(const std::error_code& ended) noexcept override
    {
        done_(ended ? ended : result_, info_, location_);
    }

    channel_core& core_;
    std::span<std::byte> out_;
    wait_budget budget_;
    bool zero_copy_;
    bool started_ = false;
    std::uint64_t seen_ = 0;
    clock::time_point next_writer_check_{};
    notify_endpoint::slot_lease lease_;
    std::error_code result_;
    frame_info info_{};
    frame_location location_{};
    Done done_;
};

} // namespace winmmf::detail
