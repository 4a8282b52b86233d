// winmmf/robust_lock.hpp - a reader/writer lock that survives the death of its holders.
//
// robust_lock is a lock_policy (lock.hpp) for mappings shared by processes that may be killed
// at any moment. A writer or reader that dies holding the lock is noticed by the next process
// that waits for it, within a recovery bound (100 ms unless set_recovery_bound() says
// otherwise), and cleared. If the dead process was a writer, whoever acquires next is told:
// the lock call succeeds with errc::owner_dead, guards say previous_owner_died(), and read()
// and write() report owner_dead after copying. That report repeats for every acquirer until a
// writer releases the lock normally - the writer that was told repairs or discards the data,
// then unlocks. Readers that die are cleared without a report: they cannot have changed data.
//
// Uncontended, a write lock is one compare-exchange plus a look at the reader summary next to
// the writer word, and its unlock one compare-exchange; a read lock and its unlock are two
// read-modify-writes each. System calls (the liveness checks) happen only while waiting. The
// state machine lives in robust_word.hpp, platform-independent; this file adds the Win32 side:
// who we are, whether another process still runs, and how a waiter sleeps.
//
// The layout differs from WinMMF's: a 1024-byte header (user data starts at offset 1024)
// whose first word is protocol::lock_word::robust_layout_marker. A WinMMF peer reads that word as
// "uninitialized" and never locks or writes; compatible_lock refuses it with
// errc::wrong_lock_policy, and robust_lock refuses WinMMF mappings the same way.
//
// See docs/explanation/reliability.md for what is survived, with which bound, and what is left to you.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/backoff.hpp>
#include <winmmf/detail/process.hpp>
#include <winmmf/detail/section.hpp>
#include <winmmf/error.hpp>
#include <winmmf/lock.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/protocol/robust_word.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>

namespace winmmf {

namespace detail {

// Read once per handle (robust_lock keeps it), not per lock call.
inline protocol::robust_word::identity current_robust_identity() noexcept { return current_identity(); }

// False only when the holder is certainly gone (detail/process.hpp).
inline bool robust_holder_alive(protocol::robust_word::identity holder) noexcept { return process_alive(holder); }

using robust_environment = win32_environment;

} // namespace detail

// A robust lock's header as it is at one moment (each word read once, so not a consistent cut
// while others lock): for monitoring and diagnostics (winmmf info, winmmf::inspect).
struct robust_lock_state {
    std::uint32_t version = 0;          // the layout version the header says (0 before it is ready)
    bool ready = false;                 // initialised: lock calls may run
    std::uint32_t initialiser_pid = 0;  // not ready: the process initialising it (0: none named)
    std::uint32_t writer_pid = 0;       // the process holding (or claiming) the writer word; 0: none
    bool writer_holds = false;          // that writer owns the data (else it waits for readers)
    bool owner_died = false;            // a writer died holding it: lockers are told owner_dead
    std::size_t readers = 0;            // reader slots not free (holders, arriving, leaving)
    std::uint64_t recoveries = 0;       // dead holders cleared since the mapping was created
    bool corrupt = false;               // a lock word holds a value no step writes
};

namespace detail {

inline robust_lock_state robust_state_of(protocol::robust_word::header& h) noexcept
{
    namespace rw = protocol::robust_word;
    const rw::snapshot s = rw::inspect(h);
    robust_lock_state r;
    r.version = protocol::load_once(h.version);
    r.ready = s.init == rw::ready_value;
    r.initialiser_pid = !r.ready && protocol::is_identity(s.init) ? rw::owner_of(s.init).pid : 0;
    if (rw::classify_writer(s.writer) == rw::writer_state::owned) {
        r.writer_pid = rw::owner_of(s.writer).pid;
        r.writer_holds = (s.writer & rw::held_bit) != 0;
    }
    r.owner_died = (s.writer & rw::dirty_bit) != 0;
    r.readers = s.readers;
    r.recoveries = s.recoveries;
    r.corrupt = s.corrupt;
    return r;
}

} // namespace detail

class robust_lock {
public:
    static constexpr std::size_t header_size = sizeof(protocol::robust_word::header);
    static constexpr bool readers_write_header = true;

    // How long after a holder's death the next waiter may take to clear it (the default). A
    // waiter checks the holders' liveness every bound / 2 while it waits.
    static constexpr std::chrono::milliseconds default_recovery_bound{100};
    static constexpr std::chrono::milliseconds min_recovery_bound{1};
    static constexpr std::chrono::milliseconds max_recovery_bound{3600000};

    robust_lock() noexcept = default;

    // A handle holds at most one lock at a time; the mapping takes every lock through a fresh
    // copy (the guard's), so this limit shows only when the policy is used directly.

    static robust_lock initialize(std::byte* header, std::error_code& ec) noexcept
    {
        robust_lock lock(header);
        detail::robust_environment env;
        ec = protocol::robust_word::initialize(lock.shared(), lock.me_, env);
        return lock;
    }

