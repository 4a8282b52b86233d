// winmmf/detail/process.hpp - who this process is, whether another one still runs, and the Win32
// environment the shared-memory protocols wait in.
//
// Every role a process holds in shared memory is tagged with its identity (protocol/identity.hpp:
// process id plus a tag of its creation time), and this file answers "is that holder certainly
// gone?". The facts are gathered here; protocol::certainly_gone judges them. Two rules:
//
//  - A process id alone is not an identity: Windows reuses ids as soon as the last handle to a
//    dead process closes. The creation time tells a new process with the same id apart.
//  - Only positive evidence makes a holder dead. The kernel's answers cannot be faked by another
//    process: a co-tenant may keep a handle to a dead process open (its object stays, signalled:
//    still dead to us), or start processes hoping to get a dead holder's id (another creation
//    time: still dead to us). Where a holder's process may not be opened at all - a service's,
//    seen from a user's program - its creation time is read from the system's process list,
//    which every account may read.
#pragma once

#include <winmmf/detail/backoff.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/protocol/identity.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace winmmf::detail {

struct process_identity {
    DWORD pid = 0;
    // FILETIME units (100 ns since 1601). Zero if it could not be read.
    std::uint64_t creation_time = 0;
};

inline bool process_creation_time(HANDLE process, std::uint64_t& out) noexcept
{
    FILETIME creation{}, exit{}, kernel{}, user{};
    if (!::GetProcessTimes(process, &creation, &exit, &kernel, &user)) {
        return false;
    }
    out = (std::uint64_t{creation.dwHighDateTime} << 32) | creation.dwLowDateTime;
    return true;
}

// Read once: neither value can change while the process runs. GetProcessTimes on the
// pseudo-handle of the current process cannot fail for lack of access.
inline const process_identity& current_process() noexcept
{
    static const process_identity self = [] {
        process_identity id;
        id.pid = ::GetCurrentProcessId();
        process_creation_time(::GetCurrentProcess(), id.creation_time);
        return id;
    }();
    return self;
}

// This process as every role it takes is tagged.
inline protocol::identity current_identity() noexcept
{
    const process_identity& self = current_process();
    return {self.pid, protocol::creation_tag(self.creation_time)};
}

// Threads of one process start their search for a free robust reader slot at different places.
inline std::size_t reader_slot_hint() noexcept
{
    return static_cast<std::size_t>((std::uint64_t{::GetCurrentThreadId()} * 0x9E3779B97F4A7C15ull) >> 40);
}

// ---- the system's process list -----------------------------------------------------------------

// The start of SYSTEM_PROCESS_INFORMATION as NtQuerySystemInformation(SystemProcessInformation)
// returns it (winternl.h shows these fields as Reserved1[48]; the layout has been stable since
// Windows NT and is the same in Wine). Only what the lookup reads.
struct process_list_entry {
    ULONG next_entry_offset;
    ULONG number_of_threads;
    LARGE_INTEGER working_set_private_size;
    ULONG hard_fault_count;
    ULONG number_of_threads_high_watermark;
    ULONGLONG cycle_time;
    LARGE_INTEGER create_time;
    LARGE_INTEGER user_time;
    LARGE_INTEGER kernel_time;
    struct {
        USHORT length;
        USHORT maximum_length;
        PWSTR buffer;
    } image_name;
    LONG base_priority;
    HANDLE unique_process_id;
};
static_assert(offsetof(process_list_entry, create_time) == 32);

enum class listed_process : std::uint8_t { unknown, absent, present };

