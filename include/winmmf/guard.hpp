// winmmf/guard.hpp - zero-copy access while a lock is held.
//
// A guard owns one acquisition of a mapping's lock and the span of user data it protects; it
// releases the lock when destroyed. Guards are move-only. A guard must be released before the
// mapping it came from is closed or destroyed (as a std::unique_lock must not outlive its
// mutex); moving the mapping object is fine, because the guard holds its own policy handle.
#pragma once

#include <winmmf/error.hpp>
#include <winmmf/lock.hpp>

#include <cstddef>
#include <span>
#include <system_error>
#include <utility>

namespace winmmf {

template <lock_policy LockPolicy>
class basic_memory_mapped_file;

namespace detail {

// Shared between the read and write guards: they differ only in which unlock they call and in
// the constness of the span.
template <lock_policy LockPolicy, class Byte, bool Exclusive>
class basic_guard {
public:
    basic_guard() noexcept = default;
    basic_guard(basic_guard&& other) noexcept
        : lock_(other.lock_), bytes_(other.bytes_), owns_(std::exchange(other.owns_, false)),
          owner_died_(other.owner_died_)
    {
    }
    basic_guard& operator=(basic_guard&& other) noexcept
    {
        if (this != &other) {
            release_quietly();
            lock_ = other.lock_;
            bytes_ = other.bytes_;
            owns_ = std::exchange(other.owns_, false);
            owner_died_ = other.owner_died_;
        }
        return *this;
    }
    basic_guard(const basic_guard&) = delete;
    basic_guard& operator=(const basic_guard&) = delete;
    ~basic_guard() { release_quietly(); }

    // The user data of the mapping: capacity() bytes, starting right after the lock header.
    std::span<Byte> bytes() const noexcept { return owns_ ? bytes_ : std::span<Byte>{}; }
    Byte* data() const noexcept { return bytes().data(); }
    std::size_t size() const noexcept { return bytes().size(); }

    bool owns_lock() const noexcept { return owns_; }
    explicit operator bool() const noexcept { return owns_; }

    // True if the lock was taken over from an owner that died holding it (robust policies).
    bool previous_owner_died() const noexcept { return owner_died_; }

    void unlock()
    {
        std::error_code ec;
        unlock(ec);
        throw_if(ec, "winmmf: unlock");
    }

    void unlock(std::error_code& ec) noexcept
    {
        if (!owns_) {
            ec = errc::lock_violation;
            return;
        }
        owns_ = false;
        if constexpr (Exclusive) {
            lock_.unlock(ec);
        } else {
            lock_.unlock_shared(ec);
        }
    }

protected:
    basic_guard(LockPolicy lock, std::span<Byte> bytes, bool owner_died) noexcept
        : lock_(lock), bytes_(bytes), owns_(true), owner_died_(owner_died)
    {
    }

private:
    void release_quietly() noexcept
    {
        if (owns_) {
            std::error_code ignored; // a destructor cannot report; unlock(ec) can
            unlock(ignored);
        }
    }

    LockPolicy lock_{};
    std::span<Byte> bytes_{};
    bool owns_ = false;
    bool owner_died_ = false;
};

} // namespace detail

template <lock_policy LockPolicy>
class basic_read_guard : public detail::basic_guard<LockPolicy, const std::byte, false> {
    using base = detail::basic_guard<LockPolicy, const std::byte, false>;
    friend class basic_memory_mapped_file<LockPolicy>;
    using base::base;

public:
    basic_read_guard() noexcept = default;
};

template <lock_policy LockPolicy>
class basic_write_guard : public detail::basic_guard<LockPolicy, std::byte, true> {
    using base = detail::basic_guard<LockPolicy, std::byte, true>;
    friend class basic_memory_mapped_file<LockPolicy>;
    using base::base;

public:
    basic_write_guard() noexcept = default;
};

} // namespace winmmf
