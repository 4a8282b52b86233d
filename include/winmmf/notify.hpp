// winmmf/notify.hpp - cross-process change notification: block until a sequence number in
// shared memory moves, without spinning and without missing a change.
//
//   auto n = winmmf::notification::open_or_create(winmmf::local("frames.notify"));
//   // writer, after changing the data:
//   n.notify();                                   // no system call when nobody waits
//   // reader:
//   std::uint64_t seen = n.sequence();
//   ... read the data ...
//   seen = n.wait(seen, winmmf::acquire_mode::wait_for(1s), cancel);  // returns the new value
//
// WaitOnAddress does not work between processes, so a waiter sleeps on a named auto-reset
// event of its own (one per waiter slot, 64 slots), announced in a bit mask next to the
// sequence. The notifier signals exactly the announced waiters, all of them, and makes no
// system call when the mask is empty. docs/frames.md walks through the races.
//
// Thread safety: sequence(), notify() and waiting() may be called from any thread. wait() may
// be too; one waiting thread uses the object's own waiter slot, further concurrent waiters on
// the same object borrow a slot for the duration of their wait (slower: a few system calls).
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/backoff.hpp>
#include <winmmf/detail/event.hpp>
#include <winmmf/detail/process.hpp>
#include <winmmf/detail/section.hpp>
#include <winmmf/detail/notify_state.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/lock_word.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/protocol/identity.hpp>
#include <winmmf/protocol/section.hpp>
#include <winmmf/name.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <utility>

namespace winmmf {

// Lets another thread stop a wait: cancel() wakes every wait that was given this token with
// errc::cancelled, now and until reset(). Backed by an unnamed manual-reset event (nothing
// another process can see). Not movable: waits hold a pointer to it.
class cancel_token {
public:
    cancel_token()
    {
        std::error_code ec;
        init(ec);
        detail::throw_if(ec, "winmmf: cancel_token");
    }
    explicit cancel_token(std::error_code& ec) noexcept { init(ec); }
    cancel_token(const cancel_token&) = delete;
    cancel_token& operator=(const cancel_token&) = delete;

    void cancel() noexcept
    {
        cancelled_.store(true, std::memory_order_release);
        ::SetEvent(event_.get());
    }
    void reset() noexcept
    {
        ::ResetEvent(event_.get());
        cancelled_.store(false, std::memory_order_release);
    }
    bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

    // For callers that wait on more than winmmf's objects.
    HANDLE native_handle() const noexcept { return event_.get(); }

private:
    void init(std::error_code& ec) noexcept
    {
        event_ = detail::unique_handle(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
        if (event_) {
            ec.clear();
        } else {
            ec = detail::last_error();
        }
    }

    detail::unique_handle event_;
    std::atomic<bool> cancelled_{false};
};

namespace detail {

// The name of an object that derives other names from its own (events, a sibling), refused
// unless it leaves room for the longest suffix: no derived name is ever truncated.
inline std::error_code make_base_name(const name_ref& requested, object_name& out) noexcept
{
    std::error_code ec;
    out = object_name::make(requested, ec);
    if (!ec && out.full().size() + longest_suffix > max_name_length) {
        ec = make_error_code(errc::name_too_long);
    }
    return ec;
}

// A waiter slot held by this process: the slot's claim word names this process, and the slot's
// auto-reset event is open. Giving it back (destruction) frees the word.
class waiter_slot {
public:
    waiter_slot() noexcept = default;
    waiter_slot(waiter_slot&& other) noexcept
        : index_(other.index_), event_(std::move(other.event_)), word_(std::exchange(other.word_, nullptr)),
          me_(other.me_)
    {
    }
    waiter_slot& operator=(waiter_slot&& other) noexcept
    {
        if (this != &other) {
            release();
            index_ = other.index_;
            event_ = std::move(other.event_);
            word_ = std::exchange(other.word_, nullptr);
            me_ = other.me_;
        }
        return *this;
    }
    waiter_slot(const waiter_slot&) = delete;
    waiter_slot& operator=(const waiter_slot&) = delete;
    ~waiter_slot() { release(); }

