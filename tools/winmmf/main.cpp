// winmmf - look at and repair named shared memory from the command line: what ipcs and ipcrm
// are to System V shared memory, for Windows file mappings.
//
//   winmmf create NAME SIZE [--hold]     winmmf read NAME [--hex|--raw]     winmmf watch NAME
//   winmmf info NAME                      winmmf write NAME [--lock]          winmmf unlock NAME --force
//
// The command line is read as UTF-16 (GetCommandLineW) and handled as UTF-8; text goes to a
// console as UTF-16 (WriteConsoleW) and to files and pipes as UTF-8, so names in any script
// survive both ways. Exit codes are listed in cli.hpp and in `winmmf --help`.
#include <winmmf/detail/win32.hpp>
#include <winmmf/frame_channel.hpp>
#include <winmmf/lock.hpp>
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/name.hpp>
#include <winmmf/notification.hpp>
#include <winmmf/protocol/page.hpp>
#include <winmmf/robust_lock.hpp>
#include <winmmf/protocol/robust_word.hpp>
#include <winmmf/security.hpp>

#include "cli.hpp"

#include <shellapi.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#if !defined(WINMMF_VERSION_STRING)
#define WINMMF_VERSION_STRING "unknown"
#endif

namespace {

using namespace winmmf;
using namespace winmmf::cli;

// ---- text in and out ------------------------------------------------------------------------------

std::wstring widen(std::string_view utf8)
{
    if (utf8.empty()) {
        return {};
    }
    const int n = ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
    std::wstring out(static_cast<std::size_t>(n > 0 ? n : 0), L'\0');
    if (n > 0) {
        ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
    }
    return out;
}

std::string narrow(std::wstring_view utf16)
{
    if (utf16.empty()) {
        return {};
    }
    const int n = ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()),
                                        nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<std::size_t>(n > 0 ? n : 0), '\0');
    if (n > 0) {
        ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), out.data(),
                              n, nullptr, nullptr);
    }
    return out;
}

// One of the standard handles. A console gets UTF-16 through WriteConsoleW, whatever its code
// page; anything else (a file, a pipe) gets the UTF-8 bytes unchanged.
class output {
public:
    explicit output(DWORD which) noexcept : handle_(::GetStdHandle(which))
    {
        DWORD mode = 0;
        console_ = handle_ != nullptr && handle_ != INVALID_HANDLE_VALUE && ::GetConsoleMode(handle_, &mode);
    }

    bool text(std::string_view utf8)
    {
        if (!console_) {
            return bytes(std::as_bytes(std::span(utf8.data(), utf8.size())));
        }
        const std::wstring wide = widen(utf8);
        std::size_t done = 0;
        while (done < wide.size()) {
            DWORD written = 0;
            const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(wide.size() - done, 16384));
            if (!::WriteConsoleW(handle_, wide.data() + done, chunk, &written, nullptr) || written == 0) {
                return fail();
            }
            done += written;
        }
        return true;
    }

    bool bytes(std::span<const std::byte> data)
    {
        if (handle_ == nullptr || handle_ == INVALID_HANDLE_VALUE) {
            return fail();
        }
        while (!data.empty()) {
            DWORD written = 0;
            const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(data.size(), 1u << 20));
            if (!::WriteFile(handle_, data.data(), chunk, &written, nullptr) || written == 0) {
                return fail();
            }
            data = data.subspan(written);
        }
        return true;
    }

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

output& out()
{
    static output o(STD_OUTPUT_HANDLE);
    return o;
}

output& err()
{
    static output e(STD_ERROR_HANDLE);
    return e;
}

int fail(int code, std::string_view message)
{
    err().line("winmmf: " + std::string(message));
    return code;
}

// "winmmf: read Local\x: <what the library says>" - the operation, the full object name, and the
// library's own message (which for a Win32 error carries its number too).
int fail(const std::error_code& ec, std::string_view operation, std::string_view name,
         std::string_view hint = {})
{
    std::string message = ec.message();
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == '.')) {
        message.pop_back();
    }
    if (ec.category() == std::system_category()) {
        message += " (Win32 error " + std::to_string(ec.value()) + ")";
    }
    std::string text = std::string(operation) + " " + std::string(name) + ": " + message;
    if (!hint.empty()) {
        text += "\n  " + std::string(hint);
    }
    return fail(exit_code_for(ec), text);
}

// Reads `handle` to its end, up to `limit` bytes; more than that sets `too_long`.
bool read_all(HANDLE handle, std::size_t limit, std::vector<std::byte>& data, bool& too_long,
              std::error_code& ec)
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
            ec = detail::win32_error(error);
            return false;
        }
        if (got == 0) {
            break;
        }
        if (data.size() + got > limit) {
            too_long = true;
            return true;
        }
        data.insert(data.end(), buffer, buffer + got);
    }
    ec.clear();
    return true;
}

// ---- Ctrl-C ------------------------------------------------------------------------------------

HANDLE stop_event() noexcept
{
    static const HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    return event;
}

// A wait inside the library (a notification, a frame channel) that Ctrl-C must end as well.
std::atomic<cancel_token*> active_cancel{nullptr};

BOOL WINAPI on_console_signal(DWORD signal) noexcept
{
    switch (signal) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
        ::SetEvent(stop_event());
        if (cancel_token* cancel = active_cancel.load()) {
            cancel->cancel();
        }
        return TRUE; // handled: main returns normally and destroys what it holds
    default:
        return FALSE;
    }
}

bool stop_requested() noexcept { return ::WaitForSingleObject(stop_event(), 0) == WAIT_OBJECT_0; }

// ---- names -------------------------------------------------------------------------------------------

struct resolved_name {
    std::string text; // what the user typed; ref points into it
    name_ref ref{name_scope::local, std::string_view{}};
    object_name full;
    std::string full_utf8;
};

