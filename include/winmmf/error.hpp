// winmmf/error.hpp - the library's error conditions and how they become exceptions.
//
// Conditions the library itself detects live in the `winmmf` category below. Failures of a
// Win32 call are reported as std::system_category() codes that carry the original
// GetLastError() value untouched, so callers can still compare against ERROR_* constants.
#pragma once

#include <string>
#include <system_error>

// WINMMF_EXCEPTIONS: 1 if the throwing overloads exist. It follows the compiler (exceptions off
// under -fno-exceptions, or MSVC without /EHsc); predefine it to 0 to drop them anyway. Without
// them only the noexcept std::error_code& forms remain, as in mio.
#if defined(__cpp_exceptions) || defined(_CPPUNWIND)
#ifndef WINMMF_EXCEPTIONS
#define WINMMF_EXCEPTIONS 1
#endif
// The noexcept forms catch std::bad_alloc where the compiler can throw it; with exceptions off
// an allocation failure ends the process, and the handler is compiled but discarded.
#define WINMMF_TRY try
#define WINMMF_CATCH(...) catch (__VA_ARGS__)
#else
#ifndef WINMMF_EXCEPTIONS
#define WINMMF_EXCEPTIONS 0
#elif WINMMF_EXCEPTIONS
#error "WINMMF_EXCEPTIONS is 1 but exceptions are disabled (-fno-exceptions, or MSVC without /EHsc)"
#endif
#define WINMMF_TRY if constexpr (true)
#define WINMMF_CATCH(...) else if constexpr (false)
#endif

namespace winmmf {

// Values are stable: they are part of the C ABI and of the command-line tool's output.
enum class errc : int {
    // names
    empty_name = 1,
    name_contains_backslash,
    name_contains_nul,
    name_too_long,
    invalid_utf8,
    invalid_utf16,
    // sizes and bounds
    zero_size,
    size_overflow,
    too_large,
    out_of_bounds,
    // lifetime and access
    already_exists,
    not_found,
    not_open,
    read_only,
    // the lock word
    read_locked,
    write_locked,
    uninitialized,
    max_readers,
    lock_violation,
    corrupt_lock_word,
    wrong_lock_policy,
    timeout,
    max_tries_reached,
    owner_dead,
    cancelled,
    // platform specifics
    large_page_privilege_missing,
    global_privilege_missing,
    not_winmmf_mapping,
    // frame channels and notifications
    wrong_layout,
    unsupported_layout_version,
    invalid_slot_count,
    channel_has_writer,
    end_of_stream,
    writer_gone,
    buffer_too_small,
    frame_overwritten,
    too_many_waiters,
    // co-tenants (docs/explanation/trust-model.md)
    uncommitted_view,
    foreign_owner,
    geometry_mismatch,
    frame_abandoned,
    // names a Rust WinMMF peer can share (check_winmmf_name, name.hpp)
    winmmf_name_too_long = 42,
    winmmf_name_not_ascii = 43,
    // typed access (guard::as, read<T>)
    misaligned = 44,
    // a mapping's companion notification (create_options::change_notification)
    no_change_notification = 45,
    // asynchronous waits (async.hpp)
    aborted = 46,
    operation_pending = 47,
};
// The two WinMMF name conditions were given their numbers explicitly; nothing may sit between.
static_assert(static_cast<int>(errc::frame_abandoned) + 1 == static_cast<int>(errc::winmmf_name_too_long));

namespace detail {

class winmmf_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "winmmf"; }

