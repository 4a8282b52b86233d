// Helpers shared by the Windows tests and the child program: unique object names, child
// processes, and named events for hand-shakes between processes.
#pragma once

#include <winmmf/detail/win32.hpp>
#include <winmmf/name.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace winmmf::test {

// Names unique per process and per call, so parallel test runs never meet.
inline std::string unique_name(std::string_view tag)
{
    static std::atomic<unsigned> counter{0};
    return "winmmf-test-" + std::to_string(::GetCurrentProcessId()) + "-" +
           std::to_string(counter.fetch_add(1)) + "-" + std::string(tag);
}

inline std::wstring widen(std::string_view utf8)
{
    if (utf8.empty()) {
        return {};
    }
    const int n = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(),
                                        static_cast<int>(utf8.size()), nullptr, 0);
    if (n <= 0) {
        throw std::runtime_error("widen: invalid UTF-8");
    }
    std::wstring out(static_cast<std::size_t>(n), L'\0');
    ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()),
                          out.data(), n);
    return out;
}

inline std::string narrow(std::wstring_view utf16)
{
    if (utf16.empty()) {
        return {};
    }
    const int n = ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()),
                                        nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<std::size_t>(n), '\0');
    ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), out.data(), n,
                          nullptr, nullptr);
    return out;
}

// "local", "global", "session:<id>" or "custom", as the child program takes it on its
// command line.
inline name_ref parse_name(std::string_view scope, std::string_view object)
{
    if (scope == "local") {
        return local(object);
    }
    if (scope == "global") {
        return global(object);
    }
    if (scope == "custom") {
        return custom(object);
    }
    if (scope.substr(0, 8) == "session:") {
        return session(static_cast<std::uint32_t>(std::stoul(std::string(scope.substr(8)))), object);
    }
    throw std::invalid_argument("unknown scope: " + std::string(scope));
}

inline std::string scope_arg(name_scope scope)
{
    switch (scope) {
    case name_scope::local:
        return "local";
    case name_scope::global:
        return "global";
    case name_scope::custom:
        return "custom";
    case name_scope::session:
        break;
    }
    throw std::invalid_argument("scope_arg: pass session scopes as \"session:<id>\"");
}

// The directory of the running executable: the tests find the child program beside them.
inline std::wstring executable_dir()
{
    std::wstring path(32768, L'\0');
    const DWORD n = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    path.resize(n);
    return path.substr(0, path.find_last_of(L"\\/") + 1);
}

// Quotes one argument the way CommandLineToArgvW and the C runtime split it back.
inline void append_quoted(std::wstring& line, std::wstring_view arg)
{
    if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring_view::npos) {
        line += arg;
        return;
    }
    line += L'"';
    std::size_t backslashes = 0;
    for (wchar_t c : arg) {
        if (c == L'\\') {
            ++backslashes;
            continue;
        }
        if (c == L'"') {
            line.append(backslashes * 2 + 1, L'\\');
        } else {
            line.append(backslashes, L'\\');
        }
        backslashes = 0;
        line += c;
    }
    line.append(backslashes * 2, L'\\');
    line += L'"';
}

// A child process that is killed if the test lets go of it while it still runs, so a failing
// test never leaves processes behind holding mappings.
class child_process {
public:
    child_process() = default;

    static child_process start(std::wstring_view program, const std::vector<std::string>& args)
    {
        const std::wstring exe = executable_dir() + std::wstring(program);
        std::wstring line;
        append_quoted(line, exe);
        for (const std::string& arg : args) {
            line += L' ';
            append_quoted(line, widen(arg));
        }
        STARTUPINFOW startup{};
        startup.cb = sizeof startup;
        PROCESS_INFORMATION info{};
        if (!::CreateProcessW(exe.c_str(), line.data(), nullptr, nullptr, FALSE, 0, nullptr,
                              nullptr, &startup, &info)) {
            throw std::system_error(detail::last_error(), "CreateProcessW " + narrow(exe));
        }
        ::CloseHandle(info.hThread);
        child_process child;
        child.process_ = detail::unique_handle(info.hProcess);
        return child;
    }

