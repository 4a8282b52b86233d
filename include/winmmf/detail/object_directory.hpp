// winmmf/detail/object_directory.hpp - the object manager's directories, read through ntdll:
// NtOpenDirectoryObject and NtQueryDirectoryObject, which have no import library and no header
// in the SDK ("you must use the LoadLibrary and GetProcAddress functions"), so they are resolved
// at run time, as process.hpp resolves NtQuerySystemInformation. Used by directory.hpp.
//
// Where a namespace prefix leads: Global\ is \BaseNamedObjects, and the Local\ of session n is
// \Sessions\<n>\BaseNamedObjects - except session 0's (services'), whose Local\ is
// \BaseNamedObjects itself.
#pragma once

#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace winmmf::detail {

// ---- the NT structures (Microsoft's documentation, as quoted) -------------------------------

// UNICODE_STRING (ntdef.h): Length and MaximumLength in bytes; Buffer not necessarily
// NUL-terminated.
struct nt_unicode_string {
    USHORT length;
    USHORT maximum_length;
    PWSTR buffer;
};

// OBJECT_ATTRIBUTES (ntdef.h): Length is sizeof(OBJECT_ATTRIBUTES); with RootDirectory null,
// ObjectName is a fully qualified object name.
struct nt_object_attributes {
    ULONG length;
    HANDLE root_directory;
    nt_unicode_string* object_name;
    ULONG attributes;
    PVOID security_descriptor;
    PVOID security_quality_of_service;
};

// OBJECT_DIRECTORY_INFORMATION (NtQueryDirectoryObject, Remarks): the buffer receives "one or
// more OBJECT_DIRECTORY_INFORMATION structures, the last one being NULL, followed by strings that
// contain the names of the directory entries".
struct nt_directory_information {
    nt_unicode_string name;
    nt_unicode_string type_name;
};

static_assert(sizeof(nt_unicode_string) == 2 * sizeof(void*));
static_assert(sizeof(nt_object_attributes) == 6 * sizeof(void*));
static_assert(sizeof(nt_directory_information) == 4 * sizeof(void*));

inline constexpr ACCESS_MASK directory_query = 0x0001; // DIRECTORY_QUERY (NtOpenDirectoryObject)
inline constexpr ULONG obj_case_insensitive = 0x00000040;      // OBJ_CASE_INSENSITIVE (ntdef.h)
inline constexpr LONG status_more_entries = 0x00000105;        // a success code: call again
inline constexpr LONG status_no_more_entries = static_cast<LONG>(0x8000001AL);
inline constexpr LONG status_buffer_overflow = static_cast<LONG>(0x80000005L);
inline constexpr LONG status_buffer_too_small = static_cast<LONG>(0xC0000023L);
inline constexpr LONG status_not_implemented = static_cast<LONG>(0xC0000002L);

// ---- ntdll, resolved once ------------------------------------------------------------------

struct ntdll_directory_calls {
    using open_fn = LONG(WINAPI*)(HANDLE*, ACCESS_MASK, nt_object_attributes*);
    using query_fn = LONG(WINAPI*)(HANDLE, PVOID, ULONG, BOOLEAN, BOOLEAN, ULONG*, ULONG*);
    using status_fn = ULONG(WINAPI*)(LONG);
    open_fn open = nullptr;
    query_fn query = nullptr;
    status_fn to_win32 = nullptr; // RtlNtStatusToDosError
};

inline const ntdll_directory_calls& ntdll_directory() noexcept
{
    static const ntdll_directory_calls calls = [] {
        ntdll_directory_calls c;
        const HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
        if (ntdll != nullptr) {
            c.open = reinterpret_cast<ntdll_directory_calls::open_fn>(
                reinterpret_cast<void*>(::GetProcAddress(ntdll, "NtOpenDirectoryObject")));
            c.query = reinterpret_cast<ntdll_directory_calls::query_fn>(
                reinterpret_cast<void*>(::GetProcAddress(ntdll, "NtQueryDirectoryObject")));
            c.to_win32 = reinterpret_cast<ntdll_directory_calls::status_fn>(
                reinterpret_cast<void*>(::GetProcAddress(ntdll, "RtlNtStatusToDosError")));
        }
        return c;
    }();
    return calls;
}

// An NTSTATUS as the Win32 error Windows itself would report for it (RtlNtStatusToDosError:
// STATUS_ACCESS_DENIED is ERROR_ACCESS_DENIED, STATUS_OBJECT_PATH_NOT_FOUND is
// ERROR_PATH_NOT_FOUND, ...; ERROR_MR_MID_NOT_FOUND for a status without one).
inline std::error_code nt_status_error(LONG status) noexcept
{
    const ntdll_directory_calls& nt = ntdll_directory();
    return win32_error(nt.to_win32 != nullptr ? static_cast<DWORD>(nt.to_win32(status)) : ERROR_MR_MID_NOT_FOUND);
}

// ---- where a namespace lives -----------------------------------------------------------------

inline std::wstring base_named_objects_path(bool global, std::uint32_t session)
{
    if (global || session == 0) {
        return L"\\BaseNamedObjects";
    }
    return L"\\Sessions\\" + std::to_wstring(session) + L"\\BaseNamedObjects";
}

// ---- reading a directory -----------------------------------------------------------------------

