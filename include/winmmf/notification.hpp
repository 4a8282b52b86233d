// winmmf/notification.hpp - cross-process change notification: block until a sequence number
// in shared memory moves, without spinning and without missing a change.
//
//   auto n = winmmf::notification::open_or_create(winmmf::local("frames.notify"));
//   // writer, after changing the data:
//   n.notify();                                   // no system call when nobody waits
//   // reader:
//   std::uint64_t seen = n.sequence();
//   ... read the data ...
//   seen = n.wait(seen, winmmf::acquire_mode::wait_for(1s));  // returns the new value
//
// Thread safety: sequence(), notify() and waiting() may be called from any thread. wait() may
// be too; one waiting thread uses the object's own waiter slot, further concurrent waiters on
// the same object borrow a slot for the duration of their wait (slower: a few system calls).
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/async.hpp>
#include <winmmf/cancel_token.hpp>
#include <winmmf/detail/notify_endpoint.hpp>
#include <winmmf/detail/notify_wait_op.hpp>
#include <winmmf/detail/open_wait.hpp>
#include <winmmf/detail/section.hpp>
#include <winmmf/detail/section_errors.hpp>
#include <winmmf/error.hpp>
#include <winmmf/name.hpp>
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/notify_state.hpp>
#include <winmmf/protocol/section.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <system_error>
#include <utility>

namespace winmmf {

// What a notification's create, open and open_or_create take.
struct notification_options {
    // Secures every kernel object this object creates: the mapping (when it creates it), and
    // the waiter event it creates when it first waits. Null: the account's default descriptor.
    SECURITY_ATTRIBUTES* security_attributes = nullptr;
    // open() only - reader-first start-up: how long to wait for a notification that does not
    // exist yet, as open_options::wait (try_once(), the default: errc::not_found at once).
    acquire_mode wait = acquire_mode::try_once();
};

// A named notification of its own: a small mapping holding a sequence number and the waiter
// slots. Use it beside a memory_mapped_file (name_for() derives "<mapping>.notify"), or for
// any "something changed" signal between processes. Move-only.
//
// Layout version 2 (offsets from the start of the view):
//   0   marker  u32  protocol::lock_word::notify_layout_marker
//   4   version u32  0 until ready, then layout_version
//   8   init    u64  protocol/section.hpp's handshake
//   16  nonce   u64  random, chosen by the creator: the waiters' events are
//                    "<name>#<nonce in hex>w<slot>", names nobody can know without reading here
//   64  protocol::notify_block: the sequence (64), the waiter mask (128), the slots' claim words (192)
class notification {
public:
    static constexpr std::uint32_t layout_version = 2;
    static constexpr std::size_t header_size = 64;

    notification() noexcept = default;
    notification(notification&&) noexcept = default;
    notification& operator=(notification&& other) noexcept
    {
        if (this != &other) {
            close(); // the endpoint writes into the view when it lets go of its slot
            section_ = std::move(other.section_);
            endpoint_ = std::move(other.endpoint_);
        }
        return *this;
    }
    ~notification() { close(); }
    notification(const notification&) = delete;
    notification& operator=(const notification&) = delete;

    // The conventional name of the notification that goes with a mapping: "<name>.notify".
    static object_name name_for(const object_name& mapping, std::error_code& ec) noexcept
    {
        return mapping.with_suffix(u".notify", ec);
    }
#if WINMMF_EXCEPTIONS
    static object_name name_for(const object_name& mapping)
    {
        std::error_code ec;
        object_name n = name_for(mapping, ec);
        detail::throw_if(ec, "winmmf: notification name");
        return n;
    }
#endif

    // Creates a new notification; errc::already_exists if the name is taken.
#if WINMMF_EXCEPTIONS
    static notification create(const name_ref& name, const notification_options& options = {})
    {
        return detail::or_throw("notification::create", name, [&](std::error_code& ec) { return create(name, options, ec); });
    }
#endif
    static notification create(const name_ref& name, std::error_code& ec) noexcept { return create(name, {}, ec); }
    static notification create(const name_ref& name, const notification_options& options, std::error_code& ec) noexcept
    {
        return establish(detail::open_mode::create_only, name, options, ec);
    }