    child_process(child_process&&) noexcept = default;
    child_process& operator=(child_process&&) noexcept = default;
    ~child_process() { kill(); }

    // The exit code, or nullopt if it is still running after `timeout`.
    std::optional<DWORD> wait(std::chrono::milliseconds timeout)
    {
        if (::WaitForSingleObject(process_.get(), static_cast<DWORD>(timeout.count())) != WAIT_OBJECT_0) {
            return std::nullopt;
        }
        DWORD code = 0;
        ::GetExitCodeProcess(process_.get(), &code);
        return code;
    }

    void kill(DWORD exit_code = 999)
    {
        if (process_ && ::WaitForSingleObject(process_.get(), 0) == WAIT_TIMEOUT) {
            ::TerminateProcess(process_.get(), exit_code);
            ::WaitForSingleObject(process_.get(), 10000);
        }
    }

    HANDLE handle() const noexcept { return process_.get(); }

private:
    detail::unique_handle process_;
};

inline constexpr std::chrono::milliseconds child_timeout{120000};

// Runs winmmf_child.exe with `args` and returns its exit code (or -1 if it timed out and was
// killed).
inline long run_child(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = child_timeout)
{
    child_process child = child_process::start(L"winmmf_child.exe", args);
    const std::optional<DWORD> code = child.wait(timeout);
    return code ? static_cast<long>(*code) : -1;
}

inline long run_peer(const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = child_timeout)
{
    child_process child = child_process::start(L"winmmf_raw_peer.exe", args);
    const std::optional<DWORD> code = child.wait(timeout);
    return code ? static_cast<long>(*code) : -1;
}

// A manual-reset named event: one process signals "ready" or "go", the other waits for it.
class named_event {
public:
    static named_event create(const std::string& name)
    {
        named_event e;
        e.handle_ = detail::unique_handle(::CreateEventW(nullptr, TRUE, FALSE, widen(name).c_str()));
        if (!e.handle_) {
            throw std::system_error(detail::last_error(), "CreateEventW " + name);
        }
        return e;
    }
    static named_event open(const std::string& name)
    {
        named_event e;
        e.handle_ = detail::unique_handle(
            ::OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, widen(name).c_str()));
        if (!e.handle_) {
            throw std::system_error(detail::last_error(), "OpenEventW " + name);
        }
        return e;
    }
    void set() { ::SetEvent(handle_.get()); }
    bool wait(std::chrono::milliseconds timeout = child_timeout)
    {
        return ::WaitForSingleObject(handle_.get(), static_cast<DWORD>(timeout.count())) == WAIT_OBJECT_0;
    }
    // Waits for the event, or for `process` to exit first (then false).
    bool wait_or_exit(HANDLE process, std::chrono::milliseconds timeout = child_timeout)
    {
        const HANDLE handles[2] = {handle_.get(), process};
        return ::WaitForMultipleObjects(2, handles, FALSE, static_cast<DWORD>(timeout.count())) == WAIT_OBJECT_0;
    }

private:
    detail::unique_handle handle_;
};

inline std::string to_hex(const void* data, std::size_t size)
{
    static constexpr char digits[] = "0123456789abcdef";
    const auto* bytes = static_cast<const unsigned char*>(data);
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 15];
    }
    return out;
}

inline std::vector<std::byte> from_hex(std::string_view hex)
{
    const auto nibble = [](char c) -> unsigned {
        if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
        if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
        throw std::invalid_argument("from_hex: not a hex digit");
    };
    if (hex.size() % 2 != 0) {
        throw std::invalid_argument("from_hex: odd length");
    }
    std::vector<std::byte> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::byte>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    }
    return out;
}

} // namespace winmmf::test