struct directory_entry {
    std::wstring name; // one path component: the object's name inside the directory
    std::wstring type; // the object manager's type name: L"Section", L"Event", L"SymbolicLink", ...
};

// Every entry of the directory at `path` (a full object manager path), in the order the kernel
// gives them. A directory changes while it is read: an object made meanwhile may be missed, one
// closed meanwhile may still be listed.
inline std::error_code read_object_directory(std::wstring_view path, std::vector<directory_entry>& out) noexcept
{
    out.clear();
    const ntdll_directory_calls& nt = ntdll_directory();
    if (nt.open == nullptr || nt.query == nullptr) {
        return win32_error(ERROR_PROC_NOT_FOUND);
    }
    if (path.empty() || path.size() > 0x7FFF) {
        return win32_error(ERROR_INVALID_PARAMETER);
    }
    WINMMF_TRY {
        std::wstring path_text(path); // the structure wants a non-const buffer
        nt_unicode_string object_name{static_cast<USHORT>(path_text.size() * sizeof(wchar_t)),
                                      static_cast<USHORT>(path_text.size() * sizeof(wchar_t)), path_text.data()};
        nt_object_attributes attributes{sizeof(nt_object_attributes), nullptr, &object_name, obj_case_insensitive,
                                        nullptr, nullptr};
        HANDLE raw = nullptr;
        const LONG opened = nt.open(&raw, directory_query, &attributes);
        if (opened < 0) {
            return nt_status_error(opened);
        }
        const unique_handle directory(raw);

        // The largest entry is two structures and two names of at most 65534 bytes each, so a
        // buffer that has grown to this size holds at least one entry.
        constexpr std::size_t largest_buffer = 1u << 20;
        std::vector<nt_directory_information> buffer(16 * 1024 / sizeof(nt_directory_information));
        ULONG context = 0;
        bool restart = true;
        // Many entries per call, as Windows does; one per call where that is all there is (Wine 8
        // answers STATUS_NOT_IMPLEMENTED for more than one).
        bool single = false;
        for (;;) {
            const ULONG bytes = static_cast<ULONG>(buffer.size() * sizeof(nt_directory_information));
            const ULONG before = context;
            ULONG returned = 0;
            std::memset(buffer.data(), 0, bytes);
            const LONG status = nt.query(directory.get(), buffer.data(), bytes, static_cast<BOOLEAN>(single ? 1 : 0),
                                         static_cast<BOOLEAN>(restart ? 1 : 0), &context, &returned);
            if (status == status_no_more_entries) {
                return {};
            }
            if (status == status_not_implemented && !single) {
                single = true;
                context = before;
                continue;
            }
            const bool none_fit = status == status_buffer_too_small || status == status_buffer_overflow ||
                                  (status == status_more_entries && buffer[0].name.buffer == nullptr &&
                                   buffer[0].type_name.buffer == nullptr);
            if (none_fit) {
                // Not even the next entry fits (Windows says STATUS_BUFFER_TOO_SMALL, Wine 8
                // STATUS_BUFFER_OVERFLOW, later Wine STATUS_MORE_ENTRIES with nothing in it): grow,
                // and ask for the same entry again.
                if (std::size_t{bytes} >= largest_buffer) {
                    return nt_status_error(status);
                }
                const std::size_t wanted = std::min(std::max<std::size_t>(returned, std::size_t{bytes} * 2), largest_buffer);
                buffer.assign((wanted + sizeof(nt_directory_information) - 1) / sizeof(nt_directory_information),
                              nt_directory_information{});
                context = before;
                continue;
            }
            if (status < 0) {
                return nt_status_error(status);
            }
            // The entries: up to the NULL one, or the one entry asked for (Wine 8 puts the strings
            // straight after it, with no NULL entry). Each name must lie inside the buffer.
            const auto* base = reinterpret_cast<const std::byte*>(buffer.data());
            const auto inside = [&](const nt_unicode_string& str) {
                if (str.length % 2 != 0 || (str.length != 0 && str.buffer == nullptr)) {
                    return false;
                }
                const auto* p = reinterpret_cast<const std::byte*>(str.buffer);
                return str.length == 0 ||
                       (p >= base && p <= base + bytes && static_cast<std::size_t>(base + bytes - p) >= str.length);
            };
            std::size_t count = 0;
            for (std::size_t i = 0; i < (single ? 1 : buffer.size()); ++i) {
                const nt_directory_information& e = buffer[i];
                if (e.name.buffer == nullptr && e.type_name.buffer == nullptr) {
                    break;
                }
                if (!inside(e.name) || !inside(e.type_name)) {
                    return win32_error(ERROR_INVALID_DATA);
                }
                out.push_back({std::wstring(e.name.buffer, e.name.length / sizeof(wchar_t)),
                               std::wstring(e.type_name.buffer, e.type_name.length / sizeof(wchar_t))});
                ++count;
            }
            // The context is the index of the next entry. One that did not move on although
            // entries came back means the scan started again (a RestartScan read as true): stop
            // rather than list the same entries for ever.
            if (!restart && count != 0 && context <= before) {
                return win32_error(ERROR_INVALID_DATA);
            }
            restart = false;
        }
    } WINMMF_CATCH(const std::bad_alloc&) {
        out.clear();
        return std::make_error_code(std::errc::not_enough_memory);
    }
}

} // namespace winmmf::detail
