// winmmf/frame_reader.hpp - a reader of a frame channel: takes the newest complete frame the
// writer (frame_writer.hpp) published, by copy or in place, and never holds the writer up.
//
//   auto reader = winmmf::frame_reader::open(winmmf::local("cam0"));
//   std::vector<std::byte> frame(reader.max_frame_size());
//   winmmf::frame_info info = reader.take(frame, winmmf::acquire_mode::wait_for(1s));
//   // info.sequence, info.skipped, info.meta.width, ...
//
// A reader never gets a torn frame (each slot is a sequence lock), holds nothing another
// process waits for, and may read frames it may not write: open with access_mode::read_only.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/async.hpp>
#include <winmmf/cancel_token.hpp>
#include <winmmf/detail/frame_core.hpp>
#include <winmmf/detail/frame_take_op.hpp>
#include <winmmf/detail/open_wait.hpp>
#include <winmmf/detail/section_errors.hpp>
#include <winmmf/error.hpp>
#include <winmmf/frame_options.hpp>
#include <winmmf/frame_types.hpp>
#include <winmmf/name.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <system_error>

namespace winmmf {

// A frame read in place (frame_reader::acquire). The bytes are the slot's own; the writer may
// come back to the slot after (slots - 1) further frames. still_valid() says whether it has
// not yet: check it after processing, and discard the results if it returns false. Must not
// outlive its reader.
class frame_view {
public:
    frame_view() noexcept = default;

    explicit operator bool() const noexcept { return view_.valid(); }
    std::span<const std::byte> bytes() const noexcept
    {
        return view_.valid() ? std::span<const std::byte>(view_.payload(slot_), info_.size)
                             : std::span<const std::byte>{};
    }
    const frame_info& info() const noexcept { return info_; }

    // True if the writer has not touched the slot since the frame was acquired: everything
    // read from bytes() so far belongs to this one complete frame.
    bool still_valid() const noexcept { return view_.valid() && view_.still_valid(slot_, stamp_); }

private:
    friend class frame_reader;
    frame_view(const protocol::frame_layout::channel_view& view, std::uint32_t slot, std::uint64_t stamp,
               const frame_info& info) noexcept
        : view_(view), info_(info), stamp_(stamp), slot_(slot)
    {
    }

    protocol::frame_layout::channel_view view_{};
    frame_info info_{};
    std::uint64_t stamp_ = 0;
    std::uint32_t slot_ = 0;
};

// A reader of a channel. Any number may exist, in any processes, joining and leaving at any
// time; a reader holds no lock and the writer never waits for it. Each take returns the newest
// complete frame newer than the reader's previous one; frame_info::skipped counts the frames
// published in between. The first take returns the newest frame at the time (skipped counts
// frames published since open()). Move-only; one thread at a time.
class frame_reader {
public:
    frame_reader() noexcept = default;
    frame_reader(frame_reader&&) noexcept = default;
    frame_reader& operator=(frame_reader&&) noexcept = default;
    frame_reader(const frame_reader&) = delete;
    frame_reader& operator=(const frame_reader&) = delete;

#if WINMMF_EXCEPTIONS
    static frame_reader open(const name_ref& name, const reader_options& options = {})
    {
        return detail::or_throw("frame_reader::open", name, [&](std::error_code& ec) { return open(name, options, ec); });
    }
#endif
    static frame_reader open(const name_ref& name, std::error_code& ec) noexcept
    {
        return open(name, reader_options{}, ec);
    }
    static frame_reader open(const name_ref& name, const reader_options& options, std::error_code& ec) noexcept
    {
        frame_reader r;
        std::unique_ptr<detail::channel_core> core;
        ec = detail::open_waiting(options.wait, [&]() noexcept {
            core.reset();
            return detail::open_reader_channel(name, options, core);
        });
        if (ec) {
            return r;
        }
        const std::uint64_t newest = core->view.published();
        core->cursor.last = newest == 0 ? 0 : newest - 1;
        r.core_ = std::move(core);
        return r;
    }

    bool is_open() const noexcept { return core_ != nullptr; }
    explicit operator bool() const noexcept { return is_open(); }
    void close() noexcept { core_.reset(); }
    const object_name& name() const noexcept
    {
        static const object_name none;
        return is_open() ? core_->mapping.name() : none;
    }
    std::size_t max_frame_size() const noexcept
    {
        return is_open() ? static_cast<std::size_t>(core_->view.shape().max_frame_size) : 0;
    }
    std::uint32_t slot_count() const noexcept { return is_open() ? core_->view.shape().slot_count : 0; }
    std::uint64_t published() const noexcept { return is_open() ? core_->view.published() : 0; }
    // The notification sibling this reader last looked for: the current writer's,
    // "<name>#<16 hex digits>"; empty while no writer has published one.
    const object_name& notification_name() const noexcept
    {
        static const object_name none;
        return is_open() ? core_->waiters_name : none;
    }
    // Readers (of any process) blocked right now, waiting for the next frame; 0 when this
    // account may not even read the notification sibling.
    std::size_t waiting() const noexcept { return is_open() ? core_->waiting_count() : 0; }

