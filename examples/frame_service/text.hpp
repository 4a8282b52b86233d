// UTF-8 inside, UTF-16 at the Win32 boundary: the conversions, and the command line as UTF-8.
#pragma once

#include "win.hpp"

#include <shellapi.h>

#include <string>
#include <vector>

namespace frame_service {

inline std::wstring widen(const std::string& s)
{
    if (s.empty()) {
        return {};
    }
    const int n = ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
    std::wstring w(static_cast<std::size_t>(n), L'\0');
    ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
    return w;
}

inline std::string narrow(const std::wstring& w)
{
    if (w.empty()) {
        return {};
    }
    const int n = ::WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), nullptr, 0, nullptr, nullptr);
    std::string s(static_cast<std::size_t>(n), '\0');
    ::WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), s.data(), n, nullptr, nullptr);
    return s;
}

// The arguments after the program name, as UTF-8: read as UTF-16 (GetCommandLineW), so names
// and paths in any language survive.
inline std::vector<std::string> command_line()
{
    int argc = 0;
    LPWSTR* argv = ::CommandLineToArgvW(::GetCommandLineW(), &argc);
    std::vector<std::string> args;
    for (int i = 1; argv != nullptr && i < argc; ++i) {
        args.push_back(narrow(argv[i]));
    }
    ::LocalFree(argv);
    return args;
}

} // namespace frame_service
