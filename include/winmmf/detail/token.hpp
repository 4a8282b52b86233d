// winmmf/detail/token.hpp - the access token the kernel checks, its privileges and its user,
// and an owner for memory the security APIs hand out with LocalAlloc.
//
// "The token the kernel checks" is the calling thread's impersonation token when it has one,
// the process token otherwise: privileges and the default owner come from there, so queries
// and adjustments are made there too.
#pragma once

#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/protocol/win32_rules.hpp>

#include <sddl.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#if defined(_MSC_VER)
#pragma comment(lib, "advapi32.lib")
#endif

namespace winmmf::detail {

// Owns memory that a Win32 API allocated with LocalAlloc (security descriptors from the SDDL
// converters, SID strings, token information buffers).
template <class T>
class unique_local {
public:
    unique_local() noexcept = default;
    explicit unique_local(T* p) noexcept : p_(p) {}
    unique_local(unique_local&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
    unique_local& operator=(unique_local&& other) noexcept
    {
        if (this != &other) {
            reset();
            p_ = std::exchange(other.p_, nullptr);
        }
        return *this;
    }
    unique_local(const unique_local&) = delete;
    unique_local& operator=(const unique_local&) = delete;
    ~unique_local() { reset(); }

    T* get() const noexcept { return p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    void reset() noexcept
    {
        if (T* const p = std::exchange(p_, nullptr)) {
            ::LocalFree(p);
        }
    }

private:
    T* p_ = nullptr;
};

// The effective token, opened with `access`.
inline unique_handle open_effective_token(DWORD access, std::error_code& ec) noexcept
{
    HANDLE token = nullptr;
    // OpenAsSelf: the check is made against the process, so an impersonated client without
    // access to its own token does not make this fail.
    if (::OpenThreadToken(::GetCurrentThread(), access, TRUE, &token)) {
        ec.clear();
        return unique_handle(token);
    }
    if (::GetLastError() != ERROR_NO_TOKEN) {
        ec = last_error();
        return {};
    }
    if (!::OpenProcessToken(::GetCurrentProcess(), access, &token)) {
        ec = last_error();
        return {};
    }
    ec.clear();
    return unique_handle(token);
}

// GetTokenInformation into a LocalAlloc'd buffer of the size the token asks for.
inline unique_local<void> token_information(HANDLE token, TOKEN_INFORMATION_CLASS what,
                                            std::error_code& ec) noexcept
{
    DWORD needed = 0;
    if (::GetTokenInformation(token, what, nullptr, 0, &needed)) {
        ec = win32_error(ERROR_INVALID_DATA); // nothing fits in zero bytes
        return {};
    }
    if (::GetLastError() != ERROR_INSUFFICIENT_BUFFER) {
        ec = last_error();
        return {};
    }
    unique_local<void> buffer(::LocalAlloc(LMEM_FIXED, needed));
    if (!buffer) {
        ec = last_error();
        return {};
    }
    if (!::GetTokenInformation(token, what, buffer.get(), needed, &needed)) {
        ec = last_error();
        return {};
    }
    ec.clear();
    return buffer;
}

inline bool lookup_privilege(const wchar_t* name, LUID& luid, std::error_code& ec) noexcept
{
    if (!::LookupPrivilegeValueW(nullptr, name, &luid)) {
        ec = last_error();
        return false;
    }
    ec.clear();
    return true;
}

inline privilege_state privilege_in(HANDLE token, const LUID& luid, std::error_code& ec) noexcept
{
    const unique_local<void> info = token_information(token, TokenPrivileges, ec);
    if (ec) {
        return privilege_state::unknown;
    }
    const auto* privileges = static_cast<const TOKEN_PRIVILEGES*>(info.get());
    for (DWORD i = 0; i < privileges->PrivilegeCount; ++i) {
        const LUID_AND_ATTRIBUTES& p = privileges->Privileges[i];
        if (p.Luid.LowPart == luid.LowPart && p.Luid.HighPart == luid.HighPart) {
            return (p.Attributes & SE_PRIVILEGE_ENABLED) != 0 ? privilege_state::enabled
                                                               : privilege_state::disabled;
        }
    }
    return privilege_state::absent;
}

inline privilege_state query_privilege(const wchar_t* name, std::error_code& ec) noexcept
{
    LUID luid{};
    if (!lookup_privilege(name, luid, ec)) {
        return privilege_state::unknown;
    }
    const unique_handle token = open_effective_token(TOKEN_QUERY, ec);
    if (ec) {
        return privilege_state::unknown;
    }
    return privilege_in(token.get(), luid, ec);
}

// Switches the privilege on in the effective token. Returns the state afterwards: enabled, or
// absent when the account does not hold it (AdjustTokenPrivileges "succeeds" then, with
// ERROR_NOT_ALL_ASSIGNED). `unknown` with `ec` set if the token could not be adjusted.
inline privilege_state enable_privilege(const wchar_t* name, std::error_code& ec) noexcept
{
    LUID luid{};
    if (!lookup_privilege(name, luid, ec)) {
        return privilege_state::unknown;
    }
    const unique_handle token = open_effective_token(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, ec);
    if (ec) {
        return privilege_state::unknown;
    }
    TOKEN_PRIVILEGES request{};
    request.PrivilegeCount = 1;
    request.Privileges[0].Luid = luid;
    request.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
    if (!::AdjustTokenPrivileges(token.get(), FALSE, &request, 0, nullptr, nullptr)) {
        ec = last_error();
        return privilege_state::unknown;
    }
    if (::GetLastError() == ERROR_NOT_ALL_ASSIGNED) {
        ec.clear();
        return privilege_state::absent;
    }
    // Read it back rather than trusting the call: this is what the kernel will see.
    return privilege_in(token.get(), luid, ec);
}

// The effective token's user SID as a string ("S-1-5-21-...").
inline std::string token_user_sid(std::error_code& ec) noexcept
{
    const unique_handle token = open_effective_token(TOKEN_QUERY, ec);
    if (ec) {
        return {};
    }
    const unique_local<void> info = token_information(token.get(), TokenUser, ec);
    if (ec) {
        return {};
    }
    wchar_t* text = nullptr;
    if (!::ConvertSidToStringSidW(static_cast<const TOKEN_USER*>(info.get())->User.Sid, &text)) {
        ec = last_error();
        return {};
    }
    const unique_local<wchar_t> owned(text);
    WINMMF_TRY {
        std::string sid;
        for (const wchar_t* p = owned.get(); *p != L'\0'; ++p) {
            sid += static_cast<char>(*p); // a SID string is ASCII: S, digits and dashes
        }
        return sid;
    } WINMMF_CATCH(...) {
        ec = std::make_error_code(std::errc::not_enough_memory);
        return {};
    }
}

// A self-relative security descriptor from SDDL (ConvertStringSecurityDescriptorToSecurity-
// DescriptorW), owned; malformed SDDL fails with that function's error.
inline unique_local<void> descriptor_from_sddl(const wchar_t* sddl, std::error_code& ec) noexcept
{
    PSECURITY_DESCRIPTOR raw = nullptr;
    if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &raw, nullptr)) {
        ec = last_error();
        return {};
    }
    ec.clear();
    return unique_local<void>(raw);
}

// The descriptor as SDDL: owner, group, DACL and label.
inline std::wstring descriptor_to_sddl(PSECURITY_DESCRIPTOR sd, std::error_code& ec)
{
    wchar_t* text = nullptr;
    if (!::ConvertSecurityDescriptorToStringSecurityDescriptorW(
            sd, SDDL_REVISION_1,
            OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
                LABEL_SECURITY_INFORMATION,
            &text, nullptr)) {
        ec = last_error();
        return {};
    }
    const unique_local<wchar_t> owned(text);
    ec.clear();
    return std::wstring(owned.get());
}

// The terminal-services session the process runs in (0 for services).
inline std::uint32_t process_session_id(std::error_code& ec) noexcept
{
    DWORD session = 0;
    if (!::ProcessIdToSessionId(::GetCurrentProcessId(), &session)) {
        ec = last_error();
        return 0;
    }
    ec.clear();
    return session;
}

} // namespace winmmf::detail
