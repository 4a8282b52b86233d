// winmmf/detail/process.hpp - who a process is, and whether it is still running.
//
// The robust lock tags every lock it hands out with the holder's process id and a tag of the
// process's creation time, and asks here whether that holder still runs. Two rules shape the
// code below:
//
//  - A process id alone is not an identity: Windows reuses ids as soon as the last handle to
//    a dead process closes. The creation time (GetProcessTimes) tells a new process that got
//    the same id apart from the holder that died.
//  - Declaring a live holder dead would break mutual exclusion, so every doubt counts as
//    "running": a process we may not open (another user's, ERROR_ACCESS_DENIED), a call that
//    fails for another reason, an exit code we cannot tell from STILL_ACTIVE. Only a
//    positive answer - no such process, a signalled process object, another creation time -
//    makes a holder dead. A wrong "running" costs a wait; a wrong "dead" would cost data.
#pragma once

#include <winmmf/detail/win32.hpp>

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

enum class process_status : std::uint8_t {
    running, // exists and has not exited, or we cannot tell (see the rules above)
    exited,  // certainly gone: no process has this id, or its process object is signalled
};

struct process_probe {
    process_status status = process_status::running;
    bool has_creation_time = false; // false when the process may not be queried
    std::uint64_t creation_time = 0;
};

// What can be learnt about process `pid` right now without waiting. A handful of system
// calls (OpenProcess, WaitForSingleObject, GetProcessTimes, CloseHandle); callers keep it off
// their fast paths.
inline process_probe probe_process(DWORD pid) noexcept
{
    process_probe probe;
    bool can_wait = true;
    HANDLE handle = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid);
    if (handle == nullptr) {
        const DWORD error = ::GetLastError();
        if (error == ERROR_INVALID_PARAMETER) {
            // No process object with this id exists any more (Windows and Wine both say so
            // with ERROR_INVALID_PARAMETER).
            probe.status = process_status::exited;
            return probe;
        }
        if (error != ERROR_ACCESS_DENIED) {
            return probe; // unknown: assume running
        }
        // SYNCHRONIZE is often denied on other users' processes while limited query is not.
        handle = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
        if (handle == nullptr) {
            return probe; // it exists (access denied), and that is all we may know
        }
        can_wait = false;
    }
    const unique_handle owner(handle);
    if (can_wait) {
        const DWORD waited = ::WaitForSingleObject(handle, 0);
        if (waited == WAIT_OBJECT_0) {
            probe.status = process_status::exited; // terminated; someone still holds a handle
            return probe;
        }
    } else {
        // A process that exited with code 259 (STILL_ACTIVE) keeps looking alive here; the
        // rule above accepts that.
        DWORD code = 0;
        if (::GetExitCodeProcess(handle, &code) && code != STILL_ACTIVE) {
            probe.status = process_status::exited;
            return probe;
        }
    }
    probe.has_creation_time = process_creation_time(handle, probe.creation_time);
    return probe;
}

} // namespace winmmf::detail