// NAME plus --global / --session N. Returns an exit code (exit_ok when resolved).
int resolve(const parsed_args& args, const std::string& text, resolved_name& name)
{
    name.text = text;
    name_scope scope = name_scope::local;
    std::uint32_t session = 0;
    if (args.has("--global") && args.has("--session")) {
        return fail(exit_usage, "--global and --session exclude each other");
    }
    if (args.has("--global")) {
        scope = name_scope::global;
    }
    if (const std::string* id = args.value("--session")) {
        const std::optional<std::uint64_t> n = parse_uint(*id);
        if (!n || *n > 0xFFFFFFFFu) {
            return fail(exit_usage, "--session needs a session id (0, 1, 2, ...), not '" + *id + "'");
        }
        scope = name_scope::session;
        session = static_cast<std::uint32_t>(*n);
    }
    const parsed_name parsed = parse_name(name.text, scope, session);
    if (parsed.has_prefix && scope != name_scope::local) {
        return fail(exit_usage, "'" + name.text + "' already names its namespace; drop " +
                                    (scope == name_scope::global ? "--global" : "--session"));
    }
    name.ref = parsed.ref;
    std::error_code ec;
    name.full = object_name::make(name.ref, ec);
    if (ec) {
        return fail(exit_code_for(ec), "invalid name '" + name.text + "': " + ec.message());
    }
    name.full_utf8 = name.full.to_utf8();
    return exit_ok;
}

// An open that found nothing, with the usual cause spelled out when it applies: the name
// exists in the other namespace (a service's Global\x looked for as Local\x, or the reverse).
int fail_open(const std::error_code& ec, const resolved_name& name, std::string_view hint = {})
{
    std::string text(hint);
    if (ec == errc::not_found && text.empty() && name.full.scope() != name_scope::custom) {
        const name_scope other = name.full.scope() == name_scope::global ? name_scope::local : name_scope::global;
        std::error_code name_ec;
        const object_name candidate = object_name::make(name_ref(other, name_text(name.full.object())), name_ec);
        if (!name_ec && detail::probe_name(candidate.c_str()) == protocol::name_presence::present) {
            text = "but " + candidate.to_utf8() + " exists: name it in full" +
                   (other == name_scope::global ? std::string(", or add --global") : std::string());
        }
    }
    return fail(ec, "open", name.full_utf8, text);
}

// ---- a mapping as it is, whatever its layout ------------------------------------------------------------

// The tool opens sections itself rather than through basic_memory_mapped_file: it must look at
// mappings whose first word belongs to any policy, or is corrupt, without refusing them.
struct raw_mapping {
    detail::unique_handle section;
    detail::unique_view view;
    std::size_t view_size = 0;
    bool writable = false;

    std::uint32_t word() const noexcept
    {
        return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(view.get()))
            .load(std::memory_order_acquire);
    }
    layout kind() const noexcept { return layout_of(word()); }

    // Where the user data of the layout starts; 0 for layouts whose data the tool does not
    // read or write (frame channels and notifications have protocols of their own).
    std::size_t data_offset() const noexcept
    {
        switch (kind()) {
        case layout::compatible:
        case layout::corrupt:
            return compatible_lock::header_size;
        case layout::robust:
            return robust_lock::header_size;
        default:
            return 0;
        }
    }
    std::size_t capacity() const noexcept
    {
        const std::size_t offset = data_offset();
        return offset != 0 && view_size > offset ? view_size - offset : 0;
    }
    std::byte* data() const noexcept { return view.get() + data_offset(); }
};

std::error_code open_raw(const object_name& name, bool writable, raw_mapping& m)
{
    const DWORD access = writable ? (FILE_MAP_READ | FILE_MAP_WRITE) : FILE_MAP_READ;
    m.section = detail::unique_handle(::OpenFileMappingW(access, FALSE, name.c_str()));
    if (!m.section) {
        return detail::open_error(::GetLastError());
    }
    m.view = detail::unique_view(::MapViewOfFile(m.section.get(), access, 0, 0, 0));
    if (!m.view) {
        return detail::last_error();
    }
    std::error_code ec;
    m.view_size = detail::view_size(m.view.get(), ec);
    if (ec) {
        return ec;
    }
    m.writable = writable;
    return {};
}

// False on a 32-bit build for sizes past 4 GiB.
constexpr bool fits_size_t(std::uint64_t value) noexcept
{
    return static_cast<std::uint64_t>(static_cast<std::size_t>(value)) == value;
}

acquire_mode mode_from(const parsed_args& args, int& status)
{
    status = exit_ok;
    const std::string* text = args.value("--timeout");
    if (text == nullptr) {
        return acquire_mode::wait_for(default_lock_timeout);
    }
    const std::optional<std::uint64_t> ms = parse_uint(*text);
    if (!ms) {
        status = fail(exit_usage, "--timeout needs milliseconds (0 tries once), not '" + *text + "'");
        return acquire_mode::try_once();
    }
    return *ms == 0 ? acquire_mode::try_once() : acquire_mode::wait_for(std::chrono::milliseconds(*ms));
}

bool size_option(const parsed_args& args, std::string_view option, std::uint64_t& value, int& status)
{
    const std::string* text = args.value(option);
    if (text == nullptr) {
        return false;
    }
    const std::optional<std::uint64_t> n = parse_size(*text);
    if (!n) {
        status = fail(exit_usage, std::string(option) + " needs a byte count such as 100, 4K or 0x1000, not '" + *text + "'");
        return false;
    }
    value = *n;
    return true;
}

// read and write handle the layouts whose data sits after a lock header: the WinMMF-compatible
// one (and, without the lock, one whose lock word is corrupt) and the robust one. A frame
// channel or a notification is described by `info`, but its bytes are not this tool's to touch.
int require_data_layout(const raw_mapping& m, const resolved_name& name, bool locking)
{
    const layout l = m.kind();
    if (l == layout::corrupt && locking) {
        return fail(exit_incompatible, name.full_utf8 + ": the lock word is " + describe_lock_word(m.word()) +
                                           "; nothing was done.\n  Without the lock (read --no-lock, write without "
                                           "--lock) the data is still reachable; `winmmf unlock " +
                                           name.text + " --force` resets the word once no process uses it");
    }
    if (m.data_offset() == 0) {
        return fail(exit_incompatible, name.full_utf8 + " is a " + layout_name(l) +
                                           ", whose data has a protocol of its own; `winmmf info " + name.text +
                                           "` describes it");
    }
    if (m.view_size <= m.data_offset()) {
        return fail(make_error_code(errc::not_winmmf_mapping), "open", name.full_utf8);
    }
    return exit_ok;
}

// Takes the layout's lock (shared or exclusive), runs `copy`, and releases it. `owner_died` is
// set when a robust lock was taken over from a holder that died: the copy was made, but the
// data may be half-written.
template <class Policy, class Copy>
std::error_code locked_copy(std::byte* header, bool exclusive, const acquire_mode& mode, Copy&& copy,
                            bool& owner_died)
{
    std::error_code ec;
    Policy lock = Policy::attach(header, ec);
    if (ec) {
        return ec;
    }
    const bool held = exclusive ? lock.lock(mode, ec) : lock.lock_shared(mode, ec);
    if (!held) {
        return ec;
    }
    owner_died = ec == errc::owner_dead;
    copy();
    if (exclusive) {
        lock.unlock(ec);
    } else {
        lock.unlock_shared(ec);
    }
    return ec;
}