    // Opens an existing notification; errc::not_found if there is none.
#if WINMMF_EXCEPTIONS
    static notification open(const name_ref& name, const notification_options& options = {})
    {
        return detail::or_throw("notification::open", name, [&](std::error_code& ec) { return open(name, options, ec); });
    }
#endif
    static notification open(const name_ref& name, std::error_code& ec) noexcept { return open(name, {}, ec); }
    static notification open(const name_ref& name, const notification_options& options, std::error_code& ec) noexcept
    {
        notification n;
        ec = detail::open_waiting(options.wait, [&]() noexcept {
            n.close();
            return n.attach(detail::open_mode::open_only, name, options);
        });
        if (ec) {
            n.close();
        }
        return n;
    }

#if WINMMF_EXCEPTIONS
    static notification open_or_create(const name_ref& name, const notification_options& options = {})
    {
        return detail::or_throw("notification::open_or_create", name,
                                [&](std::error_code& ec) { return open_or_create(name, options, ec); });
    }
#endif
    static notification open_or_create(const name_ref& name, std::error_code& ec) noexcept
    {
        return open_or_create(name, {}, ec);
    }
    static notification open_or_create(const name_ref& name, const notification_options& options,
                                       std::error_code& ec) noexcept
    {
        return establish(detail::open_mode::open_or_create, name, options, ec);
    }

    bool is_open() const noexcept { return endpoint_ != nullptr; }
    explicit operator bool() const noexcept { return is_open(); }
    bool created() const noexcept { return section_.created(); }
    const object_name& name() const noexcept { return section_.name(); }

    void close() noexcept
    {
        endpoint_.reset();
        section_.close();
    }

    // The current value; it only grows. 0 for a new notification.
    std::uint64_t sequence() const noexcept { return is_open() ? endpoint_->state().sequence() : 0; }

    // Bumps the sequence and wakes every waiter; returns how many were woken. With nobody
    // waiting this is one atomic increment and one load: no system call.
#if WINMMF_EXCEPTIONS
    std::size_t notify()
    {
        std::error_code ec;
        const std::size_t woken = notify(ec);
        throw_if_failed(ec, "notify");
        return woken;
    }
#endif
    std::size_t notify(std::error_code& ec) noexcept
    {
        if (!is_open()) {
            ec = errc::not_open;
            return 0;
        }
        return endpoint_->notify(ec);
    }

    // Waits until the sequence differs from `seen` and returns the new value. The mode says how
    // long: try_once() (look once), wait_for(d) (sleep in the kernel up to d), spin(n) /
    // spin_forever() (poll on the CPU), and with_cancel(token) ends it early. Fails with
    // errc::timeout, errc::max_tries_reached, or errc::cancelled.
#if WINMMF_EXCEPTIONS
    std::uint64_t wait(std::uint64_t seen, const acquire_mode& mode)
    {
        std::error_code ec;
        const std::uint64_t current = wait(seen, mode, ec);
        throw_if_failed(ec, "wait");
        return current;
    }
#endif
    std::uint64_t wait(std::uint64_t seen, const acquire_mode& mode, std::error_code& ec) noexcept
    {
        if (!is_open()) {
            ec = errc::not_open;
            return 0;
        }
        std::uint64_t current = 0;
        std::error_code wait_ec;
        detail::wait_budget budget(mode);
        const auto o = endpoint_->wait(seen, budget, budget.deadline(), current, wait_ec);
        ec = detail::outcome_error(o, wait_ec);
        return current;
    }

    // wait() without blocking a thread (async.hpp): `done(std::error_code, std::uint64_t current)`
    // runs on a thread-pool thread once the sequence differs from `seen`, or with wait()'s
    // errors, or errc::aborted if the notification is closed or destroyed first. The waiter's
    // slot stays announced while the wait is pending, so concurrent async waits on one
    // notification take one slot each (of 64, shared by every process).
    template <class Done>
        requires detail::async_completion<std::uint64_t, Done>
    async_operation async_wait(std::uint64_t seen, const acquire_mode& mode, Done&& done) noexcept
    {
        if (!is_open()) {
            return detail::fail_async<std::uint64_t>(make_error_code(errc::not_open), std::forward<Done>(done));
        }
        using op_type = detail::notify_wait_op<std::decay_t<Done>>;
        return detail::start_async(new (std::nothrow) op_type(*endpoint_, seen, mode, std::forward<Done>(done)),
                                   endpoint_->async(), mode.cancel(),
                                   [&](const std::error_code& ec) { done(ec, std::uint64_t{0}); });
    }
    // The coroutine form: `co_await n.async_wait(seen, mode)` returns the new value (throws as
    // wait() does), or with `ec`, sets it.
#if WINMMF_EXCEPTIONS
    auto async_wait(std::uint64_t seen, const acquire_mode& mode) noexcept
    {
        return detail::make_awaitable<std::uint64_t>(
            [this, seen, mode](auto&& resume) { this->async_wait(seen, mode, std::move(resume)); }, nullptr,
            "notification::async_wait");
    }
#endif
    auto async_wait(std::uint64_t seen, const acquire_mode& mode, std::error_code& ec) noexcept
    {
        return detail::make_awaitable<std::uint64_t>(
            [this, seen, mode](auto&& resume) { this->async_wait(seen, mode, std::move(resume)); }, &ec,
            "notification::async_wait");
    }

