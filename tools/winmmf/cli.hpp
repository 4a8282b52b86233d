// tools/winmmf/cli.hpp - the platform-independent half of the winmmf tool: argument parsing,
// numbers, exit codes, and how lock words, layouts and bytes are shown.
//
// Kept free of <windows.h> so that tests/unit runs it natively as well as under Wine.
#pragma once

#include <winmmf/error.hpp>
#include <winmmf/name.hpp>
#include <winmmf/protocol/lock_word.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace winmmf::cli {

// Documented in `winmmf --help` and docs/reference/tool.md; scripts rely on them, so they never change.
enum exit_code : int {
    exit_ok = 0,
    exit_usage = 1,          // bad command line; also `unlock` without --force
    exit_not_found = 2,      // no mapping with that name (or no such namespace)
    exit_access_denied = 3,  // the DACL refuses, the view is read-only, a privilege is missing
    exit_busy = 4,           // the lock is held (or the wait for it timed out)
    exit_already_exists = 5, // create: the name is taken
    exit_invalid = 6,        // bad name or size, or a range past the mapping's capacity
    exit_incompatible = 7,   // another layout or lock policy, a corrupt lock word, not a mapping
    exit_io = 8,             // reading the input or writing the output failed
    exit_failure = 9,        // anything else; the message says what
};

// Win32 error values this file reasons about (no <windows.h> here).
namespace win32_error {
inline constexpr int file_not_found = 2;
inline constexpr int path_not_found = 3;
inline constexpr int access_denied = 5;
inline constexpr int invalid_handle = 6; // the name belongs to an object of another type
inline constexpr int invalid_parameter = 87;
inline constexpr int already_exists = 183;
inline constexpr int privilege_not_held = 1314;
} // namespace win32_error

inline int exit_code_for(const std::error_code& ec) noexcept
{
    if (!ec) {
        return exit_ok;
    }
    if (ec.category() == winmmf_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::not_found:
            return exit_not_found;
        case errc::read_only:
        case errc::large_page_privilege_missing:
        case errc::global_privilege_missing:
            return exit_access_denied;
        case errc::read_locked:
        case errc::write_locked:
        case errc::uninitialized:
        case errc::max_readers:
        case errc::timeout:
        case errc::max_tries_reached:
            return exit_busy;
        case errc::already_exists:
            return exit_already_exists;
        case errc::empty_name:
        case errc::name_contains_backslash:
        case errc::name_contains_nul:
        case errc::name_too_long:
        case errc::invalid_utf8:
        case errc::invalid_utf16:
        case errc::zero_size:
        case errc::size_overflow:
        case errc::too_large:
        case errc::out_of_bounds:
            return exit_invalid;
        case errc::wrong_lock_policy:
        case errc::corrupt_lock_word:
        case errc::not_winmmf_mapping:
        case errc::wrong_layout:
        case errc::unsupported_layout_version:
            return exit_incompatible;
        case errc::winmmf_name_too_long:
        case errc::winmmf_name_not_ascii:
        case errc::misaligned:
        case errc::no_change_notification:
            return exit_invalid;
        case errc::channel_has_writer:
        case errc::too_many_waiters:
        case errc::operation_pending:
            return exit_busy;
        default:
            return exit_failure;
        }
    }
    if (ec.category() == std::system_category()) {
        switch (ec.value()) {
        case win32_error::file_not_found:
        case win32_error::path_not_found:
            return exit_not_found;
        case win32_error::access_denied:
        case win32_error::privilege_not_held:
            return exit_access_denied;
        case win32_error::invalid_handle:
            return exit_incompatible;
        case win32_error::invalid_parameter:
            return exit_invalid;
        case win32_error::already_exists:
            return exit_already_exists;
        default:
            return exit_failure;
        }
    }
    return exit_failure;
}

// ---- names a Rust WinMMF peer can share --------------------------------------------------------

