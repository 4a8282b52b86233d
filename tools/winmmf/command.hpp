// tools/winmmf/command.hpp - what every command of the tool shares: its row in the command table
// (main.cpp), the preamble that runs before it, and text in and out.
//
// The preamble (run_command) does, in this order, for every command: parse the options against
// the command's table row, answer --help, count the positional arguments, check options that
// exclude or need each other, read every numeric option (a byte count, milliseconds, a count),
// resolve NAME with --global / --session N (a command without NAME, list, starts here), and -
// for a command that works on an existing mapping - inspect() it and check that this account
// may write it if the command will. A command function starts from an `invocation` in which all
// of that is done.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/cancel_token.hpp>
#include <winmmf/inspect.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/name.hpp>
#include <winmmf/robust_lock.hpp>

#include "cli.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace winmmf::tool {

// ---- the command table ----------------------------------------------------------------------------

enum class value : std::uint8_t {
    none,   // a flag
    text,   // any text; the command reads it
    number, // parse_uint, within [min, max]
    size,   // parse_size: 100, 4K, 6MiB, 0x1000
};

// One option of a command. --global, --session and --help belong to every command and are not
// listed.
struct option {
    std::string_view name; // "--offset"
    value kind = value::none;
    std::string_view wants{}; // number, size: "--offset needs <wants>, not '...'"
    std::uint64_t min = 0;
    std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    std::string_view excludes{};  // "--hex and --raw exclude each other"
    std::string_view only_with{}; // "--timeout only applies with --lock"
};

// What a command does to the mapping NAME names before its own code runs.
enum class opens : std::uint8_t {
    nothing,   // create: there is no mapping yet
    to_read,   // inspect() it
    to_write,  // inspect() it, and refuse unless this account may map it for writing
};

struct invocation;

struct command {
    std::string_view name;      // "read"
    std::string_view arguments; // the positional arguments, "NAME" or "NAME SIZE"; "" for none
    std::string_view summary;   // one line in `winmmf --help`
    std::string_view help;      // `winmmf read --help`
    std::span<const option> options;
    opens access = opens::to_read;
    std::string_view read_only_with{}; // to_write, but only to_read when this flag is given
    std::string_view denied_hint{};    // said when the write access it needs is denied
    int (*run)(const invocation&) = nullptr;
};

// NAME as typed and as resolved.
struct resolved_name {
    std::string text; // what the user typed; ref points into it
    name_ref ref{name_scope::local, std::string_view{}};
    object_name full;
    std::string full_utf8;
};

// One run of a command, its preamble done. Not copyable: name.ref points into name.text.
struct invocation {
    invocation() = default;
    invocation(const invocation&) = delete;
    invocation& operator=(const invocation&) = delete;

    cli::parsed_args args;
    resolved_name name;
    // What inspect() found, read once, when the command opens a mapping (its access is not
    // opens::nothing). A command without NAME (list) leaves `name` and `facts` empty.
    inspection facts;
    // Numeric and size options, checked by the preamble.
    std::map<std::string_view, std::uint64_t, std::less<>> values;

    bool has(std::string_view option_name) const { return args.has(option_name); }
    const std::string* text(std::string_view option_name) const { return args.value(option_name); }
    std::optional<std::uint64_t> number(std::string_view option_name) const;
    // --timeout: 0 tries once; absent, the library's default wait.
    acquire_mode timeout() const;
    // The layout inspect() found, as cli.hpp names it: a corrupt WinMMF lock word told apart.
    cli::layout layout() const noexcept;
};

// The preamble, then the command.
int run_command(const command& c, std::span<const std::string> argv);

// The commands, one file each under commands/.
int run_create(const invocation& cmd);
int run_info(const invocation& cmd);
int run_read(const invocation& cmd);
int run_write(const invocation& cmd);
int run_watch(const invocation& cmd);
int run_unlock(const invocation& cmd);
int run_list(const invocation& cmd);

// ---- text in and out -------------------------------------------------------------------------------

// One of the standard handles. A console gets UTF-16 through WriteConsoleW, whatever its code
// page; anything else (a file, a pipe) gets the UTF-8 bytes unchanged.
class output {
public:
    explicit output(DWORD which) noexcept;
    bool text(std::string_view utf8);
    bool bytes(std::span<const std::byte> data);
    bool line(std::string_view utf8) { return text(std::string(utf8) + "\n"); }
    bool failed() const noexcept { return failed_; }
    bool is_console() const noexcept { return console_; }

private:
    bool fail() noexcept
    {
        failed_ = true;
        return false;
    }

    HANDLE handle_;
    bool console_ = false;
    bool failed_ = false;
};

output& out();
output& err();

// ---- failing -----------------------------------------------------------------------------------------

// "winmmf: <message>" on standard error; returns `code`.
int fail(int code, std::string_view message);
// "winmmf: read Local\x: <what the library says>" - the operation, the full object name, and the
// library's own message (which for a Win32 error carries its number too), then the hint; returns
// cli::exit_code_for(ec).
int fail(const std::error_code& ec, std::string_view operation, std::string_view name, std::string_view hint = {});
// An open that failed; for one that found nothing, says so when the name exists in the other
// namespace (a service's Global\x looked for as Local\x, or the reverse).
int fail_open(const std::error_code& ec, const resolved_name& name, std::string_view hint = {});

// ---- the data of a mapping ------------------------------------------------------------------------------

// read and write handle the layouts whose data sits after a lock header: the WinMMF-compatible
// one (and, without the lock, one whose lock word is corrupt) and the robust one. A frame
// channel or a notification is described by `info`, but its bytes are not this tool's to touch.
int require_data_layout(const invocation& cmd, bool locking);

// Opens NAME with the lock policy its layout announces (robust_lock, else compatible_lock) and
// runs `copy(mapping, ec)`, which takes that lock itself (the mapping's read() or write()). When
// a WinMMF lock was busy, `busy_word` is the lock word as the failed attempt left it.
template <class Copy>
std::error_code copy_under_lock(const invocation& cmd, Copy&& copy, std::optional<std::uint32_t>& busy_word)
{
    std::error_code ec;
    if (cmd.layout() == cli::layout::robust) {
        robust_memory_mapped_file m = robust_memory_mapped_file::open(cmd.name.ref, ec);
        if (!ec) {
            copy(m, ec);
        }
        return ec;
    }
    memory_mapped_file m = memory_mapped_file::open(cmd.name.ref, ec);
    if (!ec) {
        copy(m, ec);
        if (cli::exit_code_for(ec) == cli::exit_busy) {
            busy_word = m.lock_policy().value();
        }
    }
    return ec;
}

// False on a 32-bit build for sizes past 4 GiB.
constexpr bool fits_size_t(std::uint64_t value) noexcept
{
    return static_cast<std::uint64_t>(static_cast<std::size_t>(value)) == value;
}

// ---- Ctrl-C --------------------------------------------------------------------------------------------

// Set by Ctrl-C, Ctrl-Break or closing the console, once a ctrl_c_handler exists.
HANDLE stop_event() noexcept;
bool stop_requested() noexcept;

// From its construction on, Ctrl-C no longer ends the process: it sets stop_event() and cancels
// `cancel` (while this object lives), so that the command returns normally and main's return
// destroys what it holds.
class ctrl_c_handler {
public:
    explicit ctrl_c_handler(cancel_token* cancel = nullptr) noexcept;
    ~ctrl_c_handler();
    ctrl_c_handler(const ctrl_c_handler&) = delete;
    ctrl_c_handler& operator=(const ctrl_c_handler&) = delete;
};

} // namespace winmmf::tool