template <class Copy>
std::error_code locked_copy(raw_mapping& m, bool exclusive, const acquire_mode& mode, Copy&& copy, bool& owner_died)
{
    owner_died = false;
    if (m.kind() == layout::robust) {
        return locked_copy<robust_lock>(m.view.get(), exclusive, mode, copy, owner_died);
    }
    return locked_copy<compatible_lock>(m.view.get(), exclusive, mode, copy, owner_died);
}

// The state of a robust lock, in words: who holds it and whether they still run.
// The robust header's state in words; `usable` false when openers refuse the mapping (another
// layout version, or a word no winmmf process writes).
std::string describe_robust(raw_mapping& m, bool& usable)
{
    auto& header = *reinterpret_cast<protocol::robust_word::header*>(m.view.get());
    const protocol::robust_word::snapshot s = protocol::robust_word::inspect(header);
    usable = false;
    const std::uint32_t version = protocol::load_once(header.version);
    const auto other_version = [](std::uint64_t v) {
        return "robust layout version " + std::to_string(v) + ", not version " +
               std::to_string(protocol::robust_word::layout_version) +
               ": winmmf processes of this version refuse it (unsupported_layout_version)";
    };
    if (version != 0 && version != protocol::robust_word::layout_version) {
        return other_version(version);
    }
    if (s.init != protocol::robust_word::ready_value) {
        if ((s.init & ~protocol::robust_word::word_type{0xFFFFFFFFu}) == protocol::robust_word::ready_family) {
            return other_version((s.init >> 16) & 0xFFFF);
        }
        if (s.init == 0) {
            return "CORRUPT: the marker is there but no creator is named in the initialisation word, which no "
                   "winmmf process of this layout version leaves (openers report corrupt_lock_word)";
        }
        if (!protocol::robust_word::detail::is_identity(s.init)) {
            return "CORRUPT: the initialisation word holds a value no winmmf process writes [" +
                   hex64(s.init) + "] (openers report corrupt_lock_word)";
        }
        usable = true;
        const protocol::robust_word::identity creator = protocol::robust_word::owner_of(s.init);
        return "being initialised by process " + std::to_string(creator.pid) +
               (detail::robust_holder_alive(creator) ? "" : " (which has exited: the next opener finishes it)");
    }
    std::string text;
    const auto holder = protocol::robust_word::owner_of(s.writer);
    if (protocol::robust_word::classify_writer(s.writer) == protocol::robust_word::writer_state::owned) {
        text = ((s.writer & protocol::robust_word::held_bit) != 0 ? "held by a writer, process " : "claimed by a writer waiting for readers, process ") +
               std::to_string(holder.pid) +
               (detail::robust_holder_alive(holder) ? " (running)" : " (exited: the next locker clears it)");
    } else if (s.readers != 0) {
        text = "held by " + std::to_string(s.readers) + (s.readers == 1 ? " reader" : " readers");
    } else {
        text = "free";
    }
    if ((s.writer & protocol::robust_word::dirty_bit) != 0) {
        text += "; a writer died holding it, so lockers are told owner_dead until one unlocks normally";
    }
    if (s.corrupt) {
        text += "; CORRUPT: a lock word holds a value no winmmf process writes (lockers and openers report corrupt_lock_word)";
    } else {
        usable = true;
    }
    text += "\nrecovered: " + std::to_string(s.recoveries) + " dead holder(s) cleared since creation";
    return text;
}

// ---- help -------------------------------------------------------------------------------------------

constexpr std::string_view main_help = R"help(winmmf - inspect and repair named shared memory (Windows file mappings)

usage: winmmf <command> [options]        winmmf <command> --help for details

commands:
  create NAME SIZE   create a mapping (it lives while a handle is open: --hold keeps one)
  info NAME          size, capacity, layout and the decoded lock word
  read NAME          print the data (hex dump, --hex, or --raw bytes)
  write NAME         copy standard input, --file or --text into the mapping
  watch NAME         print a line each time the data changes
  unlock NAME        clear a stale lock left by a process that died (needs --force)

NAME is Local\x, Global\x, Session\<id>\x, or a bare x, which means Local\x (--global or
--session <id> put a bare name elsewhere). Prefixes are matched without regard to case; any
other name with a backslash is used exactly as given. Names are UTF-8 on every platform.
The data of a WinMMF-compatible mapping starts after its 4-byte lock word: offsets count
from there.

exit codes:
  0 success                 5 already exists (create)
  1 usage                   6 invalid name, size or range
  2 not found               7 incompatible layout or corrupt lock word
  3 access denied           8 input or output failed
  4 lock busy / timed out   9 other error
)help";

constexpr std::string_view create_help = R"help(usage: winmmf create NAME SIZE [--global|--session N] [--sddl SDDL] [--hold] [--hold-seconds S]

Creates a pagefile-backed mapping with at least SIZE usable bytes (100, 64K, 6MiB, 0x1000; the
kernel rounds up to whole pages and the extra bytes are usable too). Fails if the name exists.

A mapping lives only while some process has a handle to it. Without --hold this process exits
at once and the new mapping goes with it, so plain `create` only checks that it can be made.
  --hold             keep it until Ctrl-C, or until standard input is closed when it is a
                     pipe (so a script that starts `winmmf create --hold` can end it)
  --hold-seconds S   keep it for at most S seconds (implies --hold)
  --sddl SDDL        the security descriptor, e.g. "D:P(A;;GA;;;SY)(A;;GRGW;;;AU)" to let
                     every authenticated user read and write a service's mapping
  --global           create Global\NAME (on Windows this needs SeCreateGlobalPrivilege)
  --session N        create Session\N\NAME
)help";

constexpr std::string_view info_help = R"help(usage: winmmf info NAME [--global|--session N]

Opens the mapping read-only and prints its section size, which layout its first word
announces, and what that layout holds:
  WinMMF-compatible  capacity, and the lock word: free / N readers / writer / uninitialized /
                     corrupt (compatible_lock, no_lock, or a Rust WinMMF peer)
  robust lock        capacity, the holding process and whether it still runs, recoveries,
                     and a layout version or lock word that openers would refuse
  frame channel      slots, frame size, newest frame, the writer's state, waiting readers,
                     and whether this account can sleep on its notification sibling
  notification       its sequence number and sleeping waiters
  channel's notification  (NAME#<16 hex digits>, which `info` on the channel names) how many
                     of the channel's readers sleep on it
