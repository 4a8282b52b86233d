// winmmf/lock.hpp - the lock policy concept and the policies that ship with the library.
//
// A mapping starts with a header that belongs to its lock policy; user data follows it. The
// policy decides the header's size and meaning, how a creator initialises it, how an opener
// checks it, and how readers and writers take it. Policies are platform-independent: they
// see only a pointer into shared memory.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/error.hpp>
#include <winmmf/protocol/atomic_word.hpp>
#include <winmmf/protocol/lock_word.hpp>

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <type_traits>

namespace winmmf {

// A lock policy P is a small, copyable handle onto the header at the start of a view. Guards
// keep a copy, so a guard stays valid when the mapping object that made it is moved.
//
//   P::header_size            bytes reserved before user data (constant for the policy)
//   P::readers_write_header   true if taking a shared lock writes to the header; such a
//                             policy cannot lock through a read-only view
//   P::initialize(h, ec)      the creator turns a fresh, zero-filled header into a ready one
//   P::attach(h, ec)          an opener checks that the header belongs to this policy
//   p.lock_shared(mode, ec)   true once a shared lock is held; false with ec set otherwise
//   p.unlock_shared(ec)
//   p.lock(mode, ec)          true once the exclusive lock is held
//   p.unlock(ec)
//
// A lock call may return true *and* set ec to errc::owner_dead: the lock is held, but its
// previous owner died holding it, so the data it guards may be half-written (EOWNERDEAD).
template <class P>
concept lock_policy =
    std::copyable<P> && std::is_nothrow_copy_constructible_v<P> &&
    std::is_nothrow_default_constructible_v<P> &&
    requires(P& p, std::byte* header, std::error_code& ec, const acquire_mode& mode) {
        { P::header_size } -> std::convertible_to<std::size_t>;
        { P::readers_write_header } -> std::convertible_to<bool>;
        { P::initialize(header, ec) } noexcept -> std::same_as<P>;
        { P::attach(header, ec) } noexcept -> std::same_as<P>;
        { p.lock_shared(mode, ec) } noexcept -> std::same_as<bool>;
        { p.unlock_shared(ec) } noexcept -> std::same_as<void>;
        { p.lock(mode, ec) } noexcept -> std::same_as<bool>;
        { p.unlock(ec) } noexcept -> std::same_as<void>;
    };

// The Rust crate WinMMF's reader/writer lock, byte for byte: a 4-byte word at offset 0 (see
// lock_word.hpp). Readers share it, a writer is exclusive, and a process that dies holding it
// leaves it held: use timeouts, and force_unlock() only when you know the holder is gone.
class compatible_lock {
public:
    static constexpr std::size_t header_size = sizeof(protocol::lock_word::word_type);
    static constexpr bool readers_write_header = true;

    compatible_lock() noexcept = default;

    static compatible_lock initialize(std::byte* header, std::error_code& ec) noexcept
    {
        compatible_lock lock(header);
        ec = protocol::lock_word::initialize(lock.word());
        return lock;
    }

    // Any state a WinMMF peer can produce is accepted, including "uninitialized" (its creator
    // may still be running); states no peer can produce are refused up front.
    static compatible_lock attach(std::byte* header, std::error_code& ec) noexcept
    {
        compatible_lock lock(header);
        switch (protocol::lock_word::classify(lock.value())) {
        case protocol::lock_word::state::foreign:
            ec = errc::wrong_lock_policy;
            break;
        case protocol::lock_word::state::corrupt:
            ec = errc::corrupt_lock_word;
            break;
        default:
            ec.clear();
            break;
        }
        return lock;
    }

    // True while the word still says "uninitialized": a WinMMF creator between its first store
    // and its publish. An open that waits for its creator (open_options::wait) waits past it.
    static bool creation_pending(std::byte* header) noexcept
    {
        return protocol::lock_word::classify(compatible_lock(header).value()) == protocol::lock_word::state::uninitialized;
    }

