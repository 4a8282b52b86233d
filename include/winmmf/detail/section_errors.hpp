// winmmf/detail/section_errors.hpp - the Win32 half of protocol/win32_rules.hpp: gathers the facts a
// failed CreateFileMappingW / OpenFileMappingW leaves behind (which namespace, which
// privileges, whether the name exists) and asks the pure rules what the caller should get.
// Also the large-page plumbing that mapping.hpp's establish() uses.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/token.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/name.hpp>
#include <winmmf/protocol/win32_rules.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace winmmf::detail {

static_assert(protocol::win32::error_file_not_found == ERROR_FILE_NOT_FOUND);
static_assert(protocol::win32::error_path_not_found == ERROR_PATH_NOT_FOUND);
static_assert(protocol::win32::error_access_denied == ERROR_ACCESS_DENIED);
static_assert(protocol::win32::error_not_enough_memory == ERROR_NOT_ENOUGH_MEMORY);
static_assert(protocol::win32::error_not_supported == ERROR_NOT_SUPPORTED);
static_assert(protocol::win32::error_privilege_not_held == ERROR_PRIVILEGE_NOT_HELD);
static_assert(protocol::win32::error_no_system_resources == ERROR_NO_SYSTEM_RESOURCES);
static_assert(protocol::win32::error_commitment_limit == ERROR_COMMITMENT_LIMIT);
static_assert(protocol::win32::page_readwrite == PAGE_READWRITE);
static_assert(protocol::win32::sec_commit == SEC_COMMIT);
static_assert(protocol::win32::sec_large_pages == static_cast<std::uint32_t>(SEC_LARGE_PAGES));
static_assert(protocol::win32::file_map_read == FILE_MAP_READ);
static_assert(protocol::win32::file_map_write == FILE_MAP_WRITE);
#if defined(FILE_MAP_LARGE_PAGES)
static_assert(protocol::win32::file_map_large_pages == FILE_MAP_LARGE_PAGES);
#endif

// Whether any section (or other object: the name is then taken all the same) answers to `name`.
// Only ERROR_FILE_NOT_FOUND and ERROR_PATH_NOT_FOUND mean "nothing there"; access denied,
// or a name held by an event (ERROR_INVALID_HANDLE), mean something is.
inline protocol::name_presence probe_name(const name_char* name) noexcept
{
    const unique_handle section(::OpenFileMappingW(FILE_MAP_READ, FALSE, name));
    if (section) {
        return protocol::name_presence::present;
    }
    const DWORD error = ::GetLastError();
    return error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND ? protocol::name_presence::absent
                                                                          : protocol::name_presence::present;
}

// The error for a CreateFileMappingW of `name` that failed with `error` (read from
// GetLastError before anything else ran).
inline std::error_code create_error(const object_name& name, DWORD error, bool large_pages) noexcept
{
    protocol::create_failure facts;
    facts.win32_error = error;
    facts.large_pages = large_pages;
    if (error == ERROR_ACCESS_DENIED) {
        std::error_code ignored;
        const std::uint32_t session = process_session_id(ignored);
        facts.global_namespace = !ignored && protocol::creates_in_global_namespace(name.full(), session);
        if (facts.global_namespace) {
            facts.create_global = query_privilege(L"SeCreateGlobalPrivilege", ignored);
            facts.existing = probe_name(name.c_str());
        }
    }
    const errc e = protocol::classify_create_failure(facts);
    return e != errc{} ? make_error_code(e) : win32_error(error);
}

inline std::error_code open_error(DWORD error) noexcept
{
    const errc e = protocol::classify_open_failure(error);
    return e != errc{} ? make_error_code(e) : win32_error(error);
}

// For the message of an open that found nothing: where people usually meant to look. Local\x
// and Session\<n>\x are checked against Global\x, Global\x against Local\x. Returns "" when the
// other namespace has nothing either (or the name is custom).
inline std::string not_found_hint(const object_name& searched)
{
    if (searched.scope() == name_scope::custom) {
        return {};
    }
    const name_scope other =
        searched.scope() == name_scope::global ? name_scope::local : name_scope::global;
    std::error_code ec;
    const object_name candidate = object_name::make(name_ref(other, name_text(searched.object())), ec);
    if (ec) {
        return {};
    }
    // Only a mapping counts here (one we may not open included); an event of that name does not.
    const unique_handle section(::OpenFileMappingW(FILE_MAP_READ, FALSE, candidate.c_str()));
    if (!section && ::GetLastError() != ERROR_ACCESS_DENIED) {
        return {};
    }
    return " (but " + candidate.to_utf8() + " exists: open it with winmmf::" +
           (other == name_scope::global ? "global" : "local") + "(...))";
}