and whether this account may map it for writing. The size its creator asked for is not
recorded anywhere; the kernel keeps only the page-rounded size. Exit code 7 when openers would
refuse the mapping (a corrupt lock word, another robust layout version).
)help";

constexpr std::string_view read_help = R"help(usage: winmmf read NAME [--offset O] [--length L] [--hex|--raw] [--no-lock] [--timeout MS]

Copies the data out under the shared lock, then prints it: a hex dump by default, --hex for
plain hex digits, --raw for the bytes themselves. The lock is held only for the copy.
  --offset O     start O bytes into the data (default 0)
  --length L     this many bytes (default: up to the end of the capacity)
  --no-lock      read without the lock: needs only read access, and works while a writer that
                 died still holds it; another process may be writing at the same time
  --timeout MS   wait at most MS ms for the lock (default 1000; 0 tries once)
)help";

constexpr std::string_view write_help = R"help(usage: winmmf write NAME [--offset O] [--lock] [--timeout MS] [--file F | --text T]

Copies standard input (or the file F, or the UTF-8 text T) into the data at offset O. The
input must fit: if it reaches past the capacity nothing is written.
  --lock         take the exclusive lock around the copy, as a WinMMF peer would. Without it
                 the bytes are written directly, like a debugger's poke: what you want for
                 no_lock users or while a stale lock is held, but readers may see a torn copy
  --timeout MS   with --lock: wait at most MS ms for it (default 1000; 0 tries once)
  --offset O     where the copy starts in the data (default 0)
)help";

constexpr std::string_view watch_help = R"help(usage: winmmf watch NAME [--interval MS] [--count N] [--include-lock]

Prints one line each time the data changes: the time, how many bytes changed and where, and
the lock word at that moment. How it learns of a change:
  - a frame channel: one line per frame taken, woken by the channel's notification (or, when
    this account may not write its notification sibling, polling every MS milliseconds); ends
    when the writer closes the channel or its process ends;
  - a mapping with a notification beside it (NAME.notify, as notification::name_for names
    it): by waiting on that, and checking every MS milliseconds as well;
  - anything else: by comparing the data every MS milliseconds (default 100), without taking
    the lock; changes closer together than that show as one.
Ends on Ctrl-C, or after N lines with --count.
  --include-lock   also print a line when only the lock word changed
)help";

constexpr std::string_view unlock_help = R"help(usage: winmmf unlock NAME --force [--global|--session N]

Clears the lock word of a WinMMF-compatible mapping. The WinMMF lock has no owner, so a process
that dies holding it leaves it held for ever and every other process times out. Use this only
when you know the holder is gone (the process list, or its logs, say so): if it is alive,
clearing its lock lets others in while it is still writing.
Without --force this prints the lock's state and changes nothing. A free lock is left alone.
)help";

// ---- create ----------------------------------------------------------------------------------------

