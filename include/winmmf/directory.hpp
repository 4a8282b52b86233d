// winmmf/directory.hpp - which named objects a namespace holds: the `ipcs` that Windows lacks.
//
//   for (const winmmf::named_object& o : winmmf::list_named_objects(winmmf::name_scope::local).objects) {
//       if (o.is_section()) {
//           std::cout << o.name.to_utf8() << "\n";   // Local\frames
//       }
//   }
//
// The namespace's object directory is read (NtOpenDirectoryObject / NtQueryDirectoryObject,
// detail/object_directory.hpp); nothing in it is opened. What each object holds is inspect()'s
// question (inspect.hpp), and an object listed here may still refuse this account.
#pragma once

#include <winmmf/detail/object_directory.hpp>
#include <winmmf/detail/token.hpp>
#include <winmmf/detail/utf.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/name.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace winmmf {

// One object of a namespace.
struct named_object {
    // As this process names it: Local\x, Global\x or Session\<n>\x, by the scope listed.
    object_name name{};
    // The object manager's type name, UTF-8: "Section" (a file mapping), "Event", "Mutant" (a
    // mutex), "Semaphore", "SymbolicLink" (Local, Global, Session), "Directory", ...
    std::string type;

    bool is_section() const noexcept { return type == "Section"; }
    bool is_event() const noexcept { return type == "Event"; }
};

struct object_listing {
    // In the order the kernel gave them (which is no order in particular).
    std::vector<named_object> objects;
    // Entries left out because their names cannot be an object_name: longer than
    // max_name_length with the prefix, an embedded NUL, or an unpaired surrogate. Nothing made
    // through winmmf (or any Win32 API taking a C string) has such a name; NT-native programs can.
    std::size_t skipped = 0;
    // The directory read: L"\\Sessions\\1\\BaseNamedObjects", L"\\BaseNamedObjects".
    std::wstring directory;
};

// The directory a scope's objects live in. `session_id` applies to name_scope::session only, as
// for a name_ref; name_scope::local is this process's session (0, a service's, shares
// \BaseNamedObjects with Global\). name_scope::custom names no directory: ERROR_INVALID_PARAMETER.
inline std::wstring named_object_directory(name_scope scope, std::uint32_t session_id, std::error_code& ec) noexcept
{
    WINMMF_TRY {
        switch (scope) {
        case name_scope::global:
            ec.clear();
            return detail::base_named_objects_path(true, 0);
        case name_scope::local: {
            const std::uint32_t own = detail::process_session_id(ec);
            return ec ? std::wstring() : detail::base_named_objects_path(false, own);
        }
        case name_scope::session:
            ec.clear();
            return detail::base_named_objects_path(false, session_id);
        case name_scope::custom:
            break;
        }
        ec = detail::win32_error(ERROR_INVALID_PARAMETER);
    } WINMMF_CATCH(const std::bad_alloc&) {
        ec = std::make_error_code(std::errc::not_enough_memory);
    }
    return {};
}

// Every object in the namespace `scope` names (local, global, or session with `session_id`).
// Errors: the Win32 error of the directory's open or read (NTSTATUS as RtlNtStatusToDosError
// gives it: ERROR_ACCESS_DENIED, ERROR_PATH_NOT_FOUND for a session that does not exist),
// ERROR_INVALID_PARAMETER for name_scope::custom, std::errc::not_enough_memory.
inline object_listing list_named_objects(name_scope scope, std::uint32_t session_id, std::error_code& ec) noexcept
{
    object_listing listing;
    listing.directory = named_object_directory(scope, session_id, ec);
    if (ec) {
        return {};
    }
    WINMMF_TRY {
        std::vector<detail::directory_entry> entries;
        if ((ec = detail::read_object_directory(listing.directory, entries))) {
            return {};
        }
        listing.objects.reserve(entries.size());
        for (const detail::directory_entry& e : entries) {
            std::error_code invalid;
            named_object o;
            o.name = object_name::make(name_ref(scope, name_text(std::wstring_view(e.name)), session_id), invalid);
            if (invalid) {
                ++listing.skipped;
                continue;
            }
            o.type = detail::utf::to_utf8_lossy(std::wstring_view(e.type));
            listing.objects.push_back(std::move(o));
        }
    } WINMMF_CATCH(const std::bad_alloc&) {
        ec = std::make_error_code(std::errc::not_enough_memory);
        return {};
    }
    return listing;
}

inline object_listing list_named_objects(name_scope scope, std::error_code& ec) noexcept
{
    return list_named_objects(scope, 0, ec);
}

#if WINMMF_EXCEPTIONS
inline object_listing list_named_objects(name_scope scope, std::uint32_t session_id = 0)
{
    std::error_code ec;
    object_listing listing = list_named_objects(scope, session_id, ec);
    detail::throw_if(ec, "winmmf: list_named_objects");
    return listing;
}
#endif

} // namespace winmmf