// Why a Rust WinMMF peer cannot share `name` (check_winmmf_name), in words; empty when it can.
inline std::string winmmf_name_problem(const object_name& name)
{
    const std::error_code ec = check_winmmf_name(name);
    if (!ec) {
        return {};
    }
    if (ec == errc::winmmf_name_not_ascii) {
        return "it is not ASCII, and WinMMF passes names to the ANSI API, so a WinMMF peer's name with the same "
               "text reaches the kernel as other characters and never meets this one";
    }
    if (ec == errc::winmmf_name_too_long) {
        // What the peer asks for: the whole name (Local\x for a session's x), cut to 63 bytes.
        const std::string peer = (name.scope() == name_scope::session ? std::string("Local\\")
                                                                      : detail::utf::to_utf8_lossy(name.prefix())) +
                                 detail::utf::to_utf8_lossy(name.object());
        return "it is " + std::to_string(peer.size()) + " bytes, prefix included, and WinMMF cuts names to " +
               std::to_string(winmmf_max_name_bytes) + " bytes (57 after Local\\, 56 after Global\\): a WinMMF peer " +
               "asking for it opens " + peer.substr(0, winmmf_max_name_bytes);
    }
    return ec.message();
}

// ---- numbers ---------------------------------------------------------------------------------

// A plain unsigned number: decimal, or hexadecimal with 0x. Nothing else, no overflow.
constexpr std::optional<std::uint64_t> parse_uint(std::string_view text) noexcept
{
    std::uint64_t base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    }
    if (text.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (const char c : text) {
        std::uint64_t digit = 0;
        if (c >= '0' && c <= '9') {
            digit = static_cast<std::uint64_t>(c - '0');
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            digit = static_cast<std::uint64_t>(c - 'a' + 10);
        } else if (base == 16 && c >= 'A' && c <= 'F') {
            digit = static_cast<std::uint64_t>(c - 'A' + 10);
        } else if (c == '_' || c == '\'') {
            continue; // 1_000_000 or 1'000'000 read better than 1000000
        } else {
            return std::nullopt;
        }
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / base) {
            return std::nullopt;
        }
        value = value * base + digit;
    }
    return value;
}

// A byte count: a number with an optional binary suffix, K/KiB (1024), M/MiB, G/GiB, T/TiB,
// in either case ("64K", "6MiB", "0x1000", "1g").
constexpr std::optional<std::uint64_t> parse_size(std::string_view text) noexcept
{
    std::uint64_t multiplier = 1;
    const auto strip = [&](std::string_view suffix) {
        if (text.size() <= suffix.size()) {
            return false;
        }
        const std::string_view tail = text.substr(text.size() - suffix.size());
        for (std::size_t i = 0; i < suffix.size(); ++i) {
            char c = tail[i];
            if (c >= 'a' && c <= 'z') {
                c = static_cast<char>(c - 'a' + 'A');
            }
            if (c != suffix[i]) {
                return false;
            }
        }
        text.remove_suffix(suffix.size());
        return true;
    };
    // Hex digits include B; only strip a suffix from a decimal number.
    const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    if (!hex) {
        constexpr std::string_view units = "KMGT";
        for (std::size_t i = 0; i < units.size(); ++i) {
            const char unit[] = {units[i], 'I', 'B', '\0'};
            const char short_unit[] = {units[i], '\0'};
            if (strip(unit) || strip(short_unit)) {
                multiplier = std::uint64_t{1} << (10 * (i + 1));
                break;
            }
        }
    }
    const std::optional<std::uint64_t> number = parse_uint(text);
    if (!number || *number > std::numeric_limits<std::uint64_t>::max() / multiplier) {
        return std::nullopt;
    }
    return *number * multiplier;
}

// ---- the command line --------------------------------------------------------------------------

struct option_spec {
    std::string_view name; // "--offset"
    bool takes_value;
};

struct parsed_args {
    std::vector<std::string> positional;
    std::map<std::string, std::string, std::less<>> options; // flags map to ""
    std::string error;                                       // empty when parsing succeeded

    bool has(std::string_view option) const { return options.find(option) != options.end(); }
    const std::string* value(std::string_view option) const
    {
        const auto found = options.find(option);
        return found == options.end() ? nullptr : &found->second;
    }
};