int cmd_create(std::span<const std::string> argv)
{
    static constexpr option_spec specs[] = {{"--global", false}, {"--session", true}, {"--sddl", true},
                                            {"--hold", false},   {"--hold-seconds", true}, {"--help", false}};
    const parsed_args args = parse_args(argv, specs);
    if (!args.error.empty()) {
        return fail(exit_usage, "create: " + args.error + " (winmmf create --help)");
    }
    if (args.has("--help")) {
        return out().text(create_help) ? exit_ok : exit_io;
    }
    if (args.positional.size() != 2) {
        return fail(exit_usage, "create needs NAME and SIZE (winmmf create --help)");
    }
    resolved_name name;
    if (const int status = resolve(args, args.positional[0], name); status != exit_ok) {
        return status;
    }
    const std::optional<std::uint64_t> size = parse_size(args.positional[1]);
    if (!size) {
        return fail(exit_usage, "SIZE must be a byte count such as 4096, 64K, 6MiB or 0x1000, not '" +
                                    args.positional[1] + "'");
    }
    if (!fits_size_t(*size)) {
        return fail(make_error_code(errc::size_overflow), "create", name.full_utf8);
    }
    std::optional<std::uint64_t> hold_seconds;
    if (const std::string* text = args.value("--hold-seconds")) {
        hold_seconds = parse_uint(*text);
        if (!hold_seconds) {
            return fail(exit_usage, "--hold-seconds needs a number of seconds, not '" + *text + "'");
        }
    }
    const bool hold = args.has("--hold") || hold_seconds.has_value();

    security_descriptor security;
    if (const std::string* sddl = args.value("--sddl")) {
        std::error_code ec;
        security = security_descriptor::from_sddl(std::string_view(*sddl), ec);
        if (ec) {
            return fail(exit_invalid, "--sddl '" + *sddl + "' is not a valid security descriptor: " +
                                          ec.message() + " (Win32 error " + std::to_string(ec.value()) + ")");
        }
    }
    // The handler goes in before the mapping exists, so a Ctrl-C at any moment still leaves
    // through main's normal return.
    if (hold) {
        ::SetConsoleCtrlHandler(on_console_signal, TRUE);
    }
    std::error_code ec;
    memory_mapped_file m = memory_mapped_file::create(
        name.ref, static_cast<std::size_t>(*size), create_options{.security_attributes = security.attributes()}, ec);
    if (ec) {
        return fail(ec, "create", name.full_utf8,
                    ec == errc::already_exists ? "its size cannot change; `winmmf info " + name.text +
                                                     "` shows the existing one"
                                               : std::string());
    }
    out().line("created " + name.full_utf8 + ": " + std::to_string(m.size()) + " bytes asked for, " +
               std::to_string(m.capacity()) + " usable (section of " + std::to_string(m.section_size()) +
               " bytes)");
    if (!hold) {
        err().line("winmmf: note: the mapping is destroyed as this process exits; use --hold to keep it");
        return exit_ok;
    }

    // Held until Ctrl-C, the time limit, or - when stdin is a pipe - its writer closing it.
    HANDLE input = ::GetStdHandle(STD_INPUT_HANDLE);
    const bool watch_input = input != nullptr && input != INVALID_HANDLE_VALUE &&
                             ::GetFileType(input) == FILE_TYPE_PIPE;
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

// ---- info ------------------------------------------------------------------------------------------

std::string describe_channel(const resolved_name& name)
{
    std::error_code ec;
    frame_reader reader = frame_reader::open(name.ref, reader_options{.access = access_mode::read_only}, ec);
    if (ec) {
        return "channel:   unreadable: " + ec.message() + "\n";
    }
    std::string text;
    text += "channel:   " + std::to_string(reader.slot_count()) + " slots of at most " +
            std::to_string(reader.max_frame_size()) + " bytes per frame\n";
    text += "frames:    " + (reader.published() == 0 ? std::string("none published yet")
                                                       : "newest is #" + std::to_string(reader.published())) + "\n";
    switch (reader.writer_state()) {
    case writer_status::active:
        text += "writer:    a running process holds the writer role (process " +
                std::to_string(reader.writer_process_id()) + ")\n";
        break;
    case writer_status::closed:
        text += "writer:    none (closed, or never opened)\n";
        break;
    case writer_status::gone:
        text += "writer:    its process (" + std::to_string(reader.writer_process_id()) +
                ") ended without closing the channel; a new writer may take it over\n";
        break;
    }
    text += "readers:   " + std::to_string(reader.waiting()) + " waiting for a frame now\n";
    const object_name& sibling = reader.notification_name();
    text += "notify:    " + (sibling.empty() ? std::string("(no writer has made one)") : sibling.to_utf8()) + ": ";
    const std::error_code refusal = reader.wait_refusal();
    if (reader.can_wait()) {
        text += "this account may sleep on it\n";
    } else if (refusal == errc::read_only) {
        text += "this account may not write it, so its takes can only poll\n";
    } else {
        text += "unusable (" + (refusal ? refusal.message() : std::string("not opened")) + "), so takes can only poll\n";
    }
    return text;
}

// A frame channel's notification sibling: who is asleep on the channel.
std::string describe_channel_notify(raw_mapping& m)
{
    constexpr std::size_t block_offset = protocol::frame_layout::notify_header_size;
    if (m.view_size < block_offset + sizeof(protocol::waiter_block)) {
        return "notify:    too small to hold the waiter slots\n";
    }
    const std::uint64_t waiting =
        std::atomic_ref<std::uint64_t>(reinterpret_cast<protocol::waiter_block*>(m.view.get() + block_offset)->waiting)
            .load(std::memory_order_acquire);
    return "notify:    " + std::to_string(std::popcount(waiting)) +
           " reader(s) of the channel asleep on it now (`winmmf info` on the channel describes the frames)\n";
}

std::string describe_notification(raw_mapping& m)
{
    constexpr std::size_t block_offset = notification::header_size;
    if (m.view_size < block_offset + sizeof(protocol::notify_block)) {
        return "notify:    too small to hold a notification block\n";
    }
    const protocol::notify_state state(reinterpret_cast<protocol::notify_block*>(m.view.get() + block_offset));
    return "notify:    sequence " + std::to_string(state.sequence()) + ", " + std::to_string(state.waiting_count()) +
           " waiter(s) asleep on it now\n";
}

int cmd_info(std::span<const std::string> argv)
{
    static constexpr option_spec specs[] = {{"--global", false}, {"--session", true}, {"--help", false}};
    const parsed_args args = parse_args(argv, specs);
    if (!args.error.empty()) {
        return fail(exit_usage, "info: " + args.error + " (winmmf info --help)");
    }
    if (args.has("--help")) {
        return out().text(info_help) ? exit_ok : exit_io;
    }
    if (args.positional.size() != 1) {
        return fail(exit_usage, "info needs NAME (winmmf info --help)");
    }
    resolved_name name;
    if (const int status = resolve(args, args.positional[0], name); status != exit_ok) {
        return status;
    }
    raw_mapping m;
    if (const std::error_code ec = open_raw(name.full, false, m)) {
        return fail_open(ec, name);
    }
    const std::size_t page = detail::system_memory_info().page_size;
    std::string text;
    text += "name:      " + name.full_utf8 + "\n";
    text += "section:   " + std::to_string(m.view_size) + " bytes (" + std::to_string(m.view_size / page) +
            " pages of " + std::to_string(page) + "; the size its creator asked for is not recorded)\n";
    const std::uint32_t word = m.word();
    const layout l = layout_of(word);
    text += "layout:    " + layout_name(l) + "\n";
    bool usable = l != layout::corrupt; // openers would accept it
    switch (l) {
    case layout::compatible:
    case layout::corrupt:
        text += "capacity:  " + std::to_string(m.capacity()) + " bytes of data after the 4-byte lock word\n";
        text += "lock:      " + describe_lock_word(word) + "\n";
        break;
    case layout::robust:
        text += "capacity:  " + std::to_string(m.capacity()) + " bytes of data after the " +
                std::to_string(robust_lock::header_size) + "-byte header\n";
        text += "lock:      " + describe_robust(m, usable) + "\n";
        break;
    case layout::frame_channel:
        text += describe_channel(name);
        break;
    case layout::notification:
        text += describe_notification(m);
        break;
    case layout::channel_notify:
        text += describe_channel_notify(m);
        break;
    case layout::unknown_marker:
        text += "header:    first word " + hex32(word) + "; this tool does not know that layout\n";
        break;
    }
    // Whether this account could write: the question behind most "access denied" reports.
    detail::unique_handle probe(::OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name.full.c_str()));
    const DWORD probe_error = probe ? 0 : ::GetLastError();
    text += "access:    ";
    text += probe ? "this account may map it for reading and writing\n"
                  : "this account may map it for reading only (write access: Win32 error " +
                        std::to_string(probe_error) + ")\n";
    if (!out().text(text)) {
        return exit_io;
    }
    return usable ? exit_ok : exit_incompatible;
}

// ---- read -------------------------------------------------------------------------------------------

