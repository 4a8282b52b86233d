// winmmf/protocol/win32_rules.hpp - what a failed Win32 call means for the caller, decided by pure
// functions.
// Win32 shell: winmmf/detail/section_errors.hpp
//
// The same Win32 error can mean different things: ERROR_ACCESS_DENIED from CreateFileMappingW
// is a missing SeCreateGlobalPrivilege when a Global\ name does not exist yet, but a DACL that
// refuses us when it does. These rules are platform-independent on purpose, so every branch is
// unit-tested natively, including the ones Wine cannot produce (Wine lets anyone create
// Global\ objects and never refuses SEC_LARGE_PAGES). The Windows code only gathers the facts
// (detail/section_errors.hpp) and asks these functions.
#pragma once

#include <winmmf/error.hpp>
#include <winmmf/large_pages.hpp>
#include <winmmf/privilege_state.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace winmmf::protocol {

// The Win32 values these rules reason about, so that this header needs no <windows.h>. The
// Windows tests check each against the SDK's definition.
namespace win32 {
inline constexpr std::uint32_t error_file_not_found = 2;
inline constexpr std::uint32_t error_path_not_found = 3;
inline constexpr std::uint32_t error_access_denied = 5;
inline constexpr std::uint32_t error_not_enough_memory = 8;
inline constexpr std::uint32_t error_not_supported = 50;
inline constexpr std::uint32_t error_privilege_not_held = 1314;
inline constexpr std::uint32_t error_no_system_resources = 1450;
inline constexpr std::uint32_t error_commitment_limit = 1455;

inline constexpr std::uint32_t page_readwrite = 0x04;
inline constexpr std::uint32_t sec_commit = 0x08000000;
inline constexpr std::uint32_t sec_large_pages = 0x80000000;
inline constexpr std::uint32_t file_map_write = 0x0002; // SECTION_MAP_WRITE
inline constexpr std::uint32_t file_map_read = 0x0004;  // SECTION_MAP_READ (not SECTION_QUERY)
// Windows 10 1703 and later map a view of a SEC_LARGE_PAGES section with small pages unless
// this flag is given; older versions ignore it. Older SDKs do not define it.
inline constexpr std::uint32_t file_map_large_pages = 0x20000000;
} // namespace win32

// Whether an object of a given name exists, as far as a probe could tell.
enum class name_presence : std::uint8_t { unknown, absent, present };

// ---- namespaces ----------------------------------------------------------------------------

namespace detail {

// Exact, code unit by code unit: the kernel's "Global" and "Local" links are case-sensitive
// ("These keywords are case sensitive", Kernel Object Namespaces; Wine agrees: GLOBAL\x is
// ERROR_PATH_NOT_FOUND).
template <class CharT>
constexpr bool has_prefix(std::basic_string_view<CharT> s, std::string_view prefix) noexcept
{
    if (s.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (static_cast<std::uint32_t>(s[i]) != std::uint32_t{static_cast<unsigned char>(prefix[i])}) {
            return false;
        }
    }
    return true;
}

} // namespace detail

// True if creating `full_name` (prefix included, as the kernel sees it) from a process in
// session `caller_session` puts the object into the machine-wide namespace, which is what
// SeCreateGlobalPrivilege guards. Session 0 (services) owns that namespace and needs no
// privilege. Session\0\ is session 0's namespace, i.e. the global one.
template <class CharT>
constexpr bool creates_in_global_namespace(std::basic_string_view<CharT> full_name,
                                           std::uint32_t caller_session) noexcept
{
    if (caller_session == 0) {
        return false;
    }
    return detail::has_prefix(full_name, "Global\\") || detail::has_prefix(full_name, "Session\\0\\");
}

// ---- what a failure means --------------------------------------------------------------------

// The facts about a failed CreateFileMappingW that decide which error the caller gets.
struct create_failure {
    std::uint32_t win32_error = 0;
    bool global_namespace = false;                              // see creates_in_global_namespace
    privilege_state create_global = privilege_state::unknown;  // SeCreateGlobalPrivilege
    name_presence existing = name_presence::unknown;            // probed after the failure
    bool large_pages = false;                                   // SEC_LARGE_PAGES was asked for
};

// The winmmf condition for a failed creation, or errc{} to report the Win32 error unchanged.
//
// ERROR_ACCESS_DENIED becomes global_privilege_missing only when all of these hold: the object
// would be created in the global namespace from another session; the token does not have
// SeCreateGlobalPrivilege enabled; and no object of that name exists (an existing one that
// refuses us is a DACL matter, and stays ERROR_ACCESS_DENIED). An unreadable token proves
// nothing, so it keeps the Win32 error too.
constexpr errc classify_create_failure(const create_failure& f) noexcept
{
    if (f.win32_error == win32::error_access_denied && f.global_namespace &&
        f.existing != name_presence::present &&
        (f.create_global == privilege_state::absent || f.create_global == privilege_state::disabled)) {
        return errc::global_privilege_missing;
    }
    if (f.win32_error == win32::error_privilege_not_held && f.large_pages) {
        return errc::large_page_privilege_missing;
    }
    return errc{};
}

// The winmmf condition for a failed OpenFileMappingW, or errc{} to report it unchanged.
// ERROR_PATH_NOT_FOUND (a namespace that does not exist, such as Bogus\x or an unused
// Session\<n>\) stays a Win32 error: the name is malformed for this machine, not missing.
constexpr errc classify_open_failure(std::uint32_t win32_error) noexcept
{
    return win32_error == win32::error_file_not_found ? errc::not_found : errc{};
}

// ---- large pages -----------------------------------------------------------------------------

// Whether a large-page creation that failed with `win32_error` may be retried with normal
// pages. Only `preferred` falls back, and only for reasons that are about large pages: the
// privilege, no large-page support, or no contiguous physical memory left to back them. Every
// other error (a bad name, an existing object of another type, access denied) would fail the
// same way with normal pages, so it is reported as it is.
constexpr bool large_page_fallback_allowed(large_page_mode mode, std::uint32_t win32_error) noexcept
{
    if (mode != large_page_mode::preferred) {
        return false;
    }
    switch (win32_error) {
    case win32::error_privilege_not_held:
    case win32::error_not_supported:
    case win32::error_no_system_resources:
    case win32::error_not_enough_memory:
    case win32::error_commitment_limit:
        return true;
    default:
        return false;
    }
}

// The flags the section is created with: pagefile-backed, committed up front (large pages
// require SEC_COMMIT), read-write.
constexpr std::uint32_t section_attributes(bool large_pages) noexcept
{
    return win32::page_readwrite | win32::sec_commit | (large_pages ? win32::sec_large_pages : 0u);
}

// The access a view is mapped with. Never FILE_MAP_ALL_ACCESS: a DACL that grants read and
// write (and nothing else) must be enough.
constexpr std::uint32_t view_access(bool writable, bool large_pages) noexcept
{
    return win32::file_map_read | (writable ? win32::file_map_write : 0u) |
           (large_pages ? win32::file_map_large_pages : 0u);
}

} // namespace winmmf::protocol
