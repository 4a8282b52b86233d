// tools/winmmf/listing.hpp - the platform-independent half of `winmmf list`: which objects belong
// to which (by the names the library gives the objects it makes beside a mapping), how an open
// that failed is shown, and JSON text.
//
// Kept free of <windows.h> so that tests/unit runs it natively as well as under Wine.
#pragma once

#include "cli.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace winmmf::cli {

// ---- who owns what ------------------------------------------------------------------------------

// What an object's name says it belongs to. The library names what it makes beside an object:
//   <channel>#<16 hex digits>            Section: a frame channel's notification sibling
//   <x>#<16 hex digits>w<slot>           Event: a waiter's event, where <x>#<16 hex> is a channel's
//                                        sibling, or <x> a notification (slot 0..63)
//   <mapping>.notify                     Section: the notification notification::name_for names
// Recognised by name alone: anyone may make an object with such a name.
enum class object_role : std::uint8_t {
    none,
    channel_sibling,
    waiter_event,
    companion_notification,
};

inline std::string_view role_key(object_role r) noexcept
{
    switch (r) {
    case object_role::channel_sibling:
        return "channel_sibling";
    case object_role::waiter_event:
        return "waiter_event";
    case object_role::companion_notification:
        return "companion_notification";
    case object_role::none:
        break;
    }
    return "none";
}