    explicit operator bool() const noexcept { return word_ != nullptr; }
    std::uint32_t index() const noexcept { return index_; }
    HANDLE event() const noexcept { return event_.get(); }

    void adopt(std::uint32_t index, unique_handle event, std::uint64_t* word, protocol::identity me) noexcept
    {
        release();
        index_ = index;
        event_ = std::move(event);
        word_ = word;
        me_ = me;
    }

    // The word first, the event last: nobody sees our claim without our event while we hold it.
    void release() noexcept
    {
        if (word_ != nullptr) {
            protocol::release_claim(std::atomic_ref<std::uint64_t>(*word_), me_);
            word_ = nullptr;
        }
        event_.reset();
    }

private:
    std::uint32_t index_ = 0;
    unique_handle event_;
    std::uint64_t* word_ = nullptr;
    protocol::identity me_{};
};

// The process-local half of one notify_block: the notifier's cache of waiter events and this
// object's waiter slot. Heap-allocated once, when a notification or channel is opened, so
// that the objects owning it stay movable while other threads use its atomics. `prefix` is what
// the waiters' event names start with: "<notification>#<nonce>", or a channel's sibling name.
class notify_endpoint {
public:
    enum class outcome : std::uint8_t { changed, timeout, cancelled, max_tries, failed };
    using clock = std::chrono::steady_clock;

    notify_endpoint(notify_state state, const object_name& prefix) noexcept : state_(state), prefix_(prefix)
    {
        for (auto& h : signal_handles_) {
            h.store(nullptr, std::memory_order_relaxed);
        }
    }
    notify_endpoint(const notify_endpoint&) = delete;
    notify_endpoint& operator=(const notify_endpoint&) = delete;
    ~notify_endpoint()
    {
        own_slot_ = waiter_slot{};
        drop_signal_handles();
    }

    // Secures the objects this endpoint creates later (its waiters' events), and learns who owns
    // them, so that an event found existing under a waiter's name is used only if it is ours.
    std::error_code set_security(const SECURITY_ATTRIBUTES* sa) noexcept
    {
        if (const std::error_code ec = security_.assign(sa)) {
            return ec;
        }
        has_owner_ = !owner_of_new_objects(security_.get(), owner_);
        return {};
    }

    // Replaces the view of the shared words and the events' prefix: a frame reader whose
    // channel got a new writer (and with it a new notification sibling) follows it. Not while a
    // wait is running on this endpoint.
    void set_state(notify_state state, const object_name& prefix) noexcept
    {
        own_slot_ = waiter_slot{};
        drop_signal_handles();
        state_ = state;
        prefix_ = prefix;
    }
    void set_state(notify_state state) noexcept { state_ = state; }

    const notify_state& state() const noexcept { return state_; }
    const object_name& prefix() const noexcept { return prefix_; }

    // Bumps the sequence and signals every announced waiter; returns how many were signalled.
    // An error (a waiter's event that cannot be opened or set) does not stop the others. The
    // work is bounded whatever the waiter block holds: at most one open and one SetEvent per
    // bit of a 64-bit mask, read once, and an open is cached once it succeeds.
    std::size_t notify(std::error_code& ec) noexcept
    {
        ec.clear();
        return signal(state_.bump(), ec);
    }

    // Signals the waiters in `mask` without bumping (after the caller bumped the sequence
    // elsewhere).
    std::size_t signal(std::uint64_t mask, std::error_code& ec) noexcept
    {
        std::size_t signalled = 0;
        while (mask != 0) {
            const auto slot = static_cast<std::uint32_t>(std::countr_zero(mask));
            mask &= mask - 1;
            std::error_code slot_ec;
            const HANDLE h = signal_handle(slot, slot_ec);
            if (h == nullptr) {
                if (slot_ec && !ec) {
                    ec = slot_ec;
                }
                continue;
            }
            if (::SetEvent(h)) {
                ++signalled;
            } else if (!ec) {
                ec = last_error();
            }
        }
        return signalled;
    }