    // Each step backs off after a lost exchange (detail::lock_word_backoff): the values written
    // are WinMMF's either way.
    bool lock_shared(const acquire_mode& mode, std::error_code& ec) noexcept
    {
        const auto attempt = [this] { return protocol::lock_word::try_lock_read(word(), detail::lock_word_backoff{}); };
        return finish(detail::acquire_with(mode, attempt), ec);
    }

    void unlock_shared(std::error_code& ec) noexcept
    {
        finish(protocol::lock_word::unlock_read(word(), detail::lock_word_backoff{}), ec);
    }

    bool lock(const acquire_mode& mode, std::error_code& ec) noexcept
    {
        const auto attempt = [this] { return protocol::lock_word::try_lock_write(word(), detail::lock_word_backoff{}); };
        return finish(detail::acquire_with(mode, attempt), ec);
    }

    void unlock(std::error_code& ec) noexcept
    {
        finish(protocol::lock_word::unlock_write(word(), detail::lock_word_backoff{}), ec);
    }

    // The raw word, for diagnostics (winmmf info) and tests.
    protocol::lock_word::word_type value() const noexcept { return protocol::lock_word::load(word()); }

    // Clears a lock whose holder is known to be gone (the process was killed, say), and
    // finishes an initialisation whose creator died. It writes the word without waiting for
    // the holder: if the holder is in fact alive, mutual exclusion is broken. A word that
    // belongs to another policy is left alone (errc::wrong_lock_policy). Returns the value
    // that was replaced.
    protocol::lock_word::word_type force_unlock(std::error_code& ec) noexcept
    {
        bool refused = false;
        const protocol::lock_word::word_type replaced = protocol::lock_word::force_unlock(word(), refused);
        if (refused) {
            ec = errc::wrong_lock_policy;
        } else {
            ec.clear();
        }
        return replaced;
    }

private:
    explicit compatible_lock(std::byte* header) noexcept : header_(header) {}

    std::atomic_ref<protocol::lock_word::word_type> word() const noexcept
    {
        return std::atomic_ref<protocol::lock_word::word_type>(*reinterpret_cast<protocol::lock_word::word_type*>(header_));
    }

    static bool finish(errc result, std::error_code& ec) noexcept
    {
        if (result == errc{}) {
            ec.clear();
            return true;
        }
        ec = result;
        return false;
    }

    std::byte* header_ = nullptr;
};

// For callers that synchronise by other means. It keeps the 4-byte
// WinMMF header, initialised the same way, so the data sits at the same offset for every
// policy and a compatible_lock peer can still open and lock the same mapping.
class no_lock {
public:
    static constexpr std::size_t header_size = compatible_lock::header_size;
    static constexpr bool readers_write_header = false;

    static no_lock initialize(std::byte* header, std::error_code& ec) noexcept
    {
        compatible_lock::initialize(header, ec);
        return {};
    }
    // Any WinMMF state is fine (no_lock never reads the word again), but a layout marker means
    // another policy's header sits where no_lock's data would be: writing there would corrupt
    // it (the robust lock's writer word is at offset 16), so such a mapping is refused.
    static no_lock attach(std::byte* header, std::error_code& ec) noexcept
    {
        const auto word = protocol::lock_word::load(std::atomic_ref<protocol::lock_word::word_type>(
            *reinterpret_cast<protocol::lock_word::word_type*>(header)));
        if (protocol::lock_word::classify(word) == protocol::lock_word::state::foreign) {
            ec = errc::wrong_lock_policy;
        } else {
            ec.clear();
        }
        return {};
    }
    static bool creation_pending(std::byte* header) noexcept { return compatible_lock::creation_pending(header); }
    bool lock_shared(const acquire_mode&, std::error_code& ec) noexcept
    {
        ec.clear();
        return true;
    }
    void unlock_shared(std::error_code& ec) noexcept { ec.clear(); }
    bool lock(const acquire_mode&, std::error_code& ec) noexcept
    {
        ec.clear();
        return true;
    }
    void unlock(std::error_code& ec) noexcept { ec.clear(); }
};

static_assert(lock_policy<compatible_lock>);
static_assert(lock_policy<no_lock>);

} // namespace winmmf