// Options may come anywhere among the positional arguments, as `--name value` or
// `--name=value`; `--` ends the options. An option not in `specs`, one given twice, or a
// missing value is an error with a message naming it.
inline parsed_args parse_args(std::span<const std::string> args, std::span<const option_spec> specs)
{
    parsed_args result;
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (options_done || arg.size() < 2 || arg[0] != '-' || (arg[1] != '-' && arg != "-h")) {
            result.positional.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        std::string name = arg == "-h" ? std::string("--help") : arg;
        std::optional<std::string> inline_value;
        if (const std::size_t eq = name.find('='); eq != std::string::npos) {
            inline_value = name.substr(eq + 1);
            name.resize(eq);
        }
        const option_spec* spec = nullptr;
        for (const option_spec& s : specs) {
            if (s.name == name) {
                spec = &s;
            }
        }
        if (spec == nullptr) {
            result.error = "unknown option " + name;
            return result;
        }
        if (result.has(name)) {
            result.error = "option " + name + " given twice";
            return result;
        }
        std::string value;
        if (spec->takes_value) {
            if (inline_value) {
                value = *inline_value;
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                result.error = "option " + name + " needs a value";
                return result;
            }
        } else if (inline_value) {
            result.error = "option " + name + " takes no value";
            return result;
        }
        result.options.emplace(std::move(name), std::move(value));
    }
    return result;
}

// ---- what a lock word and a layout look like ------------------------------------------------------

// "0x" and all `bits` / 4 digits: a lock word is read by its bits, so no digit is dropped.
inline std::string hex_word(std::uint64_t value, int bits)
{
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out = "0x";
    for (int shift = bits - 4; shift >= 0; shift -= 4) {
        out += digits[(value >> shift) & 0xFu];
    }
    return out;
}
inline std::string hex32(std::uint32_t value) { return hex_word(value, 32); }
inline std::string hex64(std::uint64_t value) { return hex_word(value, 64); }

// Which layout the first word says the mapping has.
enum class layout : std::uint8_t {
    compatible,     // the WinMMF lock word: winmmf's compatible_lock or no_lock, or a WinMMF peer
    robust,         // winmmf's robust lock policy (protocol::lock_word::robust_layout_marker)
    frame_channel,  // winmmf's frame channel (protocol::lock_word::channel_layout_marker)
    notification,   // a winmmf notification (protocol::lock_word::notify_layout_marker)
    channel_notify, // a frame channel's notification sibling (protocol::lock_word::channel_notify_marker)
    unknown_marker, // top byte 0xFF with a tag no winmmf layout here uses
    corrupt,        // a value no WinMMF peer can write
};

constexpr layout layout_of(std::uint32_t word) noexcept
{
    switch (protocol::lock_word::classify(word)) {
    case protocol::lock_word::state::foreign:
        if (word == protocol::lock_word::robust_layout_marker) {
            return layout::robust;
        }
        if (word == protocol::lock_word::channel_layout_marker) {
            return layout::frame_channel;
        }
        if (word == protocol::lock_word::notify_layout_marker) {
            return layout::notification;
        }
        if (word == protocol::lock_word::channel_notify_marker) {
            return layout::channel_notify;
        }
        return layout::unknown_marker;
    case protocol::lock_word::state::corrupt:
        return layout::corrupt;
    default:
        return layout::compatible;
    }
}

inline std::string layout_name(layout l)
{
    switch (l) {
    case layout::compatible:
        return "WinMMF-compatible (4-byte lock word at offset 0, data at offset 4)";
    case layout::robust:
        return "winmmf robust lock policy";
    case layout::frame_channel:
        return "winmmf frame channel";
    case layout::notification:
        return "winmmf notification";
    case layout::channel_notify:
        return "winmmf frame channel's notification sibling";
    case layout::unknown_marker:
        return "unknown (a winmmf layout marker this tool does not know)";
    case layout::corrupt:
        return "WinMMF-compatible, but the lock word is corrupt";
    }
    return "unknown";
}

// "free", "3 readers", "writer", ... for a WinMMF lock word, with the raw value.
inline std::string describe_lock_word(std::uint32_t word)
{
    std::string text;
    switch (protocol::lock_word::classify(word)) {
    case protocol::lock_word::state::free:
        text = "free";
        break;
    case protocol::lock_word::state::read_locked: {
        const std::uint32_t readers = protocol::lock_word::reader_count(word);
        text = "held by " + std::to_string(readers) + (readers == 1 ? " reader" : " readers");
        break;
    }
    case protocol::lock_word::state::write_locked:
        text = "held by a writer";
        break;
    case protocol::lock_word::state::uninitialized:
        text = "uninitialized (creation not finished, or its creator died during it)";
        break;
    case protocol::lock_word::state::foreign:
        text = "layout marker of: " + layout_name(layout_of(word));
        break;
    case protocol::lock_word::state::corrupt:
        text = (word & protocol::lock_word::unused_mask) != 0
                   ? "corrupt (bits 24-30 are set; no WinMMF peer writes them)"
                   : "corrupt (a writer and readers at once)";
        break;
    }
    return text + " [" + hex32(word) + "]";
}