// "#" and 16 lowercase hex digits, as detail::with_nonce writes them.
constexpr bool is_nonce_tag(std::string_view s) noexcept
{
    if (s.size() != 17 || s[0] != '#') {
        return false;
    }
    for (const char c : s.substr(1)) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

// A waiter slot's index as detail::waiter_event_name writes it: decimal, no leading zero, < 64.
constexpr bool is_slot_number(std::string_view s) noexcept
{
    if (s.empty() || s.size() > 2 || (s.size() == 2 && s[0] == '0')) {
        return false;
    }
    unsigned value = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value < 64;
}

// "<base>#<16 hex>": the base; nullopt otherwise.
constexpr std::optional<std::string_view> sibling_base(std::string_view name) noexcept
{
    if (name.size() <= 17 || !is_nonce_tag(name.substr(name.size() - 17))) {
        return std::nullopt;
    }
    return name.substr(0, name.size() - 17);
}

// "<base>#<16 hex>w<slot>": "<base>#<16 hex>"; nullopt otherwise.
constexpr std::optional<std::string_view> waiter_prefix(std::string_view name) noexcept
{
    const std::size_t w = name.rfind('w');
    if (w == std::string_view::npos || !is_slot_number(name.substr(w + 1))) {
        return std::nullopt;
    }
    const std::string_view prefix = name.substr(0, w);
    if (!sibling_base(prefix)) {
        return std::nullopt;
    }
    return prefix;
}

inline constexpr std::string_view companion_suffix = ".notify";

struct listed_object {
    std::string name; // the object part, UTF-8: "cam0", not "Local\cam0"
    std::string type; // "Section", "Event", ...
};

struct placed_object {
    std::size_t index = 0;  // into the objects shown
    std::size_t depth = 0;  // 0: listed on its own; else under its owner, which comes first
    object_role role = object_role::none;
    std::string owner;      // the owner's object part; empty for object_role::none
    bool owner_present = false; // the owner is in the namespace (a name may outlive its owner)
};

// The objects `shown` (a subset of `all`, the whole namespace) in display order: each object of
// its own sorted by name, and under it what belongs to it, sorted by name too. An owner is
// looked for in `all`; one that is not among `shown` leaves its objects on their own, still
// marked.
inline std::vector<placed_object> arrange(std::span<const listed_object> shown, std::span<const listed_object> all)
{
    std::map<std::string_view, bool, std::less<>> sections; // name -> is a Section
    for (const listed_object& o : all) {
        sections.emplace(o.name, o.type == "Section");
    }
    const auto is_section = [&](std::string_view name) {
        const auto found = sections.find(name);
        return found != sections.end() && found->second;
    };
    std::map<std::string_view, std::size_t, std::less<>> shown_index;
    for (std::size_t i = 0; i < shown.size(); ++i) {
        shown_index.emplace(shown[i].name, i);
    }

    std::vector<placed_object> placed(shown.size());
    std::vector<std::optional<std::size_t>> parent(shown.size());
    for (std::size_t i = 0; i < shown.size(); ++i) {
        const listed_object& o = shown[i];
        placed_object& p = placed[i];
        p.index = i;
        if (o.type == "Event") {
            if (const auto prefix = waiter_prefix(o.name)) {
                p.role = object_role::waiter_event;
                const std::string_view base = prefix->substr(0, prefix->size() - 17);
                // A channel's sibling, else a notification; with neither left, the base is who
                // it was made for.
                p.owner = std::string(is_section(*prefix) ? *prefix : base);
                p.owner_present = is_section(p.owner);
            }
        } else if (o.type == "Section") {
            if (const auto base = sibling_base(o.name)) {
                p.role = object_role::channel_sibling;
                p.owner = std::string(*base);
                p.owner_present = is_section(*base);
            } else if (o.name.size() > companion_suffix.size() &&
                       std::string_view(o.name).substr(o.name.size() - companion_suffix.size()) == companion_suffix) {
                const std::string_view mapping =
                    std::string_view(o.name).substr(0, o.name.size() - companion_suffix.size());
                if (is_section(mapping)) { // otherwise it is just a notification named so
                    p.role = object_role::companion_notification;
                    p.owner = std::string(mapping);
                    p.owner_present = true;
                }
            }
        }
        if (p.owner_present) {
            if (const auto found = shown_index.find(p.owner); found != shown_index.end()) {
                parent[i] = found->second;
            }
        }
    }

    // Owners' names are strictly shorter than what they own, so following parents ends.
    std::vector<std::vector<std::size_t>> children(shown.size());
    std::vector<std::size_t> roots;
    for (std::size_t i = 0; i < shown.size(); ++i) {
        (parent[i] ? children[*parent[i]] : roots).push_back(i);
    }
    const auto by_name = [&](std::size_t a, std::size_t b) { return shown[a].name < shown[b].name; };
    std::sort(roots.begin(), roots.end(), by_name);
    for (auto& c : children) {
        std::sort(c.begin(), c.end(), by_name);
    }
    std::vector<placed_object> ordered;
    ordered.reserve(shown.size());
    const auto visit = [&](const auto& self, std::size_t i, std::size_t depth) -> void {
        placed[i].depth = depth;
        ordered.push_back(placed[i]);
        for (const std::size_t c : children[i]) {
            self(self, c, depth + 1);
        }
    };
    for (const std::size_t r : roots) {
        visit(visit, r, 0);
    }
    return ordered;
}

// ---- what happened when a listed section was opened -----------------------------------------------

enum class open_outcome : std::uint8_t {
    opened,
    access_denied, // listed, not skipped: the object is there, this account may not open it
    gone,          // closed between the listing and the open (or it is no longer a section)
    failed,        // any other error; the message says which
};

inline open_outcome classify_open(const std::error_code& ec) noexcept
{
    if (!ec) {
        return open_outcome::opened;
    }
    if (ec.category() == std::system_category()) {
        switch (ec.value()) {
        case win32_error::access_denied:
            return open_outcome::access_denied;
        case win32_error::file_not_found:
        case win32_error::path_not_found:
        case win32_error::invalid_handle: // the name now belongs to another kind of object
            return open_outcome::gone;
        default:
            return open_outcome::failed;
        }
    }
    return ec == errc::not_found ? open_outcome::gone : open_outcome::failed;
}

inline std::string_view outcome_key(open_outcome o) noexcept
{
    switch (o) {
    case open_outcome::opened:
        return "ok";
    case open_outcome::access_denied:
        return "denied";
    case open_outcome::gone:
        return "gone";
    case open_outcome::failed:
        break;
    }
    return "error";
}

// ---- JSON --------------------------------------------------------------------------------------------

// `text` (UTF-8) as a JSON string, quotes included: '"', '\' and the control characters escaped,
// everything else (non-ASCII included) as it is, which JSON allows.
inline std::string json_string(std::string_view text)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (u < 0x20 || u == 0x7F) {
                out += "\\u00";
                out += hex[u >> 4];
                out += hex[u & 15u];
            } else {
                out += c;
            }
        }
    }
    out += '"';
    return out;
}

// {"category":"system","value":5,"message":"..."}, or null.
inline std::string json_error(const std::error_code& ec)
{
    if (!ec) {
        return "null";
    }
    std::string message = ec.message();
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == ' ')) {
        message.pop_back();
    }
    return std::string("{\"category\":") + json_string(ec.category().name()) + ",\"value\":" +
           std::to_string(ec.value()) + ",\"message\":" + json_string(message) + "}";
}

} // namespace winmmf::cli