    // Waits until the sequence differs from `seen`; `current` receives the value last read.
    // Spends `budget` (its tries, for spin modes), and for wait modes sleeps no later than
    // `until` (the caller's deadline, or an earlier point at which it wants to look at something
    // else first).
    outcome wait(std::uint64_t seen, wait_budget& budget, clock::time_point until, const cancel_token* cancel,
                 std::uint64_t& current, std::error_code& ec) noexcept
    {
        ec.clear();
        current = state_.sequence();
        if (current != seen) {
            return outcome::changed;
        }
        if (cancel != nullptr && cancel->cancelled()) {
            return outcome::cancelled;
        }
        switch (budget.how()) {
        case acquire_mode::kind::try_once:
            return outcome::timeout;
        case acquire_mode::kind::spin:
            while (budget.take_try()) {
                cpu_relax();
                current = state_.sequence();
                if (current != seen) {
                    return outcome::changed;
                }
                if (cancel != nullptr && cancel->cancelled()) {
                    return outcome::cancelled;
                }
            }
            return outcome::max_tries;
        case acquire_mode::kind::wait:
            break;
        }
        return block(seen, until, cancel, current, ec);
    }

    // Reclaims the slots of waiters whose processes are certainly gone, clearing the bits they
    // left set so that notify() stops signalling them. Returns how many were reclaimed.
    std::size_t reclaim_abandoned(std::error_code& ec) noexcept
    {
        ec.clear();
        std::size_t reclaimed = 0;
        if (!state_.has_waiters()) {
            return 0;
        }
        const protocol::identity me = current_identity();
        for (std::uint32_t i = 0; i < max_waiters; ++i) {
            if (state_.slot_word(i).load(std::memory_order_acquire) == 0) {
                continue;
            }
            std::uint64_t replaced = 0;
            if (protocol::try_claim(state_.slot_word(i), me, process_alive, replaced) ==
                protocol::claim_outcome::claimed) {
                // The dead owner's bit first, then the word: a waiter that claims the slot
                // after us sets a bit nobody clears behind it.
                state_.withdraw(i);
                protocol::release_claim(state_.slot_word(i), me);
                ++reclaimed;
            }
        }
        return reclaimed;
    }

private:
    void drop_signal_handles() noexcept
    {
        for (auto& h : signal_handles_) {
            if (HANDLE handle = h.exchange(nullptr, std::memory_order_acq_rel)) {
                ::CloseHandle(handle);
            }
        }
    }

    HANDLE signal_handle(std::uint32_t slot, std::error_code& ec) noexcept
    {
        HANDLE h = signal_handles_[slot].load(std::memory_order_acquire);
        if (h != nullptr) {
            return h;
        }
        const object_name name = waiter_event_name(prefix_, slot, ec);
        if (ec) {
            return nullptr;
        }
        // Signalling needs EVENT_MODIFY_STATE and nothing else: a waiter's descriptor need not
        // let anybody wait on its event (and one that lets others wait would let them steal its
        // wake-ups).
        HANDLE opened = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, name.c_str());
        if (opened == nullptr) {
            const DWORD error = ::GetLastError();
            // A waiter creates its event before it announces itself and keeps it while it
            // lives, so a missing event means a dead waiter: nobody to wake.
            if (error != ERROR_FILE_NOT_FOUND) {
                ec = win32_error(error);
            }
            return nullptr;
        }
        HANDLE expected = nullptr;
        if (!signal_handles_[slot].compare_exchange_strong(expected, opened, std::memory_order_acq_rel,
                                                          std::memory_order_acquire)) {
            ::CloseHandle(opened); // another thread cached it first
            return expected;
        }
        return opened;
    }