    // Whether take/acquire with acquire_mode::wait_for can sleep in the kernel: this account
    // could open the channel's notification sibling for writing. When false, they fail with
    // errc::read_only and polling (try_take, try_acquire, spin) is the way to take frames.
    bool can_wait() const noexcept { return is_open() && core_->can_sleep(); }
    // Why can_wait() is false, as the blocking call would report it: errc::read_only (this
    // account may not write the sibling), errc::not_found (no sibling yet: the writer has
    // not published one; a blocking call polls meanwhile and looks for it again), errc::wrong_layout (somebody wrote
    // over it), ... Empty when it can wait, or when the reader is not open.
    std::error_code wait_refusal() const noexcept
    {
        return is_open() && !core_->can_sleep() ? core_->sleep_refusal : std::error_code{};
    }

    // Totals for this reader: frames taken, frames skipped between them, and the sequence of
    // the last frame taken. frames_taken() + frames_skipped() == last_sequence() - (the
    // newest sequence at open(), less one).
    std::uint64_t frames_taken() const noexcept { return is_open() ? core_->cursor.taken : 0; }
    std::uint64_t frames_skipped() const noexcept { return is_open() ? core_->cursor.skipped : 0; }
    std::uint64_t last_sequence() const noexcept { return is_open() ? core_->cursor.last : 0; }
    // Reads the writer spoiled by overtaking this reader (each was retried on the newest
    // frame). Many retries mean the reader is slow for the channel's slot count.
    std::uint64_t retries() const noexcept { return is_open() ? core_->cursor.retries : 0; }

    // Whether a writer is there: active, closed (end of stream), or gone (died). Makes a system
    // call when a writer holds the role (to see whether its process still runs).
    writer_status writer_state() const noexcept
    {
        return is_open() ? core_->writer_state() : writer_status::closed;
    }
    // The process id the writer role names (its holder's, or the last holder's if that one
    // died); 0 when no writer holds it. For diagnostics: by itself an id says nothing about
    // liveness (writer_state() does).
    std::uint32_t writer_process_id() const noexcept
    {
        if (!is_open()) {
            return 0;
        }
        const std::uint64_t w = core_->view.writer(); // acquire (protocol/frame.hpp)
        return protocol::is_identity(w) ? protocol::owner_of(w).pid : 0;
    }

    // ---- copying out ---------------------------------------------------------------------

    // Copies the newest frame, if there is one newer than the last taken, into `out`. Returns
    // false when there is none yet. Errors: buffer_too_small (nothing copied; `info.size` says
    // what is needed), end_of_stream, frame_overwritten.
#if WINMMF_EXCEPTIONS
    bool try_take(std::span<std::byte> out, frame_info& info)
    {
        return detail::or_throw("frame_reader::try_take", name(),
                                [&](std::error_code& ec) { return try_take(out, info, ec); });
    }
#endif
    bool try_take(std::span<std::byte> out, frame_info& info, std::error_code& ec) noexcept
    {
        return take_impl(out, nullptr, acquire_mode::try_once(), info, ec, false);
    }

    // Copies the next frame, waiting for it as `mode` says (wait_for: sleeps in the kernel;
    // spin: polls; with_cancel: ends early). Errors as try_take, plus timeout,
    // max_tries_reached, cancelled, and writer_gone when the writer's process died.
#if WINMMF_EXCEPTIONS
    frame_info take(std::span<std::byte> out, const acquire_mode& mode)
    {
        return detail::or_throw("frame_reader::take", name(), [&](std::error_code& ec) { return take(out, mode, ec); });
    }
#endif
    frame_info take(std::span<std::byte> out, const acquire_mode& mode, std::error_code& ec) noexcept
    {
        frame_info info;
        take_impl(out, nullptr, mode, info, ec);
        return info;
    }

    // ---- zero-copy -----------------------------------------------------------------------

    // As try_take, without copying: the view reads the slot in place. Empty when there is no
    // newer frame.
#if WINMMF_EXCEPTIONS
    frame_view try_acquire()
    {
        return detail::or_throw("frame_reader::try_acquire", name(), [&](std::error_code& ec) { return try_acquire(ec); });
    }
#endif
    frame_view try_acquire(std::error_code& ec) noexcept
    {
        frame_view view;
        frame_info info;
        take_impl({}, &view, acquire_mode::try_once(), info, ec, false);
        return view;
    }
#if WINMMF_EXCEPTIONS
    frame_view acquire(const acquire_mode& mode)
    {
        return detail::or_throw("frame_reader::acquire", name(), [&](std::error_code& ec) { return acquire(mode, ec); });
    }
#endif
    frame_view acquire(const acquire_mode& mode, std::error_code& ec) noexcept
    {
        frame_view view;
        frame_info info;
        take_impl({}, &view, mode, info, ec);
        return view;
    }