    // How many waiters are announced right now (diagnostics and tests).
    std::size_t waiting() const noexcept { return is_open() ? endpoint_->state().waiting_count() : 0; }

    // Frees the waiter slots of waiters whose process died (they are also reused automatically when
    // a new waiter needs one). Returns how many.
#if WINMMF_EXCEPTIONS
    std::size_t reclaim_abandoned_waiters()
    {
        std::error_code ec;
        const std::size_t n = reclaim_abandoned_waiters(ec);
        throw_if_failed(ec, "reclaim_abandoned_waiters");
        return n;
    }
#endif
    std::size_t reclaim_abandoned_waiters(std::error_code& ec) noexcept
    {
        if (!is_open()) {
            ec = errc::not_open;
            return 0;
        }
        return endpoint_->reclaim_abandoned(ec);
    }

private:
    struct header {
        std::uint32_t marker;
        std::uint32_t version;
        std::uint64_t init;
        std::uint64_t nonce;
        std::uint64_t reserved[5];
    };
    static_assert(sizeof(header) == header_size);
    static constexpr protocol::layout_kind layout{protocol::lock_word::notify_layout_marker, layout_version,
                                                  protocol::ready_value(layout_version)};

    static notification establish(detail::open_mode how, const name_ref& name, const notification_options& options,
                                  std::error_code& ec) noexcept
    {
        notification n;
        ec = n.attach(how, name, options);
        return n;
    }

    std::error_code attach(detail::open_mode how, const name_ref& requested, const notification_options& options) noexcept
    {
        object_name name;
        std::error_code ec = detail::make_base_name(requested, name);
        if (ec) {
            return ec;
        }
        constexpr std::size_t size = sizeof(protocol::notify_block);
        detail::section_request request;
        request.mode = how;
        request.size = size;
        request.header_size = header_size;
        request.writable = true; // waiting announces in the block, notifying bumps its sequence
        request.security_attributes = options.security_attributes;
        detail::mapped_section section;
        if ((ec = detail::mapped_section::open(name, request, section))) {
            return ec;
        }
        if (section.layout().capacity < size) {
            return make_error_code(errc::wrong_layout); // too small to hold a block
        }
        // Whoever may write the notification may finish a dead creator's job: a new nonce.
        const detail::layout_plan plan{layout, header_size + size, true};
        bool initialized = false;
        ec = detail::establish_layout(
            section, plan,
            [](std::byte* base) {
                auto* h = reinterpret_cast<header*>(base);
                // relaxed: written between begin_creation and publish_ready, whose release publishes it.
                std::atomic_ref<std::uint64_t>(h->nonce).store(detail::random_nonce(), std::memory_order_relaxed);
                return errc{};
            },
            initialized);
        if (ec) {
            return ec;
        }
        auto* h = reinterpret_cast<header*>(section.base());
        const std::uint64_t nonce = protocol::load_once(h->nonce);
        if (nonce == 0) {
            return make_error_code(errc::wrong_layout);
        }
        const object_name prefix = detail::with_nonce(name, nonce, ec);
        if (ec) {
            return ec;
        }
        auto* block = reinterpret_cast<protocol::notify_block*>(section.base() + header_size);
        std::unique_ptr<detail::notify_endpoint> endpoint(
            new (std::nothrow) detail::notify_endpoint(protocol::notify_state(block), prefix));
        if (!endpoint) {
            return std::make_error_code(std::errc::not_enough_memory);
        }
        if ((ec = endpoint->set_security(options.security_attributes))) {
            return ec;
        }
        section_ = std::move(section);
        endpoint_ = std::move(endpoint);
        return {};
    }

#if WINMMF_EXCEPTIONS
    void throw_if_failed(const std::error_code& ec, const char* what) const
    {
        if (ec) {
            detail::throw_named(ec, std::string("notification::") + what, name());
        }
    }
#endif

    // The endpoint refers into the view: it goes first.
    detail::mapped_section section_;
    std::unique_ptr<detail::notify_endpoint> endpoint_;
};

} // namespace winmmf