    // Claims a free slot (or one whose owner is certainly gone) and creates its event.
    std::error_code claim_slot(waiter_slot& out) noexcept
    {
        std::error_code ec;
        const protocol::identity me = current_identity();
        // Two passes: free slots first (no system call to test them), then slots whose owners
        // may have died (a liveness probe each).
        for (int pass = 0; pass < 2; ++pass) {
            for (std::uint32_t i = 0; i < max_waiters; ++i) {
                const bool taken = state_.slot_word(i).load(std::memory_order_acquire) != 0;
                if (taken != (pass == 1)) {
                    continue;
                }
                std::uint64_t replaced = 0;
                if (protocol::try_claim(state_.slot_word(i), me, process_alive, replaced) !=
                    protocol::claim_outcome::claimed) {
                    continue;
                }
                const object_name name = waiter_event_name(prefix_, i, ec);
                if (ec) {
                    protocol::release_claim(state_.slot_word(i), me);
                    return ec;
                }
                unique_handle event = create_waiter_event(name, security_.get(), has_owner_ ? &owner_ : nullptr, ec);
                if (name_is_taken(ec)) {
                    // The slot's event outlived its previous owner (a notifier still holds it)
                    // and belongs to another account, or another object squats the name. Give
                    // the claim back and try the next slot.
                    ec.clear();
                    protocol::release_claim(state_.slot_word(i), me);
                    continue;
                }
                if (ec) {
                    protocol::release_claim(state_.slot_word(i), me);
                    return ec;
                }
                // A signal left for the previous owner would only cost one spurious wake-up,
                // and a dead owner's bit would cost the notifier a SetEvent per notify.
                ::ResetEvent(event.get());
                state_.withdraw(i);
                out.adopt(i, std::move(event), state_.slot_address(i), me);
                return {};
            }
        }
        return make_error_code(errc::too_many_waiters);
    }

    outcome block(std::uint64_t seen, clock::time_point until, const cancel_token* cancel, std::uint64_t& current,
                  std::error_code& ec) noexcept
    {
        if (!state_.has_waiters()) {
            ec = make_error_code(errc::read_only); // nowhere to announce a waiter
            return outcome::failed;
        }
        // The object's own slot, or a borrowed one when another thread is waiting on it.
        waiter_slot borrowed;
        waiter_slot* slot = nullptr;
        bool expected = false;
        if (own_slot_busy_.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
            if (!own_slot_) {
                if ((ec = claim_slot(own_slot_))) {
                    own_slot_busy_.store(false, std::memory_order_release);
                    return outcome::failed;
                }
            }
            slot = &own_slot_;
        } else {
            if ((ec = claim_slot(borrowed))) {
                return outcome::failed;
            }
            slot = &borrowed;
        }

        const outcome result = sleep_on(*slot, seen, until, cancel, current, ec);
        if (slot == &own_slot_) {
            own_slot_busy_.store(false, std::memory_order_release);
        }
        return result;
    }

    outcome sleep_on(waiter_slot& slot, std::uint64_t seen, clock::time_point deadline, const cancel_token* cancel,
                     std::uint64_t& current, std::error_code& ec) noexcept
    {
        HANDLE handles[2] = {slot.event(), cancel != nullptr ? cancel->native_handle() : nullptr};
        const DWORD count = cancel != nullptr ? 2 : 1;
        // Announce, then look: from here on every notify() sees the bit and signals the event.
        current = state_.announce(slot.index());
        outcome result = outcome::changed;
        for (;;) {
            if (current != seen) {
                result = outcome::changed;
                break;
            }
            if (cancel != nullptr && cancel->cancelled()) {
                result = outcome::cancelled;
                break;
            }
            const auto now = clock::now();
            if (now >= deadline) {
                result = outcome::timeout;
                break;
            }
            const DWORD r = ::WaitForMultipleObjects(count, handles, FALSE, wait_milliseconds(deadline - now));
            if (r == WAIT_OBJECT_0 || r == WAIT_TIMEOUT) {
                // Signalled (possibly by a notify this waiter had already seen: then it sleeps
                // again, until the same deadline), or the time is up (checked above, after one
                // more look).
                current = state_.sequence();
                continue;
            }
            if (r == WAIT_OBJECT_0 + 1) {
                result = outcome::cancelled;
                break;
            }
            ec = last_error();
            result = outcome::failed;
            break;
        }
        state_.withdraw(slot.index());
        if (result == outcome::timeout || result == outcome::cancelled) {
            // A change that raced the deadline or the cancel is still a change.
            current = state_.sequence();
            if (current != seen) {
                result = outcome::changed;
            }
        }
        return result;
    }

