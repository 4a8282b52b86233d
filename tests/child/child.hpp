// The child program that multi-process tests start. Each command lives in a file of its own
// and registers itself here, so new tests add commands without touching a shared switch.
//
// Exit codes: 0 success; 1 bad usage; 2 unexpected exception; 10 data mismatch;
// 100 + winmmf::errc value for a winmmf error; 3 for any other error_code.
#pragma once

#include <winmmf/error.hpp>

#include <map>
#include <string>
#include <system_error>
#include <vector>

namespace winmmf::child {

using args = std::vector<std::string>;
using command = int (*)(const args&);

inline std::map<std::string, command>& registry()
{
    static std::map<std::string, command> commands;
    return commands;
}

struct registrar {
    registrar(const char* name, command fn) { registry()[name] = fn; }
};

inline constexpr int exit_ok = 0;
inline constexpr int exit_usage = 1;
inline constexpr int exit_exception = 2;
inline constexpr int exit_other_error = 3;
inline constexpr int exit_mismatch = 10;
inline constexpr int exit_winmmf_base = 100;

int report(const std::error_code& ec, const char* what);

// The exit code a test expects when the child fails with winmmf error `e`.
constexpr long exit_code_for(errc e) { return exit_winmmf_base + static_cast<long>(e); }

} // namespace winmmf::child