    // ---- without blocking a thread (async.hpp) --------------------------------------------

    // take() on the thread pool: `done(std::error_code, frame_info)` runs on a pool thread with
    // take()'s result and errors, or errc::aborted if the reader is closed, moved onto or
    // destroyed first. `out` must stay valid until then. One wait at a time: while it is
    // pending, every other take of this reader fails with errc::operation_pending.
    template <class Done>
        requires detail::async_completion<frame_info, Done>
    async_operation async_take(std::span<std::byte> out, const acquire_mode& mode, Done&& done) noexcept
    {
        return start_take(out, false, mode,
                          [done = std::forward<Done>(done)](const std::error_code& ec, const frame_info& info,
                                                            const detail::frame_location&) mutable noexcept {
                              done(ec, ec ? frame_info{} : info);
                          });
    }
    // acquire() on the thread pool: `done(std::error_code, frame_view)`. The view must not outlive
    // the reader, as acquire()'s.
    template <class Done>
        requires detail::async_completion<frame_view, Done>
    async_operation async_acquire(const acquire_mode& mode, Done&& done) noexcept
    {
        const protocol::frame_layout::channel_view view = is_open() ? core_->view : protocol::frame_layout::channel_view{};
        return start_take({}, true, mode,
                          [view, done = std::forward<Done>(done)](const std::error_code& ec, const frame_info& info,
                                                                  const detail::frame_location& at) mutable noexcept {
                              done(ec, ec ? frame_view{} : frame_view(view, at.slot, at.stamp, info));
                          });
    }
    // The coroutine forms: `co_await reader.async_take(out, mode)` (throws as take() does; with
    // `ec`, sets it) and `co_await reader.async_acquire(mode)`.
#if WINMMF_EXCEPTIONS
    auto async_take(std::span<std::byte> out, const acquire_mode& mode) noexcept
    {
        return detail::make_awaitable<frame_info>(
            [this, out, mode](auto&& resume) { this->async_take(out, mode, std::move(resume)); }, nullptr,
            "frame_reader::async_take");
    }
    auto async_acquire(const acquire_mode& mode) noexcept
    {
        return detail::make_awaitable<frame_view>([this, mode](auto&& resume) { this->async_acquire(mode, std::move(resume)); },
                                                  nullptr, "frame_reader::async_acquire");
    }
#endif
    auto async_take(std::span<std::byte> out, const acquire_mode& mode, std::error_code& ec) noexcept
    {
        return detail::make_awaitable<frame_info>(
            [this, out, mode](auto&& resume) { this->async_take(out, mode, std::move(resume)); }, &ec,
            "frame_reader::async_take");
    }
    auto async_acquire(const acquire_mode& mode, std::error_code& ec) noexcept
    {
        return detail::make_awaitable<frame_view>([this, mode](auto&& resume) { this->async_acquire(mode, std::move(resume)); },
                                                  &ec, "frame_reader::async_acquire");
    }

private:

    template <class Done>
    async_operation start_take(std::span<std::byte> out, bool zero_copy, const acquire_mode& mode, Done&& done) noexcept
    {
        using op_type = detail::frame_take_op<std::decay_t<Done>>;
        const auto fail = [&](const std::error_code& ec) { done(ec, frame_info{}, detail::frame_location{}); };
        if (!is_open()) {
            return detail::fail_async<frame_info>(make_error_code(errc::not_open),
                                                  [done = std::forward<Done>(done)](const std::error_code& ec,
                                                                                    const frame_info& info) mutable noexcept {
                                                      done(ec, info, detail::frame_location{});
                                                  });
        }
        bool expected = false;
        // acquire: pairs with the previous wait's release in let_go (the cursor it moved).
        if (!core_->cursor.async_pending.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
            return detail::fail_async<frame_info>(make_error_code(errc::operation_pending),
                                                  [done = std::forward<Done>(done)](const std::error_code& ec,
                                                                                    const frame_info& info) mutable noexcept {
                                                      done(ec, info, detail::frame_location{});
                                                  });
        }
        op_type* op = new (std::nothrow) op_type(*core_, out, zero_copy, mode, std::forward<Done>(done));
        if (op == nullptr) {
            core_->cursor.async_pending.store(false, std::memory_order_release);
        }
        return detail::start_async(op, core_->endpoint->async(), mode.cancel(), fail);
    }

