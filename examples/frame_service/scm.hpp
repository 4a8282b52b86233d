// Installing and removing the service with the Service Control Manager API.
#pragma once

#include "index_file.hpp"

#include "win.hpp"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace frame_service {

struct scm_outcome {
    int exit_code = 0; // 0 ok; see main.cpp for the table
    std::string message;
};

inline constexpr int exit_ok = 0;
inline constexpr int exit_usage = 1;
inline constexpr int exit_not_admin = 2;
inline constexpr int exit_scm_failure = 3;
inline constexpr int exit_runtime = 4;

namespace detail {

class service_handle {
public:
    explicit service_handle(SC_HANDLE h = nullptr) : h_(h) {}
    service_handle(const service_handle&) = delete;
    service_handle& operator=(const service_handle&) = delete;
    ~service_handle()
    {
        if (h_) {
            ::CloseServiceHandle(h_);
        }
    }
    SC_HANDLE get() const { return h_; }
    explicit operator bool() const { return h_ != nullptr; }

private:
    SC_HANDLE h_;
};

inline std::string system_message(DWORD code)
{
    return std::error_code(static_cast<int>(code), std::system_category()).message() + " (Win32 error " +
           std::to_string(code) + ")";
}

inline scm_outcome failure(const char* what, DWORD code)
{
    if (code == ERROR_ACCESS_DENIED) {
        return {exit_not_admin, std::string(what) +
                                    ": access denied. Installing and removing services needs an elevated "
                                    "prompt: right-click the terminal, \"Run as administrator\", and try again."};
    }
    return {exit_scm_failure, std::string(what) + ": " + system_message(code)};
}

// Arguments are validated option values: --index-dir and --source (a path, a camera's name) may
// contain spaces, none contains a quote. Inside quotes, CommandLineToArgvW takes backslashes
// before the closing quote as escapes, so trailing ones are doubled (C:\clips\ stays C:\clips\).
inline std::wstring quote(const std::wstring& arg)
{
    if (arg.find_first_of(L" \t") == std::wstring::npos && !arg.empty()) {
        return arg;
    }
    const std::size_t kept = arg.find_last_not_of(L'\\') + 1; // npos + 1 == 0: all backslashes
    return L"\"" + arg + std::wstring(arg.size() - kept, L'\\') + L"\"";
}

} // namespace detail

inline std::wstring own_executable_path()
{
    std::wstring path(32768, L'\0');
    path.resize(::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size())));
    return path;
}

// Registers the service so that the SCM starts `"<this exe>" service <args>`.
inline scm_outcome install_service(const std::wstring& name, const std::vector<std::string>& args)
{
    detail::service_handle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE));
    if (!scm) {
        return detail::failure("opening the Service Control Manager", ::GetLastError());
    }
    std::wstring command = L"\"" + own_executable_path() + L"\" service";
    for (const std::string& arg : args) {
        command += L" " + detail::quote(widen(arg));
    }
    const std::wstring display = L"winmmf frame service (" + name + L")";
    detail::service_handle service(::CreateServiceW(
        scm.get(), name.c_str(), display.c_str(), SERVICE_CHANGE_CONFIG | SERVICE_QUERY_STATUS,
        SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, command.c_str(), nullptr,
        nullptr, nullptr, nullptr /* LocalSystem */, nullptr));
    if (!service) {
        const DWORD error = ::GetLastError();
        if (error == ERROR_SERVICE_EXISTS) {
            return {exit_scm_failure, "a service named " + narrow(name) +
                                          " is already installed; run `frame_service uninstall` first"};
        }
        return detail::failure("creating the service", error);
    }
    std::wstring description =
        L"Publishes camera, video file or synthetic frames into Global\\ shared memory with winmmf frame channels.";
    SERVICE_DESCRIPTIONW info{description.data()};
    ::ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_DESCRIPTION, &info);
    return {exit_ok, "installed " + narrow(name) + ": " + narrow(command)};
}

// Stops the service if it runs (waiting up to 30 s) and deletes it.
inline scm_outcome uninstall_service(const std::wstring& name)
{
    detail::service_handle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    if (!scm) {
        return detail::failure("opening the Service Control Manager", ::GetLastError());
    }
    detail::service_handle service(
        ::OpenServiceW(scm.get(), name.c_str(), DELETE | SERVICE_STOP | SERVICE_QUERY_STATUS));
    if (!service) {
        const DWORD error = ::GetLastError();
        if (error == ERROR_SERVICE_DOES_NOT_EXIST) {
            return {exit_scm_failure, "no service named " + narrow(name) + " is installed"};
        }
        return detail::failure("opening the service", error);
    }
    SERVICE_STATUS status{};
    if (::ControlService(service.get(), SERVICE_CONTROL_STOP, &status)) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (::QueryServiceStatus(service.get(), &status) && status.dwCurrentState != SERVICE_STOPPED &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    if (!::DeleteService(service.get())) {
        const DWORD error = ::GetLastError();
        if (error != ERROR_SERVICE_MARKED_FOR_DELETE) {
            return detail::failure("deleting the service", error);
        }
    }
    return {exit_ok, "uninstalled " + narrow(name)};
}

} // namespace frame_service
