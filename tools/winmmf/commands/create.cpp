// winmmf create NAME SIZE [--sddl SDDL] [--hold] [--hold-seconds S]
#include "../command.hpp"

#include <winmmf/mapping.hpp>
#include <winmmf/security.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

namespace winmmf::tool {

using namespace winmmf::cli;

int run_create(const invocation& cmd)
{
    const resolved_name& name = cmd.name;
    const std::string& size_text = cmd.args.positional[1];
    const std::optional<std::uint64_t> size = parse_size(size_text);
    if (!size) {
        return fail(exit_usage, "SIZE must be a byte count such as 4096, 64K, 6MiB or 0x1000, not '" + size_text + "'");
    }
    if (!fits_size_t(*size)) {
        return fail(make_error_code(errc::size_overflow), "create", name.full_utf8);
    }
    std::optional<std::uint64_t> hold_seconds;
    if (const std::string* text = cmd.text("--hold-seconds")) {
        hold_seconds = parse_uint(*text);
        if (!hold_seconds) {
            return fail(exit_usage, "--hold-seconds needs a number of seconds, not '" + *text + "'");
        }
    }
    const bool hold = cmd.has("--hold") || hold_seconds.has_value();

    security_descriptor security;
    if (const std::string* sddl = cmd.text("--sddl")) {
        std::error_code ec;
        security = security_descriptor::from_sddl(std::string_view(*sddl), ec);
        if (ec) {
            return fail(exit_invalid, "--sddl '" + *sddl + "' is not a valid security descriptor: " + ec.message() +
                                          " (Win32 error " + std::to_string(ec.value()) + ")");
        }
    }
    // The handler goes in before the mapping exists, so a Ctrl-C at any moment still leaves
    // through main's normal return.
    std::optional<ctrl_c_handler> ctrl_c;
    if (hold) {
        ctrl_c.emplace();
    }
    std::error_code ec;
    memory_mapped_file m = memory_mapped_file::create(
        name.ref, static_cast<std::size_t>(*size), create_options{.security_attributes = security.attributes()}, ec);
    if (ec) {
        return fail(ec, "create", name.full_utf8,
                    ec == errc::already_exists
                        ? "its size cannot change; `winmmf info " + name.text + "` shows the existing one"
                        : std::string());
    }
    out().line("created " + name.full_utf8 + ": " + std::to_string(m.size()) + " bytes asked for, " +
               std::to_string(m.capacity()) + " usable (section of " + std::to_string(m.section_size()) + " bytes)");
    if (!hold) {
        err().line("winmmf: note: the mapping is destroyed as this process exits; use --hold to keep it");
        return exit_ok;
    }

    // Held until Ctrl-C, the time limit, or - when stdin is a pipe - its writer closing it.
    HANDLE input = ::GetStdHandle(STD_INPUT_HANDLE);
    const bool watch_input = input != nullptr && input != INVALID_HANDLE_VALUE && ::GetFileType(input) == FILE_TYPE_PIPE;
    HANDLE input_closed = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (watch_input && input_closed != nullptr) {
        std::thread([input, input_closed] {
            char sink[4096];
            DWORD got = 0;
            while (::ReadFile(input, sink, sizeof sink, &got, nullptr) && got != 0) {
            }
            ::SetEvent(input_closed);
        }).detach();
    }
    std::string until = "Ctrl-C";
    if (hold_seconds) {
        until += ", " + std::to_string(*hold_seconds) + " s";
    }
    if (watch_input) {
        until += ", or until standard input closes";
    }
    out().line("holding " + name.full_utf8 + " until " + until);
    const HANDLE waits[2] = {stop_event(), input_closed};
    // Capped just below INFINITE (49.7 days), which WaitForMultipleObjects would read as "never".
    const DWORD limit = hold_seconds
                            ? static_cast<DWORD>(std::min<std::uint64_t>(*hold_seconds, (INFINITE - 1) / 1000) * 1000)
                            : INFINITE;
    ::WaitForMultipleObjects(input_closed != nullptr ? 2 : 1, waits, FALSE, limit);
    if (input_closed != nullptr) {
        ::CloseHandle(input_closed);
    }
    m.close(ec);
    out().line("released " + name.full_utf8);
    return ec ? fail(ec, "close", name.full_utf8) : exit_ok;
}

} // namespace winmmf::tool