// ---- errors that name their object ---------------------------------------------------------

#if WINMMF_EXCEPTIONS
// The one way a throwing overload reports: what was attempted, on which object, and what the
// caller most likely got wrong - for a not_found, where else the name exists (Local\ and
// Global\ are the usual mix-up); for a lock wait that ran out, why it was refused last.
[[noreturn]] inline void throw_named(const std::error_code& ec, std::string_view what, const object_name& name)
{
    std::string message = "winmmf: ";
    message += what;
    message += ' ';
    message += name.empty() ? std::string("(not open)") : name.to_utf8();
    if (ec == errc::not_found && !name.empty()) {
        message += not_found_hint(name);
    }
    message += refusal_note(ec);
    throw_error(ec, message);
}

// The same for a name the caller gave, which may not even be valid.
[[noreturn]] inline void throw_named(const std::error_code& ec, std::string_view what, const name_ref& requested)
{
    std::error_code name_ec;
    const object_name name = object_name::make(requested, name_ec);
    if (name_ec) {
        throw_error(ec, "winmmf: " + std::string(what) + " (invalid name)");
    }
    throw_named(ec, what, name);
}

template <class Name>
void throw_if_failed(const std::error_code& ec, std::string_view what, const Name& name)
{
    if (ec) {
        throw_named(ec, what, name);
    }
}

// The throwing form of a call, from its std::error_code& form: `call(ec)`'s result, or the
// exception throw_named makes of its error. Every throwing overload of the library is this.
template <class Name, class Call>
auto or_throw(std::string_view what, const Name& name, Call&& call)
{
    std::error_code ec;
    if constexpr (std::is_void_v<decltype(call(ec))>) {
        call(ec);
        throw_if_failed(ec, what, name);
    } else {
        auto result = call(ec);
        throw_if_failed(ec, what, name);
        return result;
    }
}
#endif // WINMMF_EXCEPTIONS

// ---- large pages ---------------------------------------------------------------------------

// 0 when the processor or the system has no large pages.
inline std::size_t large_page_minimum() noexcept { return ::GetLargePageMinimum(); }

// How a creation starts out: with large pages or not, and if not although they were asked
// for, why.
struct large_page_plan {
    bool large = false;
    std::size_t page_size = 0;
    std::error_code fallback; // why `preferred` got normal pages
};

// Prepares a creation in `mode`. Fails only when `required` cannot even be attempted (no large
// pages on this system). The privilege is switched on if the account holds it; if it does
// not, the kernel has the last word (and refuses with ERROR_PRIVILEGE_NOT_HELD on Windows).
inline std::error_code plan_large_pages(large_page_mode mode, large_page_plan& plan) noexcept
{
    plan = {};
    plan.page_size = system_memory_info().page_size;
    if (mode == large_page_mode::off) {
        return {};
    }
    const std::size_t large = large_page_minimum();
    if (large == 0) {
        const std::error_code unsupported = win32_error(ERROR_NOT_SUPPORTED);
        if (mode == large_page_mode::required) {
            return unsupported;
        }
        plan.fallback = unsupported;
        return {};
    }
    std::error_code ignored;
    enable_privilege(L"SeLockMemoryPrivilege", ignored);
    plan.large = true;
    plan.page_size = large;
    return {};
}

// After a failed large-page creation: switches `plan` to normal pages if `mode` allows it for
// `error`, recording why. Returns false if the failure must be reported instead.
inline bool fall_back_from_large_pages(large_page_mode mode, DWORD error, large_page_plan& plan) noexcept
{
    if (!plan.large || !protocol::large_page_fallback_allowed(mode, error)) {
        return false;
    }
    const errc e = protocol::classify_create_failure(protocol::create_failure{error, false, privilege_state::unknown,
                                                          protocol::name_presence::unknown, true});
    plan.fallback = e != errc{} ? make_error_code(e) : win32_error(error);
    plan.large = false;
    plan.page_size = system_memory_info().page_size;
    return true;
}

} // namespace winmmf::detail