    // One loop for every flavour: look; if nothing is new, wait for the writer's next notify
    // (or poll, or give up) and look again. `view` selects zero-copy.
    // `nothing_is_timeout`: take(try_once) reports "nothing new" as errc::timeout, like every
    // acquire_mode::try_once(); try_take and try_acquire report it as false with no error.
    bool take_impl(std::span<std::byte> out, frame_view* view, const acquire_mode& mode, frame_info& info,
                   std::error_code& ec, bool nothing_is_timeout = true) noexcept
    {
        if (!is_open()) {
            ec = errc::not_open;
            return false;
        }
        // acquire: pairs with a finished asynchronous take's release (the cursor it moved).
        if (core_->cursor.async_pending.load(std::memory_order_acquire)) {
            ec = errc::operation_pending;
            return false;
        }
        const protocol::frame_layout::channel_view& channel = core_->view;
        // One budget for the whole call: every look at the frames spends one try of spin(n), and
        // the deadline of wait_for(d) is fixed here, whatever moves in shared memory meanwhile.
        detail::wait_budget budget(mode);
        const bool blocking = budget.blocking();
        // A reader that can never sleep learns it at its first blocking call, frame or not,
        // after following the channel to its current writer's sibling; a missing sibling (a
        // channel between writers) is looked for again right before sleeping.
        if (blocking) {
            if ((ec = core_->follow_sibling())) {
                return false;
            }
            if (!core_->can_sleep() && core_->sleep_refusal != errc::not_found) {
                ec = core_->sleep_refusal;
                return false;
            }
        }
        for (;;) {
            if (!budget.take_try()) {
                ec = errc::max_tries_reached;
                return false;
            }
            // Read the notify sequence first: a frame published after this read changes it.
            const std::uint64_t seen = channel.notify_sequence();
            detail::frame_location at;
            switch (detail::look_for_frame(*core_, out, view != nullptr ? &at : nullptr, info, ec)) {
            case detail::look_result::taken:
                if (view != nullptr) {
                    *view = frame_view(channel, at.slot, at.stamp, info);
                }
                return true;
            case detail::look_result::failed:
                return false;
            case detail::look_result::nothing:
                break;
            }
            if (mode.how() == acquire_mode::kind::try_once) {
                if (nothing_is_timeout) {
                    ec = errc::timeout;
                } else {
                    ec.clear();
                }
                return false;
            }
            auto until = budget.deadline();
            bool sibling_missing = false;
            if (blocking) {
                const auto now = detail::wait_budget::clock::now();
                if (budget.expired(now)) {
                    ec = errc::timeout;
                    return false;
                }
                if (!core_->ready_to_sleep(ec)) {
                    if (ec != errc::not_found) {
                        return false;
                    }
                    // A live writer that has not published its sibling yet (it is starting, or
                    // a reader came first): its frames come all the same. Poll, and look for the
                    // sibling again at the next turn.
                    ec.clear();
                    sibling_missing = true;
                }
                until = now + std::min<std::chrono::nanoseconds>(budget.remaining(now), detail::writer_check_interval);
            }
            std::uint64_t current = 0;
            std::error_code wait_ec;
            auto o = sibling_missing ? poll_until(seen, until, mode)
                                     : core_->endpoint->wait(seen, budget, until, current, wait_ec);
            if (o == detail::notify_endpoint::outcome::failed && wait_ec == errc::too_many_waiters) {
                // Every waiter slot is taken - by live readers, or by somebody who may write or
                // read the sibling and keeps them from us. The frames are still ours: poll until
                // the same point the sleep would have ended.
                o = poll_until(seen, until, mode);
            }
            if (o == detail::notify_endpoint::outcome::changed) {
                continue;
            }
            if (o == detail::notify_endpoint::outcome::timeout && blocking) {
                if (core_->writer_state() == writer_status::gone) {
                    ec = errc::writer_gone;
                    return false;
                }
                continue; // the deadline is checked above
            }
            ec = detail::outcome_error(o, wait_ec);
            return false;
        }
    }

    // A blocking wait with no waiter slot to sleep in: looks at the notify sequence every
    // millisecond until it moves, `until` passes, or the mode's cancel_token is cancelled.
    detail::notify_endpoint::outcome poll_until(std::uint64_t seen, detail::wait_budget::clock::time_point until,
                                                const acquire_mode& mode) noexcept
    {
        using outcome = detail::notify_endpoint::outcome;
        for (;;) {
            if (core_->view.notify_sequence() != seen) {
                return outcome::changed;
            }
            if (mode.cancelled()) {
                return outcome::cancelled;
            }
            if (detail::wait_budget::clock::now() >= until) {
                return outcome::timeout;
            }
            detail::sleep_milliseconds(1);
        }
    }

    std::unique_ptr<detail::channel_core> core_;
};

} // namespace winmmf
