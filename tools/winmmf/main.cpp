// winmmf - look at and repair named shared memory from the command line: what ipcs and ipcrm
// are to System V shared memory, for Windows file mappings.
//
//   winmmf create NAME SIZE [--hold]     winmmf read NAME [--hex|--raw]     winmmf watch NAME
//   winmmf info NAME                      winmmf write NAME [--lock]          winmmf unlock NAME --force
//   winmmf list [--global|--all] [--json]
//
// This file is the command table - each command's name, arguments, one-line summary, help text,
// options and function - and the dispatch. The preamble every command runs through is in
// command.cpp; each command is a file under commands/. The command line is read as UTF-16
// (GetCommandLineW) and handled as UTF-8; text goes to a console as UTF-16 (WriteConsoleW) and to
// files and pipes as UTF-8, so names in any script survive both ways. Exit codes: cli.hpp
// (exit_code_for maps every library error to one) and `winmmf --help`.
#include "command.hpp"

#include <winmmf/detail/utf.hpp>

#include <shellapi.h>

#include <algorithm>
#include <array>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#if !defined(WINMMF_VERSION_STRING)
#define WINMMF_VERSION_STRING "unknown"
#endif

namespace {

using namespace winmmf::cli;
using namespace winmmf::tool;

// ---- help -------------------------------------------------------------------------------------------

constexpr std::string_view main_help_head = R"help(winmmf - inspect and repair named shared memory (Windows file mappings)

usage: winmmf <command> [options]        winmmf <command> --help for details

commands:
)help";

constexpr std::string_view main_help_tail = R"help(
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
For a WinMMF-compatible mapping whose name a Rust WinMMF peer cannot share - more than 63
bytes with the prefix (WinMMF cuts it), or not ASCII (WinMMF uses the ANSI API) - a warning on
standard error says why; the exit code does not change.
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

constexpr std::string_view list_help = R"help(usage: winmmf list [--local|--global|--all|--session N] [--type section|event|all] [--json]

Lists the named objects of a namespace - the `ipcs` Windows lacks - and for every section
(file mapping) the layout `info` decodes: a WinMMF-compatible mapping's capacity and lock word,
a robust lock, a frame channel, a notification. Nothing is locked or written.
  --local            this session's Local\ namespace (the default)
  --global           Global\, where services' mappings live
  --all              both (in session 0, a service's, they are one directory)
  --session N        session N's Local\ namespace (Session\N\)
  --type T           section, event, or all (every object: mutexes, symbolic links, ...);
                     default: sections and events, the kinds winmmf makes
  --json             one JSON document on standard output, for scripts
What belongs to another object is listed under it: a frame channel's notification sibling
(NAME#<16 hex digits>), the waiters' events (...#<16 hex digits>w<slot>), a mapping's
notification (NAME.notify). A section this account may not open is listed as "access denied".
Exit code 0 when every namespace asked for could be read, even with objects denied; else the
code of the first that could not (2: no such session, 3: access denied).
)help";

constexpr std::string_view unlock_help = R"help(usage: winmmf unlock NAME --force [--global|--session N]

Clears the lock word of a WinMMF-compatible mapping. The WinMMF lock has no owner, so a process
that dies holding it leaves it held for ever and every other process times out. Use this only
when you know the holder is gone (the process list, or its logs, say so): if it is alive,
clearing its lock lets others in while it is still writing.
Without --force this prints the lock's state and changes nothing. A free lock is left alone.
)help";

// ---- the options ------------------------------------------------------------------------------------
// --global, --session N and --help belong to every command (command.hpp).

constexpr std::string_view byte_count = "a byte count such as 100, 4K or 0x1000";

