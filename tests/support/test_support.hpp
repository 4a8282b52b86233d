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
#include <system_error>
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

inline constexpr std::chrono::milliseconds child_timeout{120000};

// Polls `condition` until it holds or a generous bound passes; the bound only keeps a broken
// build from hanging, nothing is measured.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds bound = std::chrono::seconds(60))
{
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        ::Sleep(1);
    }
    return true;
}

// A child process that is killed if the test lets go of it while it still runs, so a failing
// test never leaves processes behind holding mappings.
class child_process {
public:
    child_process() = default;

    static child_process start(std::wstring_view program, const std::vector<std::string>& args)
    {
        return start_path(executable_dir() + std::wstring(program), args);
    }

    // `exe` is a full path. With `startup` given, the child inherits the standard handles it
    // names (and every other inheritable handle: keep those few).
    static child_process start_path(const std::wstring& exe, const std::vector<std::string>& args,
                                    STARTUPINFOW* startup = nullptr)
    {
        std::wstring line;
        append_quoted(line, exe);
        for (const std::string& arg : args) {
            line += L' ';
            append_quoted(line, widen(arg));
        }
        STARTUPINFOW plain{};
        plain.cb = sizeof plain;
        PROCESS_INFORMATION info{};
        if (!::CreateProcessW(exe.c_str(), line.data(), nullptr, nullptr, startup != nullptr ? TRUE : FALSE, 0,
                              nullptr, nullptr, startup != nullptr ? startup : &plain, &info)) {
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
    std::optional<DWORD> wait(std::chrono::milliseconds timeout = child_timeout)
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

    bool running() const { return ::WaitForSingleObject(process_.get(), 0) == WAIT_TIMEOUT; }
    HANDLE handle() const noexcept { return process_.get(); }

private:
    detail::unique_handle process_;
};

// A file in %TEMP% with a unique name.
inline std::wstring temp_file(std::string_view tag)
{
    wchar_t dir[MAX_PATH + 1];
    const DWORD n = ::GetTempPathW(MAX_PATH + 1, dir);
    if (n == 0 || n > MAX_PATH) {
        throw std::system_error(detail::last_error(), "GetTempPathW");
    }
    return std::wstring(dir, n) + widen(unique_name(tag)) + L".txt";
}

// The whole file, read through a handle of our own while a writer may still append to it.
inline std::string read_file(const std::wstring& path)
{
    const HANDLE h = ::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                   nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        return {};
    }
    const detail::unique_handle file(h);
    std::string text;
    char buffer[4096];
    DWORD got = 0;
    while (::ReadFile(file.get(), buffer, sizeof buffer, &got, nullptr) && got != 0) {
        text.append(buffer, got);
    }
    return text;
}

inline detail::unique_handle inheritable_file(const std::wstring& path, DWORD access, DWORD disposition)
{
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    const HANDLE h = ::CreateFileW(path.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                   &inherit, disposition, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        throw std::system_error(detail::last_error(), "CreateFileW " + narrow(path));
    }
    return detail::unique_handle(h);
}

enum class input_kind { empty, data, pipe };

// A program run with stdout and stderr going to files (never to a pipe, which a Wine helper
// process could hold open for ever) and stdin from a file, or from a pipe this object holds
// the writing end of. Killed if still running when the object goes.
class captured_process {
public:
    static captured_process start(const std::wstring& exe, const std::vector<std::string>& args,
                                  input_kind input = input_kind::empty, std::string_view data = {})
    {
        captured_process p;
        p.out_path_ = temp_file("out");
        p.err_path_ = temp_file("err");
        const detail::unique_handle out = inheritable_file(p.out_path_, GENERIC_WRITE, CREATE_ALWAYS);
        const detail::unique_handle err = inheritable_file(p.err_path_, GENERIC_WRITE, CREATE_ALWAYS);
        detail::unique_handle in;
        if (input == input_kind::pipe) {
            SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
            HANDLE read_end = nullptr;
            HANDLE write_end = nullptr;
            if (!::CreatePipe(&read_end, &write_end, &inherit, 0)) {
                throw std::system_error(detail::last_error(), "CreatePipe");
            }
            // Only the read end goes to the child; if it inherited the write end too, the pipe
            // could never report its end.
            ::SetHandleInformation(write_end, HANDLE_FLAG_INHERIT, 0);
            in = detail::unique_handle(read_end);
            p.stdin_writer_ = detail::unique_handle(write_end);
        } else {
            p.in_path_ = temp_file("in");
            {
                const detail::unique_handle w = inheritable_file(p.in_path_, GENERIC_WRITE, CREATE_ALWAYS);
                DWORD written = 0;
                if (!data.empty() &&
                    !::WriteFile(w.get(), data.data(), static_cast<DWORD>(data.size()), &written, nullptr)) {
                    throw std::system_error(detail::last_error(), "WriteFile");
                }
            }
            in = inheritable_file(p.in_path_, GENERIC_READ, OPEN_EXISTING);
        }
        STARTUPINFOW startup{};
        startup.cb = sizeof startup;
        startup.dwFlags = STARTF_USESTDHANDLES;
        startup.hStdInput = in.get();
        startup.hStdOutput = out.get();
        startup.hStdError = err.get();
        p.process_ = child_process::start_path(exe, args, &startup);
        return p;
    }

    captured_process() = default;
    captured_process(captured_process&&) noexcept = default;
    captured_process& operator=(captured_process&&) noexcept = default;
    ~captured_process()
    {
        process_.kill(); // before the files go: it may still hold them open
        for (const std::wstring* path : {&out_path_, &err_path_, &in_path_}) {
            if (!path->empty()) {
                ::DeleteFileW(path->c_str());
            }
        }
    }

    std::optional<DWORD> wait(std::chrono::milliseconds timeout = child_timeout) { return process_.wait(timeout); }
    void kill(DWORD exit_code = 999) { process_.kill(exit_code); }
    bool running() const { return process_.running(); }
    HANDLE handle() const noexcept { return process_.handle(); }
    void close_stdin() { stdin_writer_.reset(); }
    std::string out() const { return read_file(out_path_); }
    std::string err() const { return read_file(err_path_); }

    // Waits until stdout contains `text`; false if the process exits (or time runs out) first.
    bool wait_for_output(std::string_view text, std::chrono::milliseconds timeout = child_timeout)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const bool was_running = running();
            if (out().find(text) != std::string::npos) {
                return true;
            }
            if (!was_running) {
                return false;
            }
            ::Sleep(10);
        }
        return false;
    }

private:
    child_process process_;
    detail::unique_handle stdin_writer_;
    std::wstring out_path_;
    std::wstring err_path_;
    std::wstring in_path_;
};

// The first `n` bytes of the section named `full` (a full kernel name), read through a view of
// its own: for "nothing was changed" checks that must not go through the code under test.
inline std::vector<unsigned char> section_bytes(const std::string& full, std::size_t n)
{
    const detail::unique_handle section(::OpenFileMappingW(FILE_MAP_READ, FALSE, widen(full).c_str()));
    if (!section) {
        throw std::system_error(detail::last_error(), "OpenFileMappingW " + full);
    }
    const detail::unique_view view(::MapViewOfFile(section.get(), FILE_MAP_READ, 0, 0, n));
    if (!view) {
        throw std::system_error(detail::last_error(), "MapViewOfFile " + full);
    }
    std::vector<unsigned char> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = std::atomic_ref<unsigned char>(*reinterpret_cast<unsigned char*>(view.get() + i))
                     .load(std::memory_order_relaxed);
    }
    return out;
}

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