    notify_state state_;
    object_name prefix_;
    security_copy security_;
    owner_sid owner_{};
    bool has_owner_ = false;
    std::array<std::atomic<HANDLE>, max_waiters> signal_handles_;
    waiter_slot own_slot_;
    std::atomic<bool> own_slot_busy_{false};
};

// Maps a wait's outcome onto the library's errors.
inline std::error_code outcome_error(notify_endpoint::outcome o, const std::error_code& ec) noexcept
{
    switch (o) {
    case notify_endpoint::outcome::changed:
        return {};
    case notify_endpoint::outcome::timeout:
        return make_error_code(errc::timeout);
    case notify_endpoint::outcome::cancelled:
        return make_error_code(errc::cancelled);
    case notify_endpoint::outcome::max_tries:
        return make_error_code(errc::max_tries_reached);
    case notify_endpoint::outcome::failed:
        break;
    }
    return ec;
}

// Thrown errors name the object, and a not_found says where else the name exists.
inline void throw_named_error(const std::error_code& ec, const std::string& what, const name_ref& requested)
{
    std::error_code name_ec;
    const object_name name = object_name::make(requested, name_ec);
    const std::string hint = !name_ec && ec == errc::not_found ? not_found_hint(name) : std::string();
    throw_error(ec, "winmmf: " + what + " " + (name_ec ? std::string("(invalid name)") : name.to_utf8()) + hint);
}

} // namespace detail

// A named notification of its own: a small mapping holding a sequence number and the waiter
// slots. Use it beside a memory_mapped_file (name_for() derives "<mapping>.notify"), or for
// any "something changed" signal between processes. Move-only.
//
// Layout version 2 (offsets from the start of the view):
//   0   marker  u32  lock_word::notify_layout_marker
//   4   version u32  0 until ready, then layout_version
//   8   init    u64  protocol/section.hpp's handshake
//   16  nonce   u64  random, chosen by the creator: the waiters' events are
//                    "<name>#<nonce in hex>w<slot>", names nobody can know without reading here
//   64  notify_block: the sequence (64), the waiter mask (128), the slots' claim words (192)
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
    static object_name name_for(const object_name& mapping)
    {
        std::error_code ec;
        object_name n = name_for(mapping, ec);
        detail::throw_if(ec, "winmmf: notification name");
        return n;
    }

    // `options.security_attributes` applies to every kernel object this object creates: the
    // mapping, and later its waiter event.
    static notification create(const name_ref& name, const create_options& options = {})
    {
        std::error_code ec;
        auto n = create(name, options, ec);
        throw_for("create", name, ec);
        return n;
    }
    static notification create(const name_ref& name, std::error_code& ec) noexcept
    {
        return create(name, create_options{}, ec);
    }
    static notification create(const name_ref& name, const create_options& options, std::error_code& ec) noexcept
    {
        notification n;
        ec = n.establish(detail::open_mode::create_only, name, options);
        return n;
    }

    // `waiter_objects.security_attributes` secures the event this object creates when it first
    // waits.
    static notification open(const name_ref& name, const create_options& waiter_objects = {})
    {
        std::error_code ec;
        auto n = open(name, waiter_objects, ec);
        throw_for("open", name, ec);
        return n;
    }
    static notification open(const name_ref& name, std::error_code& ec) noexcept
    {
        return open(name, create_options{}, ec);
    }
    static notification open(const name_ref& name, const create_options& waiter_objects,
                             std::error_code& ec) noexcept
    {
        notification n;
        ec = n.establish(detail::open_mode::open_only, name, waiter_objects);
        return n;
    }