int cmd_read(std::span<const std::string> argv)
{
    static constexpr option_spec specs[] = {{"--global", false}, {"--session", true}, {"--offset", true},
                                            {"--length", true},  {"--hex", false},    {"--raw", false},
                                            {"--no-lock", false}, {"--timeout", true}, {"--help", false}};
    const parsed_args args = parse_args(argv, specs);
    if (!args.error.empty()) {
        return fail(exit_usage, "read: " + args.error + " (winmmf read --help)");
    }
    if (args.has("--help")) {
        return out().text(read_help) ? exit_ok : exit_io;
    }
    if (args.positional.size() != 1) {
        return fail(exit_usage, "read needs NAME (winmmf read --help)");
    }
    if (args.has("--hex") && args.has("--raw")) {
        return fail(exit_usage, "--hex and --raw exclude each other");
    }
    int status = exit_ok;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    size_option(args, "--offset", offset, status);
    const bool has_length = size_option(args, "--length", length, status);
    const acquire_mode mode = mode_from(args, status);
    if (status != exit_ok) {
        return status;
    }
    resolved_name name;
    if (status = resolve(args, args.positional[0], name); status != exit_ok) {
        return status;
    }
    const bool locking = !args.has("--no-lock");
    raw_mapping m;
    if (const std::error_code ec = open_raw(name.full, locking, m)) {
        return fail_open(ec, name,
                    locking && ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category())
                        ? "taking the lock writes the lock word, which needs write access; --no-lock reads without it"
                        : "");
    }
    if (status = require_data_layout(m, name, locking); status != exit_ok) {
        return status;
    }
    if (!has_length) {
        length = offset <= m.capacity() ? m.capacity() - offset : 0;
    }
    if (!fits_size_t(offset) || !fits_size_t(length) ||
        !protocol::in_bounds(static_cast<std::size_t>(offset), static_cast<std::size_t>(length), m.capacity())) {
        return fail(exit_invalid, "read " + name.full_utf8 + ": offset " + std::to_string(offset) + " + length " +
                                      std::to_string(length) + " reaches past the capacity of " +
                                      std::to_string(m.capacity()) + " bytes");
    }
    // Copied out first, so that the lock is held for a memcpy, not for a slow terminal.
    std::vector<std::byte> copy(static_cast<std::size_t>(length));
    const auto copy_out = [&] {
        if (!copy.empty()) {
            std::memcpy(copy.data(), m.data() + offset, copy.size());
        }
    };
    if (locking) {
        bool owner_died = false;
        if (const std::error_code ec = locked_copy(m, false, mode, copy_out, owner_died)) {
            return fail(ec, "read", name.full_utf8,
                        exit_code_for(ec) == exit_busy && m.kind() == layout::compatible
                            ? "current state: " + describe_lock_word(m.word()) + "; --timeout waits longer, --no-lock reads anyway"
                            : std::string());
        }
        if (owner_died) {
            err().line("winmmf: warning: a writer of " + name.full_utf8 +
                       " died holding the lock; the data may be half-written");
        }
    } else {
        copy_out();
    }

    bool written = true;
    if (args.has("--raw")) {
        written = out().bytes(copy);
    } else if (args.has("--hex")) {
        written = out().text(hex_string(copy) + "\n");
    } else {
        hex_dump_writer dump(offset, offset + copy.size());
        constexpr std::size_t chunk = std::size_t{1} << 16; // a multiple of 16
        for (std::size_t at = 0; at < copy.size() && written; at += chunk) {
            std::string text;
            dump.add(std::span(copy).subspan(at, std::min(chunk, copy.size() - at)), text);
            written = out().text(text);
        }
        std::string text;
        dump.finish(text);
        written = written && out().text(text);
    }
    return written ? exit_ok : fail(exit_io, "read: writing the output failed");
}

// ---- write ------------------------------------------------------------------------------------------

int cmd_write(std::span<const std::string> argv)
{
    static constexpr option_spec specs[] = {{"--global", false}, {"--session", true}, {"--offset", true},
                                            {"--lock", false},   {"--timeout", true}, {"--file", true},
                                            {"--text", true},    {"--help", false}};
    const parsed_args args = parse_args(argv, specs);
    if (!args.error.empty()) {
        return fail(exit_usage, "write: " + args.error + " (winmmf write --help)");
    }
    if (args.has("--help")) {
        return out().text(write_help) ? exit_ok : exit_io;
    }
    if (args.positional.size() != 1) {
        return fail(exit_usage, "write needs NAME (winmmf write --help)");
    }
    if (args.has("--file") && args.has("--text")) {
        return fail(exit_usage, "--file and --text exclude each other");
    }
    if (args.has("--timeout") && !args.has("--lock")) {
        return fail(exit_usage, "--timeout only applies with --lock");
    }
    int status = exit_ok;
    std::uint64_t offset = 0;
    size_option(args, "--offset", offset, status);
    const acquire_mode mode = mode_from(args, status);
    if (status != exit_ok) {
        return status;
    }
    resolved_name name;
    if (status = resolve(args, args.positional[0], name); status != exit_ok) {
        return status;
    }
    const bool locking = args.has("--lock");
    raw_mapping m;
    if (const std::error_code ec = open_raw(name.full, true, m)) {
        return fail_open(ec, name);
    }
    if (status = require_data_layout(m, name, locking); status != exit_ok) {
        return status;
    }
    if (offset > m.capacity()) {
        return fail(exit_invalid, "write " + name.full_utf8 + ": offset " + std::to_string(offset) +
                                      " is past the capacity of " + std::to_string(m.capacity()) + " bytes");
    }
    const std::size_t room = m.capacity() - static_cast<std::size_t>(offset);

    // The whole input first: nothing is written unless all of it fits.
    std::vector<std::byte> input;
    bool too_long = false;
    if (const std::string* text = args.value("--text")) {
        const auto bytes = std::as_bytes(std::span(text->data(), text->size()));
        input.assign(bytes.begin(), bytes.end());
        too_long = input.size() > room;
    } else {
        HANDLE source = ::GetStdHandle(STD_INPUT_HANDLE);
        detail::unique_handle file;
        std::string source_name = "standard input";
        if (const std::string* path = args.value("--file")) {
            file = detail::unique_handle(::CreateFileW(widen(*path).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                                       nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr));
            if (file.get() == INVALID_HANDLE_VALUE) {
                (void)file.release(); // INVALID_HANDLE_VALUE is not a handle to close
                return fail(detail::last_error(), "open", *path);
            }
            source = file.get();
            source_name = *path;
        }
        std::error_code ec;
        if (!read_all(source, room, input, too_long, ec)) {
            return fail(exit_io, "write: reading " + source_name + " failed: " + ec.message());
        }
    }
    if (too_long) {
        return fail(exit_invalid, "write " + name.full_utf8 + ": the input is larger than the " + std::to_string(room) +
                                      " bytes from offset " + std::to_string(offset) +
                                      " to the end of the capacity; nothing was written");
    }
    const auto copy_in = [&] {
        if (!input.empty()) {
            std::memcpy(m.data() + offset, input.data(), input.size());
        }
    };
    if (locking) {
        bool owner_died = false;
        if (const std::error_code ec = locked_copy(m, true, mode, copy_in, owner_died)) {
            return fail(ec, "write", name.full_utf8,
                        exit_code_for(ec) == exit_busy
                            ? (m.kind() == layout::compatible ? "current state: " + describe_lock_word(m.word()) + "; " : std::string()) +
                                  "nothing was written"
                            : std::string());
        }
        if (owner_died) {
            err().line("winmmf: warning: a writer of " + name.full_utf8 +
                       " died holding the lock; the rest of the data may be half-written");
        }
    } else {
        copy_in();
    }
    return out().line("wrote " + std::to_string(input.size()) + " bytes to " + name.full_utf8 + " at offset " +
                      std::to_string(offset) + (locking ? " under the write lock" : ""))
               ? exit_ok
               : exit_io;
}