    std::string message(int value) const override
    {
        switch (static_cast<errc>(value)) {
        case errc::empty_name:
            return "the object name is empty";
        case errc::name_contains_backslash:
            return "the object name contains '\\'; only the namespace prefix may contain one "
                   "(use name_scope::custom to pass a full name such as Session\\1\\x)";
        case errc::name_contains_nul:
            return "the object name contains an embedded NUL character";
        case errc::name_too_long:
            return "the object name is longer than winmmf::max_name_length UTF-16 code units "
                   "(namespace prefix included); it is never truncated";
        case errc::invalid_utf8:
            return "the object name is not valid UTF-8";
        case errc::invalid_utf16:
            return "the object name is not valid UTF-16 or UTF-32 (unpaired surrogate or not a "
                   "Unicode scalar value)";
        case errc::zero_size:
            return "a mapping must hold at least one byte";
        case errc::size_overflow:
            return "the size overflows once the lock header and page rounding are added";
        case errc::too_large:
            return "the requested size is larger than the existing mapping";
        case errc::out_of_bounds:
            return "the offset and length reach past the end of the mapping";
        case errc::already_exists:
            return "a mapping with this name already exists";
        case errc::not_found:
            return "no mapping with this name exists in the namespace searched (Local\\ is per "
                   "session; a service's mapping is usually in Global\\)";
        case errc::not_open:
            return "the mapping is closed or was moved from";
        case errc::read_only:
            return "the mapping was opened read-only: writing, and taking a lock that must "
                   "update the lock word, are refused (for a frame reader: this account may not "
                   "write the channel's notification sibling, <name>#<nonce>, so it can poll but not sleep)";
        case errc::read_locked:
            return "the lock is held by one or more readers";
        case errc::write_locked:
            return "the lock is held by a writer";
        case errc::uninitialized:
            return "the lock word is uninitialized (creation not finished, or not a winmmf "
                   "mapping)";
        case errc::max_readers:
            return "the lock already has the maximum number of readers";
        case errc::lock_violation:
            return "unlock without a matching lock";
        case errc::corrupt_lock_word:
            return "the lock word holds a state the protocol can never produce";
        case errc::wrong_lock_policy:
            return "the mapping was created with a different lock policy";
        case errc::timeout:
            return "timed out waiting (for the lock, a notification or a frame)";
        case errc::max_tries_reached:
            return "gave up waiting for the lock after the maximum number of tries";
        case errc::owner_dead:
            return "the previous lock owner died while holding the lock; the lock was "
                   "acquired but the data may be inconsistent";
        case errc::cancelled:
            return "the wait was cancelled";
        case errc::large_page_privilege_missing:
            return "large pages need SeLockMemoryPrivilege (\"Lock pages in memory\"), which "
                   "this account does not hold: an administrator grants it in Local Security "
                   "Policy > User Rights Assignment (effective at the next logon), or use "
                   "large_page_mode::preferred to fall back to normal pages";
        case errc::global_privilege_missing:
            return "creating a Global\\ object needs SeCreateGlobalPrivilege: run as a service "
                   "or administrator, or let the service create the mapping and only open it "
                   "here";
        case errc::not_winmmf_mapping:
            return "the mapping does not carry a winmmf header";
        case errc::wrong_layout:
            return "the mapping holds a different layout than the one asked for (a frame channel, a "
                   "notification, or a WinMMF-compatible mapping), or its header does not add up";
        case errc::unsupported_layout_version:
            return "the mapping was created by a winmmf version with an incompatible layout";
        case errc::invalid_slot_count:
            return "a frame channel needs between 2 and 64 slots";
        case errc::channel_has_writer:
            return "another process is already this frame channel's writer";
        case errc::end_of_stream:
            return "the writer closed the frame channel: no more frames will come";
        case errc::writer_gone:
            return "the frame channel's writer process ended without closing the channel";
        case errc::buffer_too_small:
            return "the buffer is smaller than the frame";
        case errc::frame_overwritten:
            return "the writer overwrote the frame while it was being read (the reader is slower "
                   "than the channel's slot count allows; copy out, or create it with more slots)";
        case errc::too_many_waiters:
            return "all 64 waiter slots of the notification are in use";
        case errc::uncommitted_view:
            return "the mapping's pages are reserved but not committed (a section created with SEC_RESERVE, "
                   "not by winmmf): reading it would fault, so it is refused";
        case errc::foreign_owner:
            return "the object exists but is owned by another account than the objects this process creates, "
                   "so it is not taken over (someone may have created it first under this name)";
        case errc::geometry_mismatch:
            return "the existing frame channel has another frame size or slot count than asked for, so it is "
                   "not taken over (close its readers, or open it with the geometry it has)";
        case errc::frame_abandoned:
            return "this writable frame was abandoned by a later begin_frame() or publish() of the same writer; "
                   "nothing was published";
        case errc::winmmf_name_too_long:
            return "the whole name, prefix included, is more than 63 bytes, which the Rust crate WinMMF cuts "
                   "(57 bytes fit after Local\\, 56 after Global\\): a WinMMF peer would open another name";
        case errc::winmmf_name_not_ascii:
            return "WinMMF passes names to the ANSI API; only ASCII names meet (a non-ASCII name reaches the "
                   "kernel as other characters, and a WinMMF peer never finds it)";
        case errc::misaligned:
            return "the object at this offset would not be aligned for its type (the WinMMF layout's data "
                   "start 4 bytes into the view; a robust mapping's are 1024-byte aligned)";
        case errc::no_change_notification:
            return "this mapping was created or opened without its change notification "
                   "(create_options::change_notification / open_options::change_notification)";
        case errc::aborted:
            return "the object was closed, moved onto or destroyed while the asynchronous wait was pending";
        case errc::operation_pending:
            return "an asynchronous wait is pending on this frame reader: it takes one frame at a time "
                   "(wait for the completion, or cancel it, before the next take)";
        }
        return "unknown winmmf error";
    }

