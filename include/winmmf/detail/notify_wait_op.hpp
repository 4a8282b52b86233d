// winmmf/detail/notify_wait_op.hpp - notification::async_wait: the blocking wait's handshake
// (detail/notify_endpoint.hpp) with the sleep handed to the thread pool. The slot is announced
// once and stays announced until the wait ends, so every notify() in between signals its event;
// each wake-up looks at the sequence again, exactly as the blocking loop does.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/async_op.hpp>
#include <winmmf/detail/notify_endpoint.hpp>
#include <winmmf/error.hpp>

#include <cstdint>
#include <system_error>
#include <utility>

namespace winmmf::detail {

template <class Done>
class notify_wait_op final : public async_op {
public:
    notify_wait_op(notify_endpoint& endpoint, std::uint64_t seen, const acquire_mode& mode, Done done) noexcept
        : endpoint_(endpoint), budget_(mode), seen_(seen), done_(std::move(done))
    {
    }

private:
    next_step step(bool) noexcept override
    {
        current_ = endpoint_.state().sequence();
        if (current_ != seen_) {
            return next_step::finished();
        }
        if (budget_.cancelled()) {
            result_ = make_error_code(errc::cancelled);
            return next_step::finished();
        }
        switch (budget_.how()) {
        case acquire_mode::kind::try_once:
            result_ = make_error_code(errc::timeout);
            return next_step::finished();
        case acquire_mode::kind::spin:
            if (!on_pool_) {
                on_pool_ = true; // spin on a pool thread, not the caller's
                return next_step::at(clock::now());
            } else {
                std::error_code ec;
                const auto o = endpoint_.wait(seen_, budget_, budget_.deadline(), current_, ec);
                result_ = outcome_error(o, ec);
                return next_step::finished();
            }
        case acquire_mode::kind::wait:
            break;
        }
        if (!lease_) {
            if ((result_ = endpoint_.lease_slot(lease_))) {
                return next_step::finished();
            }
            // Announce, then look: from here on every notify() signals the slot's event.
            current_ = endpoint_.announce(lease_);
            if (current_ != seen_) {
                return next_step::finished();
            }
        }
        if (budget_.expired(clock::now())) {
            result_ = make_error_code(errc::timeout);
            return next_step::finished();
        }
        return next_step::on_event(lease_.event(), budget_.deadline());
    }

    void let_go() noexcept override
    {
        const bool held = static_cast<bool>(lease_);
        endpoint_.give_back(lease_);
        if (held) {
            // A change that raced the deadline or the cancel is still a change.
            current_ = endpoint_.state().sequence();
        }
    }

    void deliver(const std::error_code& ended) noexcept override
    {
        std::error_code ec = ended ? ended : result_;
        if ((ec == errc::timeout || ec == errc::cancelled) && current_ != seen_) {
            ec.clear();
        }
        done_(ec, current_);
    }

    notify_endpoint& endpoint_;
    wait_budget budget_;
    std::uint64_t seen_;
    std::uint64_t current_ = 0;
    std::error_code result_;
    notify_endpoint::slot_lease lease_;
    bool on_pool_ = false;
    Done done_;
};

} // namespace winmmf::detail
