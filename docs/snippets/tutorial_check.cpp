// Runs the tutorial (docs/tutorial/getting-started.md) as a newcomer would: starts
// tutorial_writer.exe, runs tutorial_reader.exe until it reads the message, "presses Enter" (closes
// the writer's standard input), and runs the reader again, which must now find nothing (exit 2).
// The three programs sit side by side in the build.
#include <winmmf/winmmf.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace {

std::wstring beside_me(const wchar_t* file)
{
    wchar_t path[MAX_PATH];
    const DWORD n = ::GetModuleFileNameW(nullptr, path, MAX_PATH);
    std::wstring dir(path, n);
    dir.resize(dir.find_last_of(L"\\/") + 1);
    return dir + file;
}

// An inheritable handle to a new file, for a child's output.
HANDLE output_file(const std::wstring& path)
{
    SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
    return ::CreateFileW(path.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa,
                         CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
}

std::string read_all(const std::wstring& path)
{
    const HANDLE h = ::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                   nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        return {};
    }
    std::string text;
    char buffer[4096];
    DWORD got = 0;
    while (::ReadFile(h, buffer, sizeof buffer, &got, nullptr) && got > 0) {
        text.append(buffer, got);
    }
    ::CloseHandle(h);
    return text;
}

// Starts `exe` with the given standard handles; returns its process handle (or null).
HANDLE start(const std::wstring& exe, HANDLE in, HANDLE out)
{
    STARTUPINFOW si{};
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in;
    si.hStdOutput = out;
    si.hStdError = out;
    PROCESS_INFORMATION pi{};
    std::wstring command = L"\"" + exe + L"\"";
    if (!::CreateProcessW(exe.c_str(), command.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi)) {
        std::fprintf(stderr, "tutorial: cannot start a program (error %lu)\n", ::GetLastError());
        return nullptr;
    }
    ::CloseHandle(pi.hThread);
    return pi.hProcess;
}

DWORD finish(HANDLE process, DWORD timeout_ms)
{
    DWORD code = 9999;
    if (::WaitForSingleObject(process, timeout_ms) == WAIT_OBJECT_0) {
        ::GetExitCodeProcess(process, &code);
    } else {
        ::TerminateProcess(process, 9999);
    }
    ::CloseHandle(process);
    return code;
}

// Runs the reader once; returns its exit code and leaves its output in `output`.
DWORD run_reader(const std::wstring& log, std::string& output)
{
    const HANDLE out = output_file(log);
    const HANDLE process = start(beside_me(L"tutorial_reader.exe"), nullptr, out);
    ::CloseHandle(out);
    if (process == nullptr) {
        return 9999;
    }
    const DWORD code = finish(process, 30000);
    output = read_all(log);
    return code;
}

} // namespace

int main()
{
    wchar_t temp[MAX_PATH];
    const DWORD n = ::GetTempPathW(MAX_PATH, temp);
    const std::wstring base = std::wstring(temp, n) + L"winmmf-tutorial-" + std::to_wstring(::GetCurrentProcessId());

    // The writer's standard input is a pipe whose write end only this process holds.
    SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, TRUE};
    HANDLE enter_read = nullptr;
    HANDLE enter_write = nullptr;
    if (!::CreatePipe(&enter_read, &enter_write, &sa, 0)) {
        return 1;
    }
    ::SetHandleInformation(enter_write, HANDLE_FLAG_INHERIT, 0);
    const HANDLE writer_out = output_file(base + L"-writer.txt");
    const HANDLE writer = start(beside_me(L"tutorial_writer.exe"), enter_read, writer_out);
    ::CloseHandle(writer_out);
    ::CloseHandle(enter_read);
    if (writer == nullptr) {
        return 1;
    }

    // "Start the writer, then the reader in a second console."
    std::string output;
    DWORD code = 2;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while ((code = run_reader(base + L"-reader.txt", output)) == 2 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const bool read_it = code == 0 && output.find("read: hello from the writer") != std::string::npos;
    std::printf("reader, writer running: exit %lu, \"%s\"\n", code, output.c_str());

    // "Stop the writer (Enter) and run the reader again."
    ::CloseHandle(enter_write);
    const DWORD writer_code = finish(writer, 30000);
    std::printf("writer: exit %lu, \"%s\"\n", writer_code, read_all(base + L"-writer.txt").c_str());
    code = run_reader(base + L"-reader.txt", output);
    std::printf("reader, writer gone: exit %lu, \"%s\"\n", code, output.c_str());
    const bool gone = code == 2;

    ::DeleteFileW((base + L"-writer.txt").c_str());
    ::DeleteFileW((base + L"-reader.txt").c_str());
    return read_it && writer_code == 0 && gone ? 0 : 1;
}
