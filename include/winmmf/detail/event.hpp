// winmmf/detail/event.hpp - named events, the names derived from a mapping's, and the claim of
// a slot in shared memory by a process that may die holding it.
//
// Windows-only (the kernel half of notify_state.hpp). Nothing here allocates except
// security_copy, which runs when a notification is opened, never on a wait or notify path.
#pragma once

#include <winmmf/detail/notify_state.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/name.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <system_error>
#include <utility>

namespace winmmf::detail {

// ---- names ---------------------------------------------------------------------------------

// Room kept for the longest suffix appended to a notification's or channel's name
// ("#writer0.<16 hex digits>" is 25 units). Checked when the object is created or opened, so
// that a name too long for its events fails at once rather than at the first wait.
inline constexpr std::size_t longest_suffix = 32;

// `base` + `tag` + decimal `index` [+ "." + hex `generation`], e.g. Local\frames#wait3 or
// Local\frames#live3.1f. Built in a fixed buffer: no allocation.
inline object_name derived_name(const object_name& base, std::u16string_view tag, std::uint32_t index,
                                bool with_generation, std::uint64_t generation,
                                std::error_code& ec) noexcept
{
    char16_t suffix[64];
    std::size_t n = 0;
    for (char16_t c : tag) {
        suffix[n++] = c;
    }
    char16_t digits[20];
    std::size_t d = 0;
    do {
        digits[d++] = static_cast<char16_t>(u'0' + index % 10);
        index /= 10;
    } while (index != 0);
    while (d != 0) {
        suffix[n++] = digits[--d];
    }
    if (with_generation) {
        suffix[n++] = u'.';
        bool started = false;
        for (int shift = 60; shift >= 0; shift -= 4) {
            const unsigned nibble = static_cast<unsigned>((generation >> shift) & 0xF);
            if (nibble != 0 || started || shift == 0) {
                started = true;
                suffix[n++] = static_cast<char16_t>(nibble < 10 ? u'0' + nibble : u'a' + (nibble - 10));
            }
        }
    }
    return base.with_suffix(std::u16string_view(suffix, n), ec);
}

// ---- security ------------------------------------------------------------------------------

// A copy of the caller's SECURITY_ATTRIBUTES (descriptor included, made self-relative), for the
// objects a notification creates later than the call that was given them: a waiter creates
// its event at its first wait, not when it opens the notification.
class security_copy {
public:
    security_copy() noexcept = default;

    std::error_code assign(const SECURITY_ATTRIBUTES* sa) noexcept
    {
        descriptor_.reset();
        attributes_ = SECURITY_ATTRIBUTES{};
        present_ = false;
        if (sa == nullptr) {
            return {};
        }
        attributes_.nLength = sizeof attributes_;
        attributes_.bInheritHandle = sa->bInheritHandle;
        if (sa->lpSecurityDescriptor != nullptr) {
            PSECURITY_DESCRIPTOR sd = sa->lpSecurityDescriptor;
            SECURITY_DESCRIPTOR_CONTROL control = 0;
            DWORD revision = 0;
            if (!::GetSecurityDescriptorControl(sd, &control, &revision)) {
                return last_error();
            }
            DWORD length = 0;
            if ((control & SE_SELF_RELATIVE) != 0) {
                length = ::GetSecurityDescriptorLength(sd);
            } else if (!::MakeSelfRelativeSD(sd, nullptr, &length) &&
                       ::GetLastError() != ERROR_INSUFFICIENT_BUFFER) {
                return last_error();
            }
            descriptor_.reset(new (std::nothrow) std::byte[length]);
            if (!descriptor_) {
                return std::make_error_code(std::errc::not_enough_memory);
            }
            if ((control & SE_SELF_RELATIVE) != 0) {
                std::memcpy(descriptor_.get(), sd, length);
            } else if (!::MakeSelfRelativeSD(sd, descriptor_.get(), &length)) {
                descriptor_.reset();
                return last_error();
            }
            attributes_.lpSecurityDescriptor = descriptor_.get();
        }
        present_ = true;
        return {};
    }

    SECURITY_ATTRIBUTES* get() noexcept { return present_ ? &attributes_ : nullptr; }

private:
    std::unique_ptr<std::byte[]> descriptor_;
    SECURITY_ATTRIBUTES attributes_{};
    bool present_ = false;
};

// ---- events --------------------------------------------------------------------------------

// CreateEventW: creates the event, or opens it if it exists (`existed` says which).
inline unique_handle create_event(const object_name& name, bool manual_reset, SECURITY_ATTRIBUTES* sa,
                                  bool& existed, std::error_code& ec) noexcept
{
    unique_handle h(::CreateEventW(sa, manual_reset ? TRUE : FALSE, FALSE, name.empty() ? nullptr : name.c_str()));
    if (!h) {
        ec = last_error();
        existed = false;
        return {};
    }
    existed = ::GetLastError() == ERROR_ALREADY_EXISTS;
    ec.clear();
    return h;
}

// CreateEventW's answers that mean "this name is somebody else's": an object whose descriptor
// shuts this account out, or an object of another type under the name. For a derived name
// that is one slot lost, not a failure of the whole notification: the caller tries another.
inline bool name_is_taken(const std::error_code& ec) noexcept
{
    return ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category()) ||
           ec == std::error_code(ERROR_INVALID_HANDLE, std::system_category());
}

