// Running one function as a Windows service, or in the foreground, with the same stop signal.
//
// The Service Control Manager wants three things from a service: StartServiceCtrlDispatcher
// called from main within 30 s, a status of SERVICE_RUNNING soon after ServiceMain starts,
// and a prompt answer to every control. So ServiceMain registers the handler, reports
// "running" at once, and hands the slow start-up (creating channels, writing the index) to a
// worker thread; the handler only flips a manual-reset event that the worker waits on.
#pragma once

#include "text.hpp"

#include "win.hpp"

#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace frame_service {

// The worker: runs until `stop` is signalled, returns a process/service exit code.
using worker_fn = std::function<int(HANDLE stop, const std::vector<std::string>& start_args)>;

namespace detail {

struct service_state {
    std::wstring name;
    worker_fn worker;
    SERVICE_STATUS_HANDLE status_handle = nullptr;
    HANDLE stop = nullptr;
    SERVICE_STATUS status{};
    DWORD checkpoint = 0;

    void report(DWORD state, DWORD exit_code = NO_ERROR, DWORD wait_hint_ms = 0)
    {
        status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
        status.dwCurrentState = state;
        status.dwControlsAccepted =
            state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
        // A service-specific code tells `sc query` why we stopped; 0 means a clean stop.
        status.dwWin32ExitCode = exit_code == NO_ERROR ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
        status.dwServiceSpecificExitCode = exit_code;
        status.dwWaitHint = wait_hint_ms;
        status.dwCheckPoint =
            state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : ++checkpoint;
        ::SetServiceStatus(status_handle, &status);
    }
};

inline service_state& state()
{
    static service_state s;
    return s;
}

inline DWORD WINAPI control_handler(DWORD control, DWORD, void*, void*)
{
    service_state& s = state();
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        s.report(SERVICE_STOP_PENDING, NO_ERROR, 10000);
        ::SetEvent(s.stop);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

inline void WINAPI service_main(DWORD argc, LPWSTR* argv)
{
    service_state& s = state();
    if (argc > 0 && argv[0] != nullptr) {
        s.name = argv[0]; // the name it was installed under, whatever the dispatch table said
    }
    s.status_handle = ::RegisterServiceCtrlHandlerExW(s.name.c_str(), control_handler, nullptr);
    if (s.status_handle == nullptr) {
        return;
    }
    s.report(SERVICE_START_PENDING, NO_ERROR, 5000);
    // argv[0] is the service name; the rest are the arguments given to StartService.
    std::vector<std::string> start_args;
    for (DWORD i = 1; i < argc; ++i) {
        start_args.push_back(narrow(argv[i]));
    }
    s.report(SERVICE_RUNNING);
    int exit_code = 0;
    std::thread worker([&] { exit_code = s.worker(s.stop, start_args); });
    worker.join();
    s.report(SERVICE_STOPPED, static_cast<DWORD>(exit_code));
}

} // namespace detail

// Called from main when the SCM started the process. Returns false (GetLastError set) if the
// process was not started by the SCM, e.g. ERROR_FAILED_SERVICE_CONTROLLER_CONNECT.
inline bool run_as_service(const std::wstring& name, worker_fn worker)
{
    detail::service_state& s = detail::state();
    s.name = name;
    s.worker = std::move(worker);
    s.stop = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (s.stop == nullptr) {
        return false;
    }
    SERVICE_TABLE_ENTRYW table[] = {{s.name.data(), detail::service_main}, {nullptr, nullptr}};
    const bool ok = ::StartServiceCtrlDispatcherW(table) != FALSE;
    ::CloseHandle(s.stop);
    return ok;
}

namespace detail {
inline HANDLE console_stop = nullptr;
inline BOOL WINAPI console_handler(DWORD)
{
    ::SetEvent(console_stop);
    return TRUE;
}
} // namespace detail

// The same worker in the foreground: Ctrl-C, Ctrl-Break or closing the console stops it.
inline int run_in_foreground(const worker_fn& worker, const std::vector<std::string>& args)
{
    detail::console_stop = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    ::SetConsoleCtrlHandler(detail::console_handler, TRUE);
    const int code = worker(detail::console_stop, args);
    ::SetConsoleCtrlHandler(detail::console_handler, FALSE);
    ::CloseHandle(detail::console_stop);
    return code;
}

} // namespace frame_service