// Looks `pid` up in the system's list of running processes. A slow path (the list is every
// process and thread on the machine), taken only where a process may not be opened; the buffer
// comes from VirtualAlloc, so the C++ heap is never touched on a waiting path.
inline listed_process find_in_process_list(DWORD pid, std::uint64_t& creation_time) noexcept
{
    using query_fn = LONG(WINAPI*)(ULONG, PVOID, ULONG, PULONG);
    static const auto query = [] {
        const HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
        return ntdll != nullptr ? reinterpret_cast<query_fn>(reinterpret_cast<void*>(
                                      ::GetProcAddress(ntdll, "NtQuerySystemInformation")))
                                : nullptr;
    }();
    if (query == nullptr) {
        return listed_process::unknown;
    }
    constexpr ULONG system_process_information = 5;
    constexpr LONG status_info_length_mismatch = static_cast<LONG>(0xC0000004);
    ULONG size = 256 * 1024;
    for (int attempt = 0; attempt < 4; ++attempt) {
        void* buffer = ::VirtualAlloc(nullptr, size, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
        if (buffer == nullptr) {
            return listed_process::unknown;
        }
        ULONG needed = 0;
        const LONG status = query(system_process_information, buffer, size, &needed);
        listed_process result = listed_process::unknown;
        if (status >= 0) {
            result = listed_process::absent;
            const auto* bytes = static_cast<const std::byte*>(buffer);
            std::size_t offset = 0;
            for (;;) {
                if (offset + sizeof(process_list_entry) > size) {
                    break; // a list that runs off the buffer: stop, and keep what was found
                }
                const auto* entry = reinterpret_cast<const process_list_entry*>(bytes + offset);
                if (static_cast<DWORD>(reinterpret_cast<std::uintptr_t>(entry->unique_process_id)) == pid) {
                    creation_time = static_cast<std::uint64_t>(entry->create_time.QuadPart);
                    result = listed_process::present;
                    break;
                }
                if (entry->next_entry_offset == 0) {
                    break;
                }
                offset += entry->next_entry_offset;
            }
        }
        ::VirtualFree(buffer, 0, MEM_RELEASE);
        if (status != status_info_length_mismatch) {
            return result;
        }
        // The list grew between the calls: ask for what it needs now, with room to grow.
        size = needed > size ? needed + needed / 2 : size * 2;
    }
    return listed_process::unknown;
}

// ---- liveness -----------------------------------------------------------------------------------

// What can be learnt about process `pid` right now without waiting: a handful of system calls
// (OpenProcess, WaitForSingleObject or GetExitCodeProcess, GetProcessTimes, CloseHandle), and the
// process list where the process may not be opened. Callers keep it off their fast paths.
inline protocol::process_facts probe_process(DWORD pid) noexcept
{
    using facts = protocol::process_facts;
    facts f;
    HANDLE handle = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid);
    bool can_wait = true;
    if (handle == nullptr) {
        const DWORD error = ::GetLastError();
        if (error == ERROR_INVALID_PARAMETER) {
            // No process object with this id exists any more (Windows and Wine both say so).
            f.open = facts::opened::no_such_process;
            return f;
        }
        if (error != ERROR_ACCESS_DENIED) {
            f.open = facts::opened::failed;
            return f;
        }
        // SYNCHRONIZE is often denied on other users' processes while limited query is not.
        handle = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
        if (handle == nullptr) {
            f.open = facts::opened::denied;
            std::uint64_t created = 0;
            switch (find_in_process_list(pid, created)) {
            case listed_process::absent:
                f.listed = facts::listing::absent;
                break;
            case listed_process::present:
                f.listed = facts::listing::present;
                f.has_creation_time = true;
                f.creation_time = created;
                break;
            case listed_process::unknown:
                break;
            }
            return f;
        }
        can_wait = false;
    }
    const unique_handle owner(handle);
    f.open = facts::opened::yes;
    if (can_wait) {
        f.signalled = ::WaitForSingleObject(handle, 0) == WAIT_OBJECT_0;
    } else {
        DWORD code = 0;
        if (::GetExitCodeProcess(handle, &code)) {
            f.exit_code_known = true;
            f.still_active = code == STILL_ACTIVE;
        }
    }
    f.has_creation_time = process_creation_time(handle, f.creation_time);
    return f;
}

// False only when the holder is certainly gone.
inline bool process_alive(protocol::identity holder) noexcept
{
    return !protocol::certainly_gone(holder, probe_process(holder.pid));
}

// The Win32 environment of the shared-memory protocols (protocol::environment and the robust
// lock's): the steady clock, the liveness probe above, and backoff for pauses.
class win32_environment {
public:
    std::chrono::nanoseconds now() const noexcept
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now().time_since_epoch());
    }
    bool alive(protocol::identity holder) noexcept { return process_alive(holder); }
    void pause(std::chrono::nanoseconds remaining) noexcept
    {
        backoff_.pause(std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining));
    }
    void relax() noexcept { cpu_relax(); }

private:
    backoff backoff_;
};

} // namespace winmmf::detail
