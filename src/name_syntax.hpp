// src/name_syntax.hpp - the textual form of a mapping name that people type and tools print.
//
// Shared by the command-line tool and the C ABI, which both take a name as one UTF-8 string.
// Platform-independent, so the rules are unit-tested natively as well (tests/unit).
//
//   Local\frames      name_scope::local,   "frames"
//   Global\cam0       name_scope::global,  "cam0"
//   Session\2\x       name_scope::session, 2, "x"
//   frames            no backslash at all: the default scope (Local\ unless told otherwise)
//   MyNamespace\x     anything else with a backslash: used exactly as given (name_scope::custom),
//                     e.g. a private namespace; the kernel decides whether it exists
//
// The prefixes are matched without regard to ASCII case, as the kernel matches them
// (CreateFileMappingW looks names up case-insensitively), and are written back in their
// canonical spelling. The object part is validated later, by winmmf::object_name, with the
// library's own errors (a backslash after "Global\" is errc::name_contains_backslash).
#pragma once

#include <winmmf/name.hpp>

#include <cstdint>
#include <string_view>

namespace winmmf::interfaces {

struct parsed_name {
    name_ref ref;
    bool has_prefix; // false for a bare name, which took `default_scope`
};

namespace detail {

constexpr bool starts_with_nocase(std::string_view text, std::string_view prefix) noexcept
{
    if (text.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        char p = prefix[i];
        if (p >= 'A' && p <= 'Z') {
            p = static_cast<char>(p - 'A' + 'a');
        }
        if (c != p) {
            return false;
        }
    }
    return true;
}

} // namespace detail

// The returned name_ref points into `text`, which must outlive it. `default_scope` and
// `default_session` apply to a bare name only (the tool's --global / --session N).
constexpr parsed_name parse_name(std::string_view text, name_scope default_scope = name_scope::local,
                                 std::uint32_t default_session = 0) noexcept
{
    if (detail::starts_with_nocase(text, "local\\")) {
        return {local(text.substr(6)), true};
    }
    if (detail::starts_with_nocase(text, "global\\")) {
        return {global(text.substr(7)), true};
    }
    if (detail::starts_with_nocase(text, "session\\")) {
        const std::string_view rest = text.substr(8);
        std::uint64_t id = 0;
        std::size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9' && digits < 10) {
            id = id * 10 + static_cast<std::uint64_t>(rest[digits] - '0');
            ++digits;
        }
        if (digits != 0 && digits < rest.size() && rest[digits] == '\\' && id <= 0xFFFFFFFFu) {
            return {session(static_cast<std::uint32_t>(id), rest.substr(digits + 1)), true};
        }
        // "Session\abc\x" is not a session namespace; let the kernel judge it as given.
        return {custom(text), true};
    }
    if (text.find('\\') != std::string_view::npos) {
        return {custom(text), true};
    }
    return {name_ref(default_scope, text, default_session), false};
}

} // namespace winmmf::interfaces