    // Waits (up to default_lock_timeout) for a creator that is still initialising, and
    // finishes the initialisation of one that died - through a read-write view; a read-only
    // one reports errc::uninitialized instead.
    static robust_lock attach(std::byte* header, std::error_code& ec) noexcept
    {
        robust_lock lock(header);
        detail::robust_environment env;
        ec = protocol::robust_word::attach(lock.shared(), lock.me_, default_lock_timeout, default_recovery_bound, env,
                                 detail::is_writable(header));
        return lock;
    }

    bool lock_shared(const acquire_mode& mode, std::error_code& ec) noexcept
    {
        if (!usable(ec)) {
            return false;
        }
        detail::robust_environment env;
        const protocol::robust_word::lock_result r =
            protocol::robust_word::lock_shared(shared(), me_, detail::reader_slot_hint(), mode, recovery_bound(), env);
        if (r.error != errc{}) {
            ec = r.error;
            return false;
        }
        slot_ = r.slot;
        report(r, ec);
        return true;
    }

    void unlock_shared(std::error_code& ec) noexcept
    {
        if (slot_ >= protocol::robust_word::reader_slots) {
            ec = errc::lock_violation; // no shared lock held through this handle
            return;
        }
        const errc e = protocol::robust_word::unlock_shared(shared(), me_, slot_);
        slot_ = protocol::robust_word::no_slot;
        ec = e;
    }

    bool lock(const acquire_mode& mode, std::error_code& ec) noexcept
    {
        if (!usable(ec)) {
            return false;
        }
        detail::robust_environment env;
        const protocol::robust_word::lock_result r = protocol::robust_word::lock_exclusive(shared(), me_, mode, recovery_bound(), env);
        if (r.error != errc{}) {
            ec = r.error;
            return false;
        }
        slot_ = exclusive;
        report(r, ec);
        return true;
    }

    void unlock(std::error_code& ec) noexcept
    {
        if (slot_ != exclusive) {
            ec = errc::lock_violation;
            return;
        }
        const errc e = protocol::robust_word::unlock_exclusive(shared(), me_);
        slot_ = protocol::robust_word::no_slot;
        ec = e;
    }

    // ---- configuration and diagnostics ---------------------------------------------------

    // Clamped to [min_recovery_bound, max_recovery_bound]. Applies to this handle and to the
    // guards taken through it afterwards (they copy it), so set it on the mapping's handle:
    // m.lock_policy().set_recovery_bound(20ms). On Windows a sleeping waiter wakes at timer
    // ticks (15.6 ms by default), which limits how small a bound is honoured; see
    // docs/explanation/reliability.md.
    template <class Rep, class Period>
    void set_recovery_bound(std::chrono::duration<Rep, Period> bound) noexcept
    {
        using std::chrono::microseconds;
        const auto clamped = bound < min_recovery_bound   ? microseconds(min_recovery_bound)
                             : bound > max_recovery_bound ? microseconds(max_recovery_bound)
                                                          : std::chrono::duration_cast<microseconds>(bound);
        bound_us_ = static_cast<std::uint32_t>(clamped.count());
    }
    std::chrono::nanoseconds recovery_bound() const noexcept { return std::chrono::microseconds(bound_us_); }

    // The shared state as it is now: owner of the writer word, occupied reader slots, and how
    // many dead holders have been cleared since the mapping was created.
    robust_lock_state inspect() const noexcept
    {
        return header_ != nullptr ? detail::robust_state_of(shared()) : robust_lock_state{};
    }

    bool holds_lock() const noexcept { return slot_ != protocol::robust_word::no_slot; }

private:
    // slot_ while the handle holds the exclusive lock; a shared lock keeps its reader slot
    // there, and no lock no_slot.
    static constexpr std::uint16_t exclusive = protocol::robust_word::no_slot - 1;
    static_assert(exclusive >= protocol::robust_word::reader_slots);

    explicit robust_lock(std::byte* header) noexcept : header_(header), me_(detail::current_robust_identity()) {}

    protocol::robust_word::header& shared() const noexcept { return *reinterpret_cast<protocol::robust_word::header*>(header_); }

    bool usable(std::error_code& ec) const noexcept
    {
        if (header_ == nullptr) {
            ec = errc::not_open;
            return false;
        }
        if (slot_ != protocol::robust_word::no_slot) {
            ec = errc::lock_violation; // this handle already holds a lock; lock through a copy
            return false;
        }
        return true;
    }

    static void report(const protocol::robust_word::lock_result& r, std::error_code& ec) noexcept
    {
        if (r.owner_died) {
            ec = errc::owner_dead;
        } else {
            ec.clear();
        }
    }

    std::byte* header_ = nullptr;
    // This process, as every lock it takes is tagged: fixed for the life of the process, so
    // it is looked up once per handle instead of on every lock and unlock.
    protocol::robust_word::identity me_{};
    std::uint32_t bound_us_ = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(default_recovery_bound).count());
    std::uint16_t slot_ = protocol::robust_word::no_slot;
};

static_assert(lock_policy<robust_lock>);
static_assert(sizeof(robust_lock) <= 24, "guards copy the policy; keep it small");

using robust_memory_mapped_file = basic_memory_mapped_file<robust_lock>;
using robust_read_guard = robust_memory_mapped_file::read_guard;
using robust_write_guard = robust_memory_mapped_file::write_guard;

} // namespace winmmf
