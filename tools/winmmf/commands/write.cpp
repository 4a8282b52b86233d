// winmmf write NAME [--offset O] [--lock] [--timeout MS] [--file F | --text T]
#include "../command.hpp"
#include "../raw_section.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

namespace winmmf::tool {

using namespace winmmf::cli;

namespace {

// Reads `handle` to its end, up to `limit` bytes; more than that sets `too_long`.
std::error_code read_all(HANDLE handle, std::size_t limit, std::vector<std::byte>& data, bool& too_long)
{
    data.clear();
    too_long = false;
    std::byte buffer[65536];
    for (;;) {
        DWORD got = 0;
        if (!::ReadFile(handle, buffer, sizeof buffer, &got, nullptr)) {
            const DWORD error = ::GetLastError();
            if (error == ERROR_BROKEN_PIPE || error == ERROR_HANDLE_EOF) {
                break; // the writer closed its end: that is the end of the input
            }
            return {static_cast<int>(error), std::system_category()};
        }
        if (got == 0) {
            break;
        }
        if (data.size() + got > limit) {
            too_long = true;
            return {};
        }
        data.insert(data.end(), buffer, buffer + got);
    }
    return {};
}

struct handle_closer {
    void operator()(HANDLE h) const noexcept { ::CloseHandle(h); }
};
using unique_file = std::unique_ptr<std::remove_pointer_t<HANDLE>, handle_closer>;

// The whole input - --text, --file or standard input - first: nothing is written unless all of
// it fits in `room`.
int read_input(const invocation& cmd, std::size_t room, std::vector<std::byte>& input, bool& too_long)
{
    if (const std::string* text = cmd.text("--text")) {
        const auto bytes = std::as_bytes(std::span(text->data(), text->size()));
        input.assign(bytes.begin(), bytes.end());
        too_long = input.size() > room;
        return exit_ok;
    }
    HANDLE source = ::GetStdHandle(STD_INPUT_HANDLE);
    unique_file file;
    std::string source_name = "standard input";
    if (const std::string* path = cmd.text("--file")) {
        const HANDLE opened = ::CreateFileW(detail::utf::to_utf16_lossy<wchar_t>(*path).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                            nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
        if (opened == INVALID_HANDLE_VALUE) {
            return fail(std::error_code(static_cast<int>(::GetLastError()), std::system_category()), "open", *path);
        }
        file.reset(opened);
        source = opened;
        source_name = *path;
    }
    if (const std::error_code ec = read_all(source, room, input, too_long)) {
        return fail(exit_io, "write: reading " + source_name + " failed: " + ec.message());
    }
    return exit_ok;
}

} // namespace

int run_write(const invocation& cmd)
{
    const resolved_name& name = cmd.name;
    const bool locking = cmd.has("--lock");
    if (const int status = require_data_layout(cmd, locking); status != exit_ok) {
        return status;
    }
    const std::size_t capacity = cmd.facts.capacity;
    const std::uint64_t offset = cmd.number("--offset").value_or(0);
    if (offset > capacity) {
        return fail(exit_invalid, "write " + name.full_utf8 + ": offset " + std::to_string(offset) +
                                      " is past the capacity of " + std::to_string(capacity) + " bytes");
    }
    const auto at = static_cast<std::size_t>(offset);
    const std::size_t room = capacity - at;
    std::vector<std::byte> input;
    bool too_long = false;
    if (const int status = read_input(cmd, room, input, too_long); status != exit_ok) {
        return status;
    }
    if (too_long) {
        return fail(exit_invalid, "write " + name.full_utf8 + ": the input is larger than the " + std::to_string(room) +
                                      " bytes from offset " + std::to_string(offset) +
                                      " to the end of the capacity; nothing was written");
    }
    if (locking) {
        std::optional<std::uint32_t> busy_word;
        const std::error_code ec = copy_under_lock(
            cmd, [&](auto& m, std::error_code& e) { m.write(at, input, cmd.timeout(), e); }, busy_word);
        if (ec && ec != errc::owner_dead) {
            return fail(ec, "write", name.full_utf8,
                        exit_code_for(ec) == exit_busy
                            ? (busy_word ? "current state: " + describe_lock_word(*busy_word) + "; " : std::string()) +
                                  "nothing was written"
                            : std::string());
        }
        if (ec == errc::owner_dead) {
            err().line("winmmf: warning: a writer of " + name.full_utf8 +
                       " died holding the lock; the rest of the data may be half-written");
        }
    } else {
        // Without the lock: the bytes go straight into the section, like a debugger's poke.
        std::error_code ec;
        raw_view view = raw_view::open(name.ref, open_options{.access = access_mode::read_write}, ec);
        if (ec) {
            return fail_open(ec, name);
        }
        view.write(data_offset(cmd.layout()) + at, input, ec);
        if (ec) {
            return fail(ec, "write", name.full_utf8);
        }
    }
    return out().line("wrote " + std::to_string(input.size()) + " bytes to " + name.full_utf8 + " at offset " +
                      std::to_string(offset) + (locking ? " under the write lock" : ""))
               ? exit_ok
               : exit_io;
}

} // namespace winmmf::tool
