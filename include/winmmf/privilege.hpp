// winmmf/privilege.hpp - the privileges named shared memory runs into, asked about up front.
//
//   SeCreateGlobalPrivilege  creating (never opening) a Global\ object from a session other
//                            than 0. Services, LocalSystem and administrators hold it,
//                            enabled; a standard user does not.
//   SeLockMemoryPrivilege    creating a section with large pages. No account holds it by
//                            default; an administrator grants it ("Lock pages in memory").
//
// Every query reads the token the kernel checks: the calling thread's impersonation token if
// it has one, else the process token.
#pragma once

#include <winmmf/detail/token.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/protocol/win32_rules.hpp>

#include <system_error>

namespace winmmf {

inline constexpr const wchar_t* create_global_privilege_name = L"SeCreateGlobalPrivilege";
inline constexpr const wchar_t* lock_memory_privilege_name = L"SeLockMemoryPrivilege";

// Whether the token holds the privilege `name` ("SeCreateGlobalPrivilege", ...), and whether it
// is enabled.
inline privilege_state query_privilege(const wchar_t* name, std::error_code& ec) noexcept
{
    return detail::query_privilege(name, ec);
}
#if WINMMF_EXCEPTIONS
inline privilege_state query_privilege(const wchar_t* name)
{
    std::error_code ec;
    const privilege_state state = query_privilege(name, ec);
    detail::throw_if(ec, "winmmf: query_privilege");
    return state;
}
#endif

// True if this process (or the thread's impersonation token) may create Global\ objects: it
// holds SeCreateGlobalPrivilege, enabled. A process in session 0 needs no privilege for that,
// whatever this says; see protocol::creates_in_global_namespace().
inline bool has_create_global_privilege(std::error_code& ec) noexcept
{
    return query_privilege(create_global_privilege_name, ec) == privilege_state::enabled;
}
#if WINMMF_EXCEPTIONS
inline bool has_create_global_privilege()
{
    return query_privilege(create_global_privilege_name) == privilege_state::enabled;
}
#endif

// Switches SeLockMemoryPrivilege on when the account holds it, as large-page creation needs
// (create_options::large_pages does this by itself). Returns true once it is enabled; false
// with errc::large_page_privilege_missing when the account does not hold it. The change lasts
// for the token's lifetime, as with any AdjustTokenPrivileges.
inline bool enable_lock_memory_privilege(std::error_code& ec) noexcept
{
    const privilege_state state = detail::enable_privilege(lock_memory_privilege_name, ec);
    if (ec) {
        return false;
    }
    if (state != privilege_state::enabled) {
        ec = errc::large_page_privilege_missing;
        return false;
    }
    return true;
}
#if WINMMF_EXCEPTIONS
inline void enable_lock_memory_privilege()
{
    std::error_code ec;
    enable_lock_memory_privilege(ec);
    detail::throw_if(ec, "winmmf: enable_lock_memory_privilege");
}
#endif

} // namespace winmmf