// ---- bytes -----------------------------------------------------------------------------------------

inline std::string hex_string(std::span<const std::byte> bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2 + 1);
    for (const std::byte b : bytes) {
        const auto v = static_cast<unsigned>(b);
        out += digits[v >> 4];
        out += digits[v & 15u];
    }
    return out;
}

// hexdump -C: offset, 16 bytes in two groups, printable ASCII; a run of identical lines is
// shown once and then "*", so a mostly-zero mapping of a gigabyte stays readable. Fed in
// chunks (each a multiple of 16 bytes, except the last), so a large dump is streamed instead
// of built in memory; finish() prints the offset just past the end.
class hex_dump_writer {
public:
    // `base` is the offset printed for the first byte, `end` the offset past the last one.
    hex_dump_writer(std::uint64_t base, std::uint64_t end) noexcept
        : next_(base), end_(end), offset_digits_(end > 0xFFFFFFFFu ? 16 : 8)
    {
    }

    void add(std::span<const std::byte> bytes, std::string& out)
    {
        for (std::size_t at = 0; at < bytes.size(); at += 16) {
            const std::size_t n = bytes.size() - at < 16 ? bytes.size() - at : 16;
            line(bytes.subspan(at, n), out);
        }
    }

    void finish(std::string& out)
    {
        if (end_ != start_) {
            put_offset(end_, out);
            out += '\n';
        }
    }

private:
    static constexpr char digits[] = "0123456789abcdef";

    void put_offset(std::uint64_t offset, std::string& out) const
    {
        for (int shift = (offset_digits_ - 1) * 4; shift >= 0; shift -= 4) {
            out += digits[(offset >> shift) & 0xFu];
        }
    }

    void line(std::span<const std::byte> bytes, std::string& out)
    {
        const std::uint64_t offset = next_;
        next_ += bytes.size();
        if (bytes.size() == 16 && have_previous_ &&
            std::equal(bytes.begin(), bytes.end(), previous_.begin())) {
            if (!skipping_) {
                out += "*\n";
                skipping_ = true;
            }
            return;
        }
        skipping_ = false;
        have_previous_ = bytes.size() == 16;
        std::copy(bytes.begin(), bytes.end(), previous_.begin());
        put_offset(offset, out);
        out += "  ";
        for (std::size_t i = 0; i < 16; ++i) {
            if (i < bytes.size()) {
                const auto v = static_cast<unsigned>(bytes[i]);
                out += digits[v >> 4];
                out += digits[v & 15u];
                out += ' ';
            } else {
                out += "   ";
            }
            if (i == 7) {
                out += ' ';
            }
        }
        out += " |";
        for (const std::byte b : bytes) {
            const auto v = static_cast<unsigned char>(b);
            out += v >= 0x20 && v < 0x7F ? static_cast<char>(v) : '.';
        }
        out += "|\n";
    }

    std::uint64_t next_;
    const std::uint64_t start_ = next_;
    std::uint64_t end_;
    int offset_digits_;
    std::array<std::byte, 16> previous_{};
    bool have_previous_ = false;
    bool skipping_ = false;
};

inline std::string hex_dump(std::span<const std::byte> bytes, std::uint64_t base)
{
    hex_dump_writer writer(base, base + bytes.size());
    std::string out;
    writer.add(bytes, out);
    writer.finish(out);
    return out;
}

// Where two snapshots of the same length differ: [first, last] and how many bytes differ.
struct change {
    std::size_t first = 0;
    std::size_t last = 0;
    std::size_t bytes = 0;
};

inline std::optional<change> find_change(std::span<const std::byte> before,
                                         std::span<const std::byte> after) noexcept
{
    const std::size_t n = before.size() < after.size() ? before.size() : after.size();
    std::optional<change> result;
    if (n == 0 || std::memcmp(before.data(), after.data(), n) == 0) {
        return result; // the common case, at memcmp speed
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (before[i] != after[i]) {
            if (!result) {
                result = change{i, i, 0};
            }
            result->last = i;
            ++result->bytes;
        }
    }
    return result;
}

} // namespace winmmf::cli
