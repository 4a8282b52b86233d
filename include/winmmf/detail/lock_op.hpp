// winmmf/detail/lock_op.hpp - a mapping's async_lock_read / async_lock_write: the lock call's
// attempts, run from a thread-pool timer instead of a sleeping thread.
//
// A lock word has no event to wait on (WinMMF peers change it with a bare compare-exchange), so
// an asynchronous lock polls, as the blocking one does once its spinning is over: one attempt
// (the policy's try_once, which for robust_lock includes its liveness check, so dead holders are
// cleared as the blocking wait clears them) after 1, 2, 4 and 8 ms, then every 16 ms - about a
// Windows timer tick - until the lock is taken, refused for good, or the mode runs out.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/async_op.hpp>
#include <winmmf/error.hpp>

#include <algorithm>
#include <chrono>
#include <system_error>
#include <utility>

namespace winmmf::detail {

inline constexpr std::chrono::milliseconds first_lock_poll{1};
inline constexpr std::chrono::milliseconds longest_lock_poll{16};

// Whether a lock call's error may pass by itself (errc::read_locked, write_locked, ...).
inline bool may_pass(const std::error_code& ec) noexcept
{
    return ec.category() == winmmf_category() && is_transient(static_cast<errc>(ec.value()));
}

// `Attempt(const acquire_mode&, std::error_code&) -> Guard` is the blocking lock call;
// `Done(ec, Guard)`.
template <class Guard, class Attempt, class Done>
class lock_op final : public async_op {
public:
    lock_op(Attempt&& attempt, const acquire_mode& mode, Done done) noexcept
        : attempt_(std::move(attempt)), budget_(mode), done_(std::move(done))
    {
    }

private:
    next_step step(bool) noexcept override
    {
        if (budget_.spinning()) {
            if (!on_pool_) {
                on_pool_ = true; // spin on a pool thread, not the caller's
                return next_step::at(clock::now());
            }
            guard_ = attempt_(budget_.mode(), result_); // the blocking twin's spin, whole
            return next_step::finished();
        }
        if (budget_.cancelled()) {
            result_ = make_error_code(errc::cancelled);
            return next_step::finished();
        }
        guard_ = attempt_(acquire_mode::try_once(), result_);
        if (!result_ || !may_pass(result_) || budget_.how() == acquire_mode::kind::try_once) {
            return next_step::finished(); // taken (perhaps owner_dead), refused for good, or one look
        }
        const auto now = clock::now();
        if (budget_.expired(now)) {
            last_refusal_slot() = static_cast<errc>(result_.value());
            result_ = make_error_code(errc::timeout);
            return next_step::finished();
        }
        const auto until = std::min(budget_.deadline(), now + poll_);
        poll_ = std::min<std::chrono::milliseconds>(poll_ * 2, longest_lock_poll);
        return next_step::at(until);
    }

    void deliver(const std::error_code& ended) noexcept override
    {
        if (ended) {
            guard_ = Guard{}; // a lock taken by a step that lost to the cancel is given back
        }
        done_(ended ? ended : result_, std::move(guard_));
    }

    Attempt attempt_;
    wait_budget budget_;
    std::chrono::milliseconds poll_ = first_lock_poll;
    bool on_pool_ = false;
    std::error_code result_;
    Guard guard_{};
    Done done_;
};

} // namespace winmmf::detail