    std::error_condition default_error_condition(int value) const noexcept override
    {
        // Lets generic code compare our codes against the portable std::errc conditions.
        switch (static_cast<errc>(value)) {
        case errc::empty_name:
        case errc::name_contains_backslash:
        case errc::name_contains_nul:
        case errc::invalid_utf8:
        case errc::invalid_utf16:
        case errc::zero_size:
            return std::errc::invalid_argument;
        case errc::name_too_long:
            return std::errc::filename_too_long;
        case errc::size_overflow:
        case errc::too_large:
            return std::errc::value_too_large;
        case errc::out_of_bounds:
            return std::errc::result_out_of_range;
        case errc::already_exists:
            return std::errc::file_exists;
        case errc::not_found:
            return std::errc::no_such_file_or_directory;
        case errc::not_open:
            return std::errc::bad_file_descriptor;
        case errc::read_only:
        case errc::large_page_privilege_missing:
        case errc::global_privilege_missing:
            return std::errc::permission_denied;
        case errc::read_locked:
        case errc::write_locked:
        case errc::max_readers:
            return std::errc::resource_unavailable_try_again;
        case errc::timeout:
        case errc::max_tries_reached:
            return std::errc::timed_out;
        case errc::owner_dead:
            return std::errc::owner_dead;
        case errc::cancelled:
            return std::errc::operation_canceled;
        case errc::lock_violation:
            return std::errc::operation_not_permitted;
        case errc::invalid_slot_count:
            return std::errc::invalid_argument;
        case errc::channel_has_writer:
            return std::errc::device_or_resource_busy;
        case errc::writer_gone:
            return std::errc::broken_pipe;
        case errc::buffer_too_small:
            return std::errc::message_size;
        case errc::frame_overwritten:
        case errc::too_many_waiters:
            return std::errc::resource_unavailable_try_again;
        case errc::uncommitted_view:
            return std::errc::bad_address;
        case errc::foreign_owner:
            return std::errc::permission_denied;
        case errc::geometry_mismatch:
            return std::errc::invalid_argument;
        case errc::frame_abandoned:
            return std::errc::operation_not_permitted;
        case errc::winmmf_name_too_long:
            return std::errc::filename_too_long;
        case errc::winmmf_name_not_ascii:
        case errc::misaligned:
            return std::errc::invalid_argument;
        case errc::no_change_notification:
            return std::errc::operation_not_supported;
        case errc::aborted:
            return std::errc::operation_canceled;
        case errc::operation_pending:
            return std::errc::operation_in_progress;
        default:
            return {value, *this};
        }
    }
};

} // namespace detail

inline const std::error_category& winmmf_category() noexcept
{
    static const detail::winmmf_category_impl category;
    return category;
}

inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), winmmf_category()};
}

inline std::error_condition make_error_condition(errc e) noexcept
{
    return {static_cast<int>(e), winmmf_category()};
}

} // namespace winmmf

template <>
struct std::is_error_code_enum<winmmf::errc> : std::true_type {};

#if WINMMF_EXCEPTIONS
namespace winmmf::detail {

// Throwing overloads are thin wrappers around the error_code ones; this keeps the message
// context (what was attempted, on which object) in one place.
[[noreturn]] inline void throw_error(const std::error_code& ec, const std::string& what)
{
    throw std::system_error(ec, what);
}

inline void throw_if(const std::error_code& ec, const char* what)
{
    if (ec) {
        throw std::system_error(ec, what);
    }
}

} // namespace winmmf::detail
#endif // WINMMF_EXCEPTIONS