// Whether a named object exists. Only "no such name" counts as absent: a name we may not open
// (ERROR_ACCESS_DENIED) or that belongs to another object type is somebody's, so it exists.
inline bool object_exists(const object_name& name) noexcept
{
    HANDLE h = ::OpenEventW(SYNCHRONIZE, FALSE, name.c_str());
    if (h != nullptr) {
        ::CloseHandle(h);
        return true;
    }
    const DWORD error = ::GetLastError();
    return error != ERROR_FILE_NOT_FOUND && error != ERROR_PATH_NOT_FOUND;
}

// Milliseconds for a Win32 wait: rounded up (a wait never ends before its deadline) and kept
// below INFINITE.
inline DWORD wait_milliseconds(std::chrono::nanoseconds remaining) noexcept
{
    if (remaining <= remaining.zero()) {
        return 0;
    }
    const auto ms = (remaining.count() - 1) / 1000000 + 1;
    return ms >= static_cast<std::int64_t>(INFINITE - 1) ? INFINITE - 1 : static_cast<DWORD>(ms);
}

// ---- claims --------------------------------------------------------------------------------

// A slot in shared memory owned by one live process: a claim word (claim_word in
// notify_state.hpp) plus a named "liveness" event that only the owner holds open. The name
// carries the claim's generation. When the owner's process ends, for any reason, the kernel
// closes its handles and the name disappears: that is the one test for a dead owner, and it
// needs no process id (ids are reused) and no access to the owner's process (which another
// session or account may not grant).
class claim {
public:
    claim() noexcept = default;
    claim(claim&& other) noexcept
        : token_(std::move(other.token_)), word_(std::exchange(other.word_, nullptr)),
          value_(other.value_)
    {
    }
    claim& operator=(claim&& other) noexcept
    {
        if (this != &other) {
            release();
            token_ = std::move(other.token_);
            word_ = std::exchange(other.word_, nullptr);
            value_ = other.value_;
        }
        return *this;
    }
    claim(const claim&) = delete;
    claim& operator=(const claim&) = delete;
    ~claim() { release(); }

    explicit operator bool() const noexcept { return word_ != nullptr; }
    std::uint64_t value() const noexcept { return value_; }

    enum class result : std::uint8_t { claimed, busy, failed };

    // Claims `*word` if it is free, or if its owner is dead. `busy`: a live owner has it.
    static result try_claim(std::uint64_t* word, const object_name& base, std::u16string_view tag,
                            std::uint32_t index, SECURITY_ATTRIBUTES* sa, claim& out,
                            std::error_code& ec) noexcept
    {
        std::atomic_ref<std::uint64_t> ref(*word);
        std::uint64_t current = ref.load(std::memory_order_acquire);
        for (int attempt = 0; attempt < 8; ++attempt) {
            if (claim_word::is_claimed(current)) {
                const object_name owner =
                    derived_name(base, tag, index, true, claim_word::generation(current), ec);
                if (ec) {
                    return result::failed;
                }
                if (object_exists(owner)) {
                    return result::busy;
                }
            }
            const std::uint64_t next = claim_word::next_claim(current);
            const object_name mine = derived_name(base, tag, index, true, claim_word::generation(next), ec);
            if (ec) {
                return result::failed;
            }
            bool existed = false;
            unique_handle token = create_event(mine, true, sa, existed, ec);
            if (name_is_taken(ec)) {
                ec.clear();
                return result::busy; // somebody holds that liveness name (or squats it)
            }
            if (ec) {
                return result::failed;
            }
            if (existed) {
                // Another process is claiming the same generation right now.
                return result::busy;
            }
            if (ref.compare_exchange_strong(current, next, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
                out = claim();
                out.token_ = std::move(token);
                out.word_ = word;
                out.value_ = next;
                return result::claimed;
            }
            // The word moved (a release, or another claim); look at the new value.
        }
        return result::busy;
    }

    // Whether the claim currently in `*word` belongs to a live process (false if unclaimed).
    static bool owner_alive(const std::uint64_t* word, const object_name& base, std::u16string_view tag,
                            std::uint32_t index) noexcept
    {
        const std::uint64_t w =
            std::atomic_ref<std::uint64_t>(*const_cast<std::uint64_t*>(word)).load(std::memory_order_acquire);
        if (!claim_word::is_claimed(w)) {
            return false;
        }
        std::error_code ec;
        const object_name owner = derived_name(base, tag, index, true, claim_word::generation(w), ec);
        return ec || object_exists(owner);
    }

    // Gives the slot back. The word is released first and the name last, so nobody can see a
    // claimed word without its name while the owner lives.
    void release() noexcept
    {
        if (word_ != nullptr) {
            std::uint64_t expected = value_;
            std::atomic_ref<std::uint64_t>(*word_).compare_exchange_strong(
                expected, claim_word::released(value_), std::memory_order_acq_rel,
                std::memory_order_acquire);
            word_ = nullptr;
        }
        token_.reset();
    }

private:
    unique_handle token_;
    std::uint64_t* word_ = nullptr;
    std::uint64_t value_ = 0;
};

} // namespace winmmf::detail