// ---- watch -------------------------------------------------------------------------------------------

std::string timestamp()
{
    SYSTEMTIME t{};
    ::GetLocalTime(&t);
    char text[32];
    std::snprintf(text, sizeof text, "%02u:%02u:%02u.%03u", static_cast<unsigned>(t.wHour),
                  static_cast<unsigned>(t.wMinute), static_cast<unsigned>(t.wSecond),
                  static_cast<unsigned>(t.wMilliseconds));
    return text;
}

struct watch_settings {
    std::chrono::milliseconds interval{100};
    std::optional<std::uint64_t> count;
    bool include_lock = false;
};

// A frame channel: one line per frame taken, woken by the channel's own notification. The
// frames are only read, so a read-only open is enough (a service's channel grants users no
// more); an account that may not sleep on the notification polls every --interval instead.
int watch_channel(const resolved_name& name, const watch_settings& settings, cancel_token& cancel)
{
    std::error_code ec;
    frame_reader reader = frame_reader::open(name.ref, reader_options{.access = access_mode::read_only}, ec);
    if (ec) {
        return fail_open(ec, name);
    }
    std::vector<std::byte> frame(reader.max_frame_size());
    const bool sleeps = reader.can_wait();
    if (!out().line("watching " + name.full_utf8 + ": a frame channel of " + std::to_string(reader.slot_count()) +
                    " slots, " +
                    (sleeps ? std::string("woken by its notification")
                            : "polling every " + std::to_string(settings.interval.count()) +
                                  " ms (this account may not sleep on its notification)") +
                    "; Ctrl-C stops")) {
        return exit_io;
    }
    for (std::uint64_t lines = 0; !settings.count || lines < *settings.count;) {
        frame_info info;
        if (sleeps) {
            info = reader.take(frame, acquire_mode::wait_for(std::chrono::seconds(1)).with_cancel(cancel), ec);
        } else if (!reader.try_take(frame, info, ec) && !ec) {
            // A blocking take notices a writer that died; polling has to ask.
            if (reader.writer_state() == writer_status::gone) {
                ec = make_error_code(errc::writer_gone);
            } else if (::WaitForSingleObject(stop_event(), static_cast<DWORD>(settings.interval.count())) == WAIT_OBJECT_0) {
                break;
            } else {
                continue;
            }
        }
        if (ec == errc::timeout) {
            continue;
        }
        if (ec == errc::cancelled) {
            break;
        }
        if (ec == errc::end_of_stream || ec == errc::writer_gone) {
            out().line(timestamp() + "  " + ec.message());
            return exit_ok;
        }
        if (ec) {
            return fail(ec, "watch", name.full_utf8);
        }
        std::string line = timestamp() + "  frame #" + std::to_string(info.sequence) + ": " +
                           std::to_string(info.size) + " bytes";
        if (info.meta.width != 0) {
            line += ", " + std::to_string(info.meta.width) + "x" + std::to_string(info.meta.height);
        }
        if (info.skipped != 0) {
            line += ", " + std::to_string(info.skipped) + " skipped before it";
        }
        if (!out().line(line)) {
            return exit_io;
        }
        ++lines;
    }
    return exit_ok;
}

int cmd_watch(std::span<const std::string> argv)
{
    static constexpr option_spec specs[] = {{"--global", false},   {"--session", true},      {"--interval", true},
                                            {"--count", true},     {"--include-lock", false}, {"--help", false}};
    const parsed_args args = parse_args(argv, specs);
    if (!args.error.empty()) {
        return fail(exit_usage, "watch: " + args.error + " (winmmf watch --help)");
    }
    if (args.has("--help")) {
        return out().text(watch_help) ? exit_ok : exit_io;
    }
    if (args.positional.size() != 1) {
        return fail(exit_usage, "watch needs NAME (winmmf watch --help)");
    }
    watch_settings settings;
    settings.include_lock = args.has("--include-lock");
    if (const std::string* text = args.value("--interval")) {
        const std::optional<std::uint64_t> n = parse_uint(*text);
        if (!n || *n == 0 || *n > 3'600'000) {
            return fail(exit_usage, "--interval needs milliseconds between 1 and 3600000, not '" + *text + "'");
        }
        settings.interval = std::chrono::milliseconds(*n);
    }
    if (const std::string* text = args.value("--count")) {
        settings.count = parse_uint(*text);
        if (!settings.count || *settings.count == 0) {
            return fail(exit_usage, "--count needs a positive number of changes, not '" + *text + "'");
        }
    }
    resolved_name name;
    if (const int status = resolve(args, args.positional[0], name); status != exit_ok) {
        return status;
    }
    raw_mapping m;
    if (const std::error_code ec = open_raw(name.full, false, m)) {
        return fail_open(ec, name);
    }
    std::error_code ec;
    cancel_token cancel(ec);
    if (ec) {
        return fail(ec, "watch", name.full_utf8);
    }
    active_cancel.store(&cancel);
    ::SetConsoleCtrlHandler(on_console_signal, TRUE);
    struct unregister {
        ~unregister() { active_cancel.store(nullptr); }
    } unregister_cancel;

    const layout l = m.kind();
    if (l == layout::frame_channel) {
        return watch_channel(name, settings, cancel);
    }

    // Every other layout: compare snapshots of the data (of the whole section, for a layout
    // whose data the tool does not know), woken by the mapping's notification when it has one
    // ("<name>.notify", the convention of notification::name_for) and by the clock otherwise.
    const std::size_t offset = m.data_offset();
    const std::span<const std::byte> watched(m.view.get() + offset, m.view_size - offset);
    notification notifier;
    std::string woken_by = "polling every " + std::to_string(settings.interval.count()) + " ms";
    if (l == layout::notification) {
        notifier = notification::open(name.ref, ec);
    } else if (const object_name notify_name = notification::name_for(name.full, ec); !ec) {
        notifier = notification::open(custom(notify_name.full()), ec);
    }
    if (notifier) {
        woken_by = "woken by " + notifier.name().to_utf8() + ", checking every " +
                   std::to_string(settings.interval.count()) + " ms as well";
    }

    std::vector<std::byte> previous(watched.begin(), watched.end());
    std::vector<std::byte> current(watched.size());
    std::uint32_t previous_word = m.word();
    std::uint64_t previous_sequence = notifier ? notifier.sequence() : 0;
    const bool has_lock_word = l == layout::compatible || l == layout::corrupt;
    if (!out().line("watching " + name.full_utf8 + ": " + std::to_string(watched.size()) + " bytes" +
                    (offset != 0 ? "" : " from the start of the section (" + layout_name(l) + ")") + ", " +
                    woken_by + "; Ctrl-C stops")) {
        return exit_io;
    }
    std::uint64_t lines = 0;
    while (!settings.count || lines < *settings.count) {
        std::uint64_t sequence = previous_sequence;
        if (notifier) {
            std::error_code wait_ec;
            sequence = notifier.wait(previous_sequence, acquire_mode::wait_for(settings.interval).with_cancel(cancel), wait_ec);
            if (wait_ec == errc::cancelled || stop_requested()) {
                break;
            }
        } else if (::WaitForSingleObject(stop_event(), static_cast<DWORD>(settings.interval.count())) == WAIT_OBJECT_0) {
            break;
        }
        std::memcpy(current.data(), watched.data(), current.size());
        const std::uint32_t word = m.word();
        const std::optional<change> c = find_change(previous, current);
        std::string line;
        if (c) {
            line = timestamp() + "  changed " + std::to_string(c->bytes) + (c->bytes == 1 ? " byte" : " bytes") +
                   " in [" + std::to_string(c->first) + ", " + std::to_string(c->last + 1) + ")";
            if (has_lock_word) {
                line += "  lock: " + describe_lock_word(word);
            }
            previous.swap(current);
        } else if (notifier && sequence != previous_sequence) {
            line = timestamp() + "  notified (sequence " + std::to_string(sequence) + "), data unchanged";
        } else if (word != previous_word && settings.include_lock && has_lock_word) {
            line = timestamp() + "  lock: " + describe_lock_word(word);
        }
        previous_word = word;
        previous_sequence = sequence;
        if (!line.empty()) {
            ++lines;
            if (!out().line(line)) {
                return exit_io; // the reader of our output went away
            }
        }
    }
    return exit_ok;
}

