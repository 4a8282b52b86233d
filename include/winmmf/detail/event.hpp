// winmmf/detail/event.hpp - the named events waiters sleep on, and the names derived for them.
//
// Windows-only (the kernel half of notify_state.hpp). Nothing here allocates except
// security_copy, which runs when a notification is opened, never on a wait or notify path.
//
// Who holds a waiter slot is not decided here: claim words hold process identities
// (protocol/identity.hpp). An event only carries the wake-up, and its name carries the
// notification's random nonce, so nobody who may not read the notification can create it first;
// one that exists already is used only if its owner is the owner this process's objects get.
#pragma once

#include <winmmf/protocol/notify_state.hpp>
#include <winmmf/detail/section.hpp>
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

// Room kept for the longest suffix appended to a notification's or channel's name: the
// notification sibling "#<16 hex digits>" and a waiter's event "#<16 hex digits>w<index>" (20
// units). Checked when the object is created or opened, so that a name too long for its events
// fails at once rather than at the first wait.
inline constexpr std::size_t longest_suffix = 32;

// "#" and `nonce` in 16 hex digits: the tag that the names of a notification's events share.
inline object_name with_nonce(const object_name& base, std::uint64_t nonce, std::error_code& ec) noexcept
{
    char16_t suffix[17];
    suffix[0] = u'#';
    for (int i = 0; i < 16; ++i) {
        const unsigned nibble = static_cast<unsigned>((nonce >> (60 - 4 * i)) & 0xF);
        suffix[1 + i] = static_cast<char16_t>(nibble < 10 ? u'0' + nibble : u'a' + (nibble - 10));
    }
    return base.with_suffix(std::u16string_view(suffix, 17), ec);
}

// The event of waiter slot `index`: `prefix` + "w" + decimal index. Built in a fixed buffer: no
// allocation.
inline object_name waiter_event_name(const object_name& prefix, std::uint32_t index, std::error_code& ec) noexcept
{
    char16_t suffix[12];
    std::size_t n = 0;
    suffix[n++] = u'w';
    char16_t digits[10];
    std::size_t d = 0;
    do {
        digits[d++] = static_cast<char16_t>(u'0' + index % 10);
        index /= 10;
    } while (index != 0);
    while (d != 0) {
        suffix[n++] = digits[--d];
    }
    return prefix.with_suffix(std::u16string_view(suffix, n), ec);
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

// CreateEventW's answers that mean "this name is somebody else's": an object whose descriptor
// shuts this account out, or an object of another type under the name. For a waiter's event
// that is one slot lost, not a failure of the whole notification: the caller tries another.
inline bool name_is_taken(const std::error_code& ec) noexcept
{
    return ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category()) ||
           ec == std::error_code(ERROR_INVALID_HANDLE, std::system_category());
}

// Creates a waiter's auto-reset event, or opens the one that exists under the name - only if its
// owner is `ours` (the owner this process's objects get): an event that outlived a waiter of this
// account because a notifier still holds it is reused; one that another account made is refused
// as taken (ERROR_ACCESS_DENIED), so that nobody else can hold, reset or pin what we sleep on.
inline unique_handle create_waiter_event(const object_name& name, SECURITY_ATTRIBUTES* sa, const owner_sid* ours,
                                         std::error_code& ec) noexcept
{
    unique_handle h(::CreateEventExW(sa, name.c_str(), 0, EVENT_MODIFY_STATE | SYNCHRONIZE | READ_CONTROL));
    if (!h) {
        ec = last_error();
        return {};
    }
    if (::GetLastError() == ERROR_ALREADY_EXISTS) {
        owner_sid theirs;
        if (ours == nullptr || object_owner(h.get(), theirs) || !(theirs == *ours)) {
            ec = win32_error(ERROR_ACCESS_DENIED);
            return {};
        }
    }
    ec.clear();
    return h;
}

// An unnamed event (nothing another process can see): a cancel_token's.
inline unique_handle create_unnamed_event(bool manual_reset, std::error_code& ec) noexcept
{
    unique_handle h(::CreateEventW(nullptr, manual_reset ? TRUE : FALSE, FALSE, nullptr));
    ec = h ? std::error_code{} : last_error();
    return h;
}
inline void signal_event(HANDLE h) noexcept { ::SetEvent(h); }
inline void unsignal_event(HANDLE h) noexcept { ::ResetEvent(h); }

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

} // namespace winmmf::detail
