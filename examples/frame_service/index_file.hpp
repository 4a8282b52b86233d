// The index file, %PUBLIC%\<basename>.txt: how any program on the machine finds the frames.
//
//   # winmmf frame_service index v1: mapping width height format frame_size stride source
//   Global\winmmf_frames_0 1920 1080 rgb24 6220800 5760 synthetic
//
// The last two fields came later: a reader of the first version ignores them, and this one
// takes a line without them as stride = the minimum, source = synthetic.
//
// It is replaced atomically (write a temporary file beside it, then MoveFileExW with
// MOVEFILE_REPLACE_EXISTING), so a reader never sees half a file, and removed on stop. Readers
// open it sharing read, write and delete, and only for as long as one read takes; a replace or
// delete that meets a reader that shares less (or Wine, which refuses a replace over an open
// file whatever it shares) is retried for a while rather than failing the service.
#pragma once

#include "win.hpp"
#include "options.hpp"
#include "pixel_formats.hpp"
#include "text.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace frame_service {

struct index_entry {
    std::string mapping; // full kernel name, e.g. Global\winmmf_frames_0
    unsigned width = 0;
    unsigned height = 0;
    winmmf::pixel_format format = winmmf::pixel_format::rgb24;
    std::uint64_t frame_size = 0;
    std::uint32_t stride = 0;        // bytes per row
    std::string source = "synthetic"; // synthetic, camera or file: what the frames are
};

inline constexpr const char* index_header =
    "# winmmf frame_service index v1: mapping width height format frame_size stride source";

// %PUBLIC% is set for services and users alike on Windows; C:\Users\Public is its default.
inline std::string public_directory()
{
    wchar_t buffer[MAX_PATH];
    const DWORD n = ::GetEnvironmentVariableW(L"PUBLIC", buffer, MAX_PATH);
    if (n > 0 && n < MAX_PATH) {
        return narrow(std::wstring(buffer, n));
    }
    return "C:\\Users\\Public";
}

inline std::string index_path(const options& o)
{
    const std::string dir = o.index_dir.empty() ? public_directory() : o.index_dir;
    return dir + "\\" + o.basename + ".txt";
}

inline std::string format_index(const std::vector<index_entry>& entries)
{
    std::string text = std::string(index_header) + "\r\n";
    for (const index_entry& e : entries) {
        text += e.mapping + " " + std::to_string(e.width) + " " + std::to_string(e.height) + " " +
                std::string(to_string(e.format)) + " " + std::to_string(e.frame_size) + " " +
                std::to_string(e.stride) + " " + e.source + "\r\n";
    }
    return text;
}

// Runs `attempt` until it succeeds or fails for another reason than a reader holding the file
// open (sharing violation, or access denied), for up to about a second.
template <class Attempt>
bool retry_while_in_use(Attempt attempt)
{
    for (int tries = 0;; ++tries) {
        if (attempt()) {
            return true;
        }
        const DWORD error = ::GetLastError();
        if ((error != ERROR_SHARING_VIOLATION && error != ERROR_ACCESS_DENIED) || tries == 100) {
            ::SetLastError(error);
            return false;
        }
        ::Sleep(10);
    }
}

inline std::error_code write_index_atomically(const std::string& path, const std::string& text)
{
    const std::wstring final_path = widen(path);
    const std::wstring temp_path = final_path + L".tmp" + std::to_wstring(::GetCurrentProcessId());
    const HANDLE file = ::CreateFileW(temp_path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                                      FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE) {
        return last_error();
    }
    DWORD written = 0;
    const BOOL ok = ::WriteFile(file, text.data(), static_cast<DWORD>(text.size()), &written, nullptr) &&
                    written == text.size() && ::FlushFileBuffers(file);
    const std::error_code write_error = ok ? std::error_code{} : last_error();
    ::CloseHandle(file);
    if (write_error) {
        ::DeleteFileW(temp_path.c_str());
        return write_error;
    }
    const bool moved = retry_while_in_use([&] {
        return ::MoveFileExW(temp_path.c_str(), final_path.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) != 0;
    });
    if (!moved) {
        const std::error_code move_error = last_error();
        ::DeleteFileW(temp_path.c_str());
        return move_error;
    }
    return {};
}

inline void remove_index(const std::string& path)
{
    const std::wstring wide = widen(path);
    (void)retry_while_in_use([&] { return ::DeleteFileW(wide.c_str()) != 0; });
}

// Parses an index file; lines that are not entries (comments, blank) are skipped, a malformed
// entry is an error naming the line.
inline std::vector<index_entry> read_index(const std::string& path, std::string& error)
{
    std::vector<index_entry> entries;
    // Read at once and closed: the service replaces and deletes the file while programs poll it.
    const HANDLE file = ::CreateFileW(widen(path).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                      nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE) {
        error = "cannot open the index file " + path;
        return entries;
    }
    std::string text;
    char buffer[4096];
    DWORD got = 0;
    bool read_ok = true;
    while ((read_ok = ::ReadFile(file, buffer, sizeof buffer, &got, nullptr) != 0) && got > 0) {
        text.append(buffer, got);
    }
    ::CloseHandle(file);
    if (!read_ok) {
        error = "cannot read the index file " + path;
        return entries;
    }
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream fields(line);
        index_entry e;
        std::string format;
        if (!(fields >> e.mapping >> e.width >> e.height >> format >> e.frame_size) ||
            !parse_pixel_format(format)) {
            error = path + ":" + std::to_string(number) + ": malformed entry \"" + line + "\"";
            return {};
        }
        e.format = *parse_pixel_format(format);
        e.stride = min_stride(e.format, e.width);
        std::uint32_t stride = 0;
        if (fields >> stride) {
            if (stride < e.stride || !(fields >> e.source)) {
                error = path + ":" + std::to_string(number) + ": malformed entry \"" + line + "\"";
                return {};
            }
            e.stride = stride;
        }
        entries.push_back(e);
    }
    return entries;
}

} // namespace frame_service