// ---- unlock -------------------------------------------------------------------------------------------

int cmd_unlock(std::span<const std::string> argv)
{
    static constexpr option_spec specs[] = {{"--global", false}, {"--session", true}, {"--force", false},
                                            {"--help", false}};
    const parsed_args args = parse_args(argv, specs);
    if (!args.error.empty()) {
        return fail(exit_usage, "unlock: " + args.error + " (winmmf unlock --help)");
    }
    if (args.has("--help")) {
        return out().text(unlock_help) ? exit_ok : exit_io;
    }
    if (args.positional.size() != 1) {
        return fail(exit_usage, "unlock needs NAME (winmmf unlock --help)");
    }
    resolved_name name;
    if (const int status = resolve(args, args.positional[0], name); status != exit_ok) {
        return status;
    }
    raw_mapping m;
    if (const std::error_code ec = open_raw(name.full, true, m)) {
        return fail_open(ec, name);
    }
    const std::uint32_t word = m.word();
    const layout l = layout_of(word);
    if (l == layout::robust) {
        return fail(exit_incompatible, name.full_utf8 + " uses the robust lock, which needs no forcing: the next "
                                           "process that locks it clears a dead holder by itself. A holder that "
                                           "still runs keeps it (`winmmf info " + name.text + "` names it); nothing "
                                           "was changed");
    }
    if (l != layout::compatible && l != layout::corrupt) {
        return fail(exit_incompatible, name.full_utf8 + " is a " + layout_name(l) +
                                           "; it has no WinMMF lock word, and was left alone");
    }
    if (word == 0) {
        return out().line(name.full_utf8 + ": the lock is free; nothing to do") ? exit_ok : exit_io;
    }
    if (!args.has("--force")) {
        return fail(exit_usage, name.full_utf8 + ": lock " + describe_lock_word(word) +
                                    "\n  refusing without --force. The WinMMF lock has no owner, so this tool cannot "
                                    "tell a dead holder from a slow one.\n  If you know the holder is gone, run: "
                                    "winmmf unlock " + name.text + " --force");
    }
    std::error_code ec;
    compatible_lock lock = compatible_lock::attach(m.view.get(), ec); // refuses corrupt words; we repair them
    const std::uint32_t replaced = lock.force_unlock(ec);
    if (ec) {
        return fail(ec, "unlock", name.full_utf8);
    }
    return out().line(name.full_utf8 + ": cleared the lock, which was " + describe_lock_word(replaced) +
                      "; it is free now")
               ? exit_ok
               : exit_io;
}

int run(std::span<const std::string> argv)
{
    if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
        if (argv.size() == 2 && argv[0] == "help") {
            return run(std::vector<std::string>{argv[1], "--help"});
        }
        if (!out().text(main_help)) {
            return exit_io;
        }
        return argv.empty() ? exit_usage : exit_ok;
    }
    if (argv[0] == "--version") {
        return out().line("winmmf " WINMMF_VERSION_STRING) ? exit_ok : exit_io;
    }
    const std::string& command = argv[0];
    const std::span<const std::string> rest = argv.subspan(1);
    if (command == "create") {
        return cmd_create(rest);
    }
    if (command == "info") {
        return cmd_info(rest);
    }
    if (command == "read") {
        return cmd_read(rest);
    }
    if (command == "write") {
        return cmd_write(rest);
    }
    if (command == "watch") {
        return cmd_watch(rest);
    }
    if (command == "unlock") {
        return cmd_unlock(rest);
    }
    return fail(exit_usage, "unknown command '" + command + "' (winmmf --help lists them)");
}

} // namespace

int main()
{
    try {
        int argc = 0;
        LPWSTR* wide = ::CommandLineToArgvW(::GetCommandLineW(), &argc);
        if (wide == nullptr) {
            return fail(exit_failure, "cannot read the command line");
        }
        std::vector<std::string> argv;
        for (int i = 1; i < argc; ++i) {
            argv.push_back(narrow(wide[i]));
        }
        ::LocalFree(wide);
        return run(argv);
    } catch (const std::exception& e) {
        return fail(exit_failure, std::string("unexpected error: ") + e.what());
    }
}