constexpr option create_options[] = {
    {.name = "--sddl", .kind = value::text},
    {.name = "--hold"},
    {.name = "--hold-seconds", .kind = value::text}, // create reads it, after SIZE
};
constexpr option read_options[] = {
    {.name = "--offset", .kind = value::size, .wants = byte_count},
    {.name = "--length", .kind = value::size, .wants = byte_count},
    {.name = "--hex", .excludes = "--raw"},
    {.name = "--raw"},
    {.name = "--no-lock"},
    {.name = "--timeout", .kind = value::number, .wants = "milliseconds (0 tries once)"},
};
constexpr option write_options[] = {
    {.name = "--offset", .kind = value::size, .wants = byte_count},
    {.name = "--lock"},
    {.name = "--timeout", .kind = value::number, .wants = "milliseconds (0 tries once)", .only_with = "--lock"},
    {.name = "--file", .kind = value::text, .excludes = "--text"},
    {.name = "--text", .kind = value::text},
};
constexpr option watch_options[] = {
    {.name = "--interval", .kind = value::number, .wants = "milliseconds between 1 and 3600000", .min = 1, .max = 3'600'000},
    {.name = "--count", .kind = value::number, .wants = "a positive number of changes", .min = 1},
    {.name = "--include-lock"},
};
constexpr option list_options[] = {
    {.name = "--local", .excludes = "--global"},
    {.name = "--all", .excludes = "--local"},
    {.name = "--type", .kind = value::text},
    {.name = "--json"},
};
constexpr option unlock_options[] = {
    {.name = "--force"},
};

// ---- the command table --------------------------------------------------------------------------------

constexpr std::array commands = {
    command{.name = "create", .arguments = "NAME SIZE",
            .summary = "create a mapping (it lives while a handle is open: --hold keeps one)",
            .help = create_help, .options = create_options, .access = opens::nothing, .run = run_create},
    command{.name = "info", .arguments = "NAME", .summary = "size, capacity, layout and the decoded lock word",
            .help = info_help, .options = {}, .access = opens::to_read, .run = run_info},
    command{.name = "read", .arguments = "NAME", .summary = "print the data (hex dump, --hex, or --raw bytes)",
            .help = read_help, .options = read_options, .access = opens::to_write, .read_only_with = "--no-lock",
            .denied_hint = "taking the lock writes the lock word, which needs write access; --no-lock reads without it",
            .run = run_read},
    command{.name = "write", .arguments = "NAME", .summary = "copy standard input, --file or --text into the mapping",
            .help = write_help, .options = write_options, .access = opens::to_write, .run = run_write},
    command{.name = "watch", .arguments = "NAME", .summary = "print a line each time the data changes",
            .help = watch_help, .options = watch_options, .access = opens::to_read, .run = run_watch},
    command{.name = "list", .arguments = "", .summary = "the named objects of a namespace, each mapping's layout",
            .help = list_help, .options = list_options, .access = opens::nothing, .run = run_list},
    command{.name = "unlock", .arguments = "NAME",
            .summary = "clear a stale lock left by a process that died (needs --force)",
            .help = unlock_help, .options = unlock_options, .access = opens::to_write, .run = run_unlock},
};

// The head, "  read NAME          print the data ..." for each command, and the tail.
std::string main_help()
{
    std::string text(main_help_head);
    for (const command& c : commands) {
        std::string usage = std::string(c.name) + " " + std::string(c.arguments);
        usage.resize(std::max<std::size_t>(usage.size() + 1, 19), ' ');
        text += "  " + usage + std::string(c.summary) + "\n";
    }
    return text + std::string(main_help_tail);
}

int run(std::span<const std::string> argv)
{
    if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
        if (argv.size() == 2 && argv[0] == "help") {
            return run(std::vector<std::string>{argv[1], "--help"});
        }
        if (!out().text(main_help())) {
            return exit_io;
        }
        return argv.empty() ? exit_usage : exit_ok;
    }
    if (argv[0] == "--version") {
        return out().line("winmmf " WINMMF_VERSION_STRING) ? exit_ok : exit_io;
    }
    for (const command& c : commands) {
        if (argv[0] == c.name) {
            return run_command(c, argv.subspan(1));
        }
    }
    return fail(exit_usage, "unknown command '" + argv[0] + "' (winmmf --help lists them)");
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
            argv.push_back(winmmf::detail::utf::to_utf8_lossy(std::wstring_view(wide[i])));
        }
        ::LocalFree(wide);
        return run(argv);
    } catch (const std::exception& e) {
        // Whatever a command did not catch (std::bad_alloc, mostly) ends it here, with code 9.
        return fail(exit_failure, std::string("unexpected error: ") + e.what());
    }
}