    static notification open_or_create(const name_ref& name, const create_options& options = {})
    {
        std::error_code ec;
        auto n = open_or_create(name, options, ec);
        throw_for("open_or_create", name, ec);
        return n;
    }
    static notification open_or_create(const name_ref& name, std::error_code& ec) noexcept
    {
        return open_or_create(name, create_options{}, ec);
    }
    static notification open_or_create(const name_ref& name, const create_options& options,
                                       std::error_code& ec) noexcept
    {
        notification n;
        ec = n.establish(detail::open_mode::open_or_create, name, options);
        return n;
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
    std::size_t notify()
    {
        std::error_code ec;
        const std::size_t woken = notify(ec);
        throw_if_failed(ec, "notify");
        return woken;
    }
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
    // spin_forever() (poll on the CPU). Fails with errc::timeout, errc::max_tries_reached, or
    // errc::cancelled when `cancel` was cancelled by another thread.
    std::uint64_t wait(std::uint64_t seen, const acquire_mode& mode)
    {
        return wait_impl(seen, mode, nullptr);
    }
    std::uint64_t wait(std::uint64_t seen, const acquire_mode& mode, const cancel_token& cancel)
    {
        return wait_impl(seen, mode, &cancel);
    }
    std::uint64_t wait(std::uint64_t seen, const acquire_mode& mode, std::error_code& ec) noexcept
    {
        return wait(seen, mode, nullptr, ec);
    }
    std::uint64_t wait(std::uint64_t seen, const acquire_mode& mode, const cancel_token* cancel,
                       std::error_code& ec) noexcept
    {
        if (!is_open()) {
            ec = errc::not_open;
            return 0;
        }
        std::uint64_t current = 0;
        std::error_code wait_ec;
        detail::wait_budget budget(mode);
        const auto o = endpoint_->wait(seen, budget, budget.deadline(), cancel, current, wait_ec);
        ec = detail::outcome_error(o, wait_ec);
        return current;
    }

    // How many waiters are announced right now (diagnostics and tests).
    std::size_t waiting() const noexcept { return is_open() ? endpoint_->state().waiting_count() : 0; }

    // Frees the slots of waiters whose process died (they are also reused automatically when
    // a new waiter needs one). Returns how many.
    std::size_t reclaim_abandoned_waiters()
    {
        std::error_code ec;
        const std::size_t n = reclaim_abandoned_waiters(ec);
        throw_if_failed(ec, "reclaim_abandoned_waiters");
        return n;
    }
    std::size_t reclaim_abandoned_waiters(std::error_code& ec) noexcept
    {
        if (!is_open()) {
            ec = errc::not_open;
            return 0;
        }
        return endpoint_->reclaim_abandoned(ec);
    }

    struct header {
        std::uint32_t marker;
        std::uint32_t version;
        std::uint64_t init;
        std::uint64_t nonce;
        std::uint64_t reserved[5];
    };
    static_assert(sizeof(header) == header_size);
    static constexpr protocol::layout_kind layout{lock_word::notify_layout_marker, layout_version,
                                                  protocol::ready_value(layout_version)};

private:
    std::error_code establish(detail::open_mode how, const name_ref& requested, const create_options& options) noexcept
    {
        object_name name;
        std::error_code ec = detail::make_base_name(requested, name);
        if (ec) {
            return ec;
        }
        constexpr std::size_t size = sizeof(detail::notify_block);
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
        auto* block = reinterpret_cast<detail::notify_block*>(section.base() + header_size);
        std::unique_ptr<detail::notify_endpoint> endpoint(
            new (std::nothrow) detail::notify_endpoint(detail::notify_state(block), prefix));
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

    std::uint64_t wait_impl(std::uint64_t seen, const acquire_mode& mode, const cancel_token* cancel)
    {
        std::error_code ec;
        const std::uint64_t current = wait(seen, mode, cancel, ec);
        throw_if_failed(ec, "wait");
        return current;
    }

    void throw_if_failed(const std::error_code& ec, const char* what) const
    {
        if (ec) {
            detail::throw_error(ec, std::string("winmmf: notification ") + what + " " +
                                        (is_open() ? name().to_utf8() : std::string("(not open)")));
        }
    }

    static void throw_for(const char* what, const name_ref& requested, const std::error_code& ec)
    {
        if (ec) {
            detail::throw_named_error(ec, std::string("notification ") + what, requested);
        }
    }

    // The endpoint refers into the view: it goes first.
    detail::mapped_section section_;
    std::unique_ptr<detail::notify_endpoint> endpoint_;
};

} // namespace winmmf
