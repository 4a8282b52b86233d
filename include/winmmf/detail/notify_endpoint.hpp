// winmmf/detail/notify_endpoint.hpp - the Win32 half of protocol/notify_state.hpp: the named
// auto-reset event each waiter sleeps on, the waiter slots a process holds, and the notifier's
// cache of the events it signals. Shared by notification (notification.hpp) and the frame
// channel (detail/frame_core.hpp).
//
// WaitOnAddress does not work between processes, so a waiter sleeps on a named auto-reset event
// of its own (one per waiter slot, 64 slots), announced in a bit mask next to the sequence. The
// notifier signals exactly the announced waiters, all of them, and makes no system call when
// the mask is empty. docs/explanation/frames.md walks through the races.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/async_op.hpp>
#include <winmmf/detail/backoff.hpp>
#include <winmmf/detail/event.hpp>
#include <winmmf/detail/process.hpp>
#include <winmmf/detail/section.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/name.hpp>
#include <winmmf/protocol/identity.hpp>
#include <winmmf/protocol/notify_state.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <utility>

namespace winmmf::detail {

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

// The process-local half of one protocol::notify_block: the notifier's cache of waiter events and this
// object's waiter slot. Heap-allocated once, when a notification or channel is opened, so
// that the objects owning it stay movable while other threads use its atomics. `prefix` is what
// the waiters' event names start with: "<notification>#<nonce>", or a channel's sibling name.
class notify_endpoint {
public:
    enum class outcome : std::uint8_t { changed, timeout, cancelled, max_tries, failed };
    using clock = std::chrono::steady_clock;

    notify_endpoint(protocol::notify_state state, const object_name& prefix) noexcept : state_(state), prefix_(prefix)
    {
        for (auto& h : signal_handles_) {
            // relaxed: before the endpoint is shared with any other thread.
            h.store(nullptr, std::memory_order_relaxed);
        }
    }
    notify_endpoint(const notify_endpoint&) = delete;
    notify_endpoint& operator=(const notify_endpoint&) = delete;
    ~notify_endpoint()
    {
        async_.shutdown(); // pending asynchronous waits hold slots here and read the block
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
    void set_state(protocol::notify_state state, const object_name& prefix) noexcept
    {
        own_slot_ = waiter_slot{};
        drop_signal_handles();
        state_ = state;
        prefix_ = prefix;
    }
    void set_state(protocol::notify_state state) noexcept { state_ = state; }

    const protocol::notify_state& state() const noexcept { return state_; }
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
    outcome wait(std::uint64_t seen, wait_budget& budget, clock::time_point until, std::uint64_t& current,
                 std::error_code& ec) noexcept
    {
        ec.clear();
        current = state_.sequence();
        if (current != seen) {
            return outcome::changed;
        }
        if (budget.cancelled()) {
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
                if (budget.cancelled()) {
                    return outcome::cancelled;
                }
            }
            return outcome::max_tries;
        case acquire_mode::kind::wait:
            break;
        }
        return block(seen, until, budget.mode().cancel(), current, ec);
    }

    // ---- for waits that do not block a thread (notification::async_wait, frame_reader's) ----

    // A waiter slot held for one wait: the object's own if no other wait uses it, else one
    // borrowed for the wait (a claim and an event of its own: a few system calls).
    struct slot_lease {
        waiter_slot borrowed;
        waiter_slot* slot = nullptr;
        bool announced = false;
        explicit operator bool() const noexcept { return slot != nullptr; }
        HANDLE event() const noexcept { return slot->event(); }
    };

    std::error_code lease_slot(slot_lease& lease) noexcept
    {
        if (!state_.has_waiters()) {
            return make_error_code(errc::read_only); // nowhere to announce a waiter
        }
        bool expected = false;
        // acquire / release (give_back): the process-local try-lock on the own slot, as block().
        if (own_slot_busy_.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
            if (!own_slot_) {
                if (const std::error_code ec = claim_slot(own_slot_)) {
                    own_slot_busy_.store(false, std::memory_order_release);
                    return ec;
                }
            }
            lease.slot = &own_slot_;
            return {};
        }
        if (const std::error_code ec = claim_slot(lease.borrowed)) {
            return ec;
        }
        lease.slot = &lease.borrowed;
        return {};
    }

    // Announces the lease's slot (waiter steps 1 and 2); returns the sequence seen after it.
    std::uint64_t announce(slot_lease& lease) noexcept
    {
        lease.announced = true;
        return state_.announce(lease.slot->index());
    }

    void give_back(slot_lease& lease) noexcept
    {
        if (lease.slot == nullptr) {
            return;
        }
        if (lease.announced) {
            state_.withdraw(lease.slot->index());
            lease.announced = false;
        }
        if (lease.slot == &own_slot_) {
            own_slot_busy_.store(false, std::memory_order_release);
        } else {
            lease.borrowed = waiter_slot{};
        }
        lease.slot = nullptr;
    }

    // The asynchronous waits on this endpoint, ended (errc::aborted) when it goes.
    async_registry& async() noexcept { return async_; }

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
        for (std::uint32_t i = 0; i < protocol::max_waiters; ++i) {
            // acquire: a hint that skips free slots without a liveness probe; try_claim decides.
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
            // acq_rel: pairs with signal_handle's publishing exchange (process-local cache).
            if (HANDLE handle = h.exchange(nullptr, std::memory_order_acq_rel)) {
                ::CloseHandle(handle);
            }
        }
    }

    HANDLE signal_handle(std::uint32_t slot, std::error_code& ec) noexcept
    {
        // acquire: pairs with the exchange below that published the cached handle (process-local).
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
        // acq_rel: publishes our handle to the other threads of this process, or (acquire on
        // failure) takes the one another thread cached first.
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
            for (std::uint32_t i = 0; i < protocol::max_waiters; ++i) {
                // acquire: a hint for the pass order only; try_claim's exchange decides.
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

    outcome block(std::uint64_t seen, clock::time_point until, const cancel_flag* cancel, std::uint64_t& current,
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
        // acquire / release (below): a process-local try-lock on the object's own slot.
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

    outcome sleep_on(waiter_slot& slot, std::uint64_t seen, clock::time_point deadline, const cancel_flag* cancel,
                     std::uint64_t& current, std::error_code& ec) noexcept
    {
        HANDLE handles[2] = {slot.event(), cancel != nullptr ? static_cast<HANDLE>(cancel->wait_handle()) : nullptr};
        const DWORD count = handles[1] != nullptr ? 2 : 1;
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

    protocol::notify_state state_;
    object_name prefix_;
    security_copy security_;
    owner_sid owner_{};
    bool has_owner_ = false;
    std::array<std::atomic<HANDLE>, protocol::max_waiters> signal_handles_;
    waiter_slot own_slot_;
    std::atomic<bool> own_slot_busy_{false};
    async_registry async_;
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

} // namespace winmmf::detail
