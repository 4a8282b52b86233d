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
#include <cstdint>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

namespace winmmf {

template <lock_policy LockPolicy>
class basic_memory_mapped_file;

namespace detail {

// Shared between the read and write guards: they differ only in which unlock they call and in
// the constness of the span.
template <lock_policy LockPolicy, class Byte, bool Exclusive>
class basic_guard {
    template <class T>
    using object_type = std::conditional_t<std::is_const_v<Byte>, const T, T>; // const T under a read lock

public:
    basic_guard() noexcept = default;
    basic_guard(basic_guard&& other) noexcept
        : lock_(other.lock_), bytes_(other.bytes_), after_release_(other.after_release_),
          after_release_context_(other.after_release_context_), owns_(std::exchange(other.owns_, false)),
          owner_died_(other.owner_died_)
    {
    }
    basic_guard& operator=(basic_guard&& other) noexcept
    {
        if (this != &other) {
            release_quietly();
            lock_ = other.lock_;
            bytes_ = other.bytes_;
            after_release_ = other.after_release_;
            after_release_context_ = other.after_release_context_;
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

    // The bytes at `offset` as a T, in place (no copy), valid while this guard holds the lock:
    // const T for a read guard. Refused with errc::out_of_bounds when T does not fit, and with
    // errc::misaligned when the address is not aligned for T (the WinMMF layout's data start 4
    // bytes into the view, so an 8-byte member needs an offset of 4 modulo 8; a robust mapping's
    // data are 1024-byte aligned: basic_memory_mapped_file::data_alignment). Only the offset is checked: the bytes are another process's,
    // so a T whose every bit pattern is a valid value (integers, floats, arrays and structs of
    // them) is the safe choice; an enum or a bool read this way can hold a value it never had.
#if WINMMF_EXCEPTIONS
    template <class T>
    auto& as(std::size_t offset = 0) const
    {
        std::error_code ec;
        auto* object = as<T>(offset, ec);
        throw_if(ec, "winmmf: guard::as");
        return *object;
    }
#endif
    template <class T>
    auto* as(std::size_t offset, std::error_code& ec) const noexcept
    {
        const std::span<object_type<T>> objects = as_span<T>(offset, 1, ec);
        return objects.empty() ? nullptr : objects.data();
    }
    // `count` consecutive Ts at `offset`, in place; the same checks as as<T>().
#if WINMMF_EXCEPTIONS
    template <class T>
    std::span<object_type<T>> as_span(std::size_t offset, std::size_t count) const
    {
        std::error_code ec;
        const std::span<object_type<T>> objects = as_span<T>(offset, count, ec);
        throw_if(ec, "winmmf: guard::as_span");
        return objects;
    }
#endif
    template <class T>
    std::span<object_type<T>> as_span(std::size_t offset, std::size_t count, std::error_code& ec) const noexcept
    {
        static_assert(std::is_trivially_copyable_v<T> && !std::is_reference_v<T>,
                      "guard::as<T>: T must be trivially copyable - its bytes live in shared memory, "
                      "where another process reads and writes them without calling any constructor, "
                      "destructor or copy operation of T");
        ec.clear();
        if (!owns_) {
            ec = errc::lock_violation;
            return {};
        }
        const std::size_t size = bytes_.size();
        if (offset > size || count > (size - offset) / sizeof(T)) {
            ec = errc::out_of_bounds;
            return {};
        }
        Byte* const at = bytes_.data() + offset;
        if (reinterpret_cast<std::uintptr_t>(at) % alignof(T) != 0) {
            ec = errc::misaligned;
            return {};
        }
        return {reinterpret_cast<object_type<T>*>(at), count};
    }

    bool owns_lock() const noexcept { return owns_; }
    explicit operator bool() const noexcept { return owns_; }

    // True if the lock was taken over from an owner that died holding it (robust policies).
    bool previous_owner_died() const noexcept { return owner_died_; }

#if WINMMF_EXCEPTIONS
    void unlock()
    {
        std::error_code ec;
        unlock(ec);
        throw_if(ec, "winmmf: unlock");
    }
#endif

    void unlock(std::error_code& ec) noexcept
    {
        if (!owns_) {
            ec = errc::lock_violation;
            return;
        }
        owns_ = false;
        if constexpr (Exclusive) {
            lock_.unlock(ec);
            // After the unlock: a woken reader must find the lock free.
            if (!ec && after_release_ != nullptr) {
                after_release_(after_release_context_);
            }
        } else {
            lock_.unlock_shared(ec);
        }
    }

protected:
    // What a mapping with a change notification runs once a write guard has released the lock.
    using release_hook = void (*)(void*) noexcept;

    basic_guard(LockPolicy lock, std::span<Byte> bytes, bool owner_died, release_hook after_release = nullptr,
                void* after_release_context = nullptr) noexcept
        : lock_(lock), bytes_(bytes), after_release_(after_release), after_release_context_(after_release_context),
          owns_(true), owner_died_(owner_died)
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
    release_hook after_release_ = nullptr;
    void* after_release_context_ = nullptr;
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
