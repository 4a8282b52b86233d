// winmmf/sddl.hpp - the security presets, written out as SDDL.
//
// Platform-independent: the preset texts are pure functions of the creator's SID, unit-tested
// natively. security.hpp turns them into real security descriptors on Windows.
//
// Rights are generic (GENERIC_READ, GENERIC_WRITE, GENERIC_ALL) so that one descriptor suits
// every kernel object winmmf creates: the kernel maps generic rights through each object
// type's own mapping. For a section, GENERIC_READ is SECTION_QUERY | SECTION_MAP_READ (and
// READ_CONTROL) and GENERIC_WRITE is SECTION_MAP_WRITE: FILE_MAP_READ and FILE_MAP_WRITE, which
// is all our opens ask for. For an event, GENERIC_WRITE is EVENT_MODIFY_STATE: what a notifier
// needs to wake a waiter. No preset grants SYNCHRONIZE to anybody but the creator: a section
// cannot be waited on at all, and another principal that may wait on a waiter's auto-reset event
// could consume the wake-ups meant for it (docs/explanation/trust-model.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace winmmf {

enum class security_preset : std::uint8_t {
    // Only the creating account: D:P(A;;GA;;;<creator>)
    current_user_only,
    // The creating account (the service) and SYSTEM have full access; every authenticated
    // user may map it read-only.
    service_writes_users_read,
    // As above, but authenticated users may also map it for writing (and signal its events).
    service_writes_users_read_write,
};

// Mandatory integrity label. Kernel objects carry an implicit Medium label with the
// no-write-up policy: a Low-integrity process (a sandboxed renderer, a browser plug-in,
// Protected Mode IE) can read what the DACL lets it read, but never write. `low` labels the
// object Low, so that such processes get whatever the DACL grants them, writes included.
enum class integrity_label : std::uint8_t {
    none, // the default Medium label
    low,  // S:(ML;;NW;;;LW)
};

namespace access_rights {
inline constexpr std::uint32_t synchronize = 0x00100000;
inline constexpr std::uint32_t generic_all = 0x10000000;
inline constexpr std::uint32_t generic_write = 0x40000000;
inline constexpr std::uint32_t generic_read = 0x80000000;
// What a reader needs: map for reading (FILE_MAP_READ), query, read the owner.
inline constexpr std::uint32_t reader = generic_read;
// What a read-write peer needs: a reader's rights plus map for writing and signalling.
inline constexpr std::uint32_t writer = generic_read | generic_write;
} // namespace access_rights

// LocalSystem's SID; a service running as SYSTEM passes it as the creator.
inline constexpr std::string_view local_system_sid = "S-1-5-18";

// True if `sid` is a SID in string form (S-1-<authority>-<sub>...): the only thing the preset
// functions will splice into SDDL, so no caller-supplied text can add ACEs.
constexpr bool is_sid_string(std::string_view sid) noexcept
{
    if (sid.size() < 5 || sid.substr(0, 4) != "S-1-") {
        return false;
    }
    bool digit_seen = false;
    for (const char c : sid.substr(4)) {
        if (c >= '0' && c <= '9') {
            digit_seen = true;
        } else if (c == '-' && digit_seen) {
            digit_seen = false;
        } else {
            return false;
        }
    }
    return digit_seen;
}

namespace detail {

inline void append_hex(std::string& out, std::uint32_t value)
{
    static constexpr char digits[] = "0123456789ABCDEF";
    out += "0x";
    for (int shift = 28; shift >= 0; shift -= 4) {
        out += digits[(value >> shift) & 0xFu];
    }
}

inline void append_allow(std::string& out, std::uint32_t mask, std::string_view sid)
{
    out += "(A;;";
    if (mask == access_rights::generic_all) {
        out += "GA";
    } else if (mask == access_rights::generic_read) {
        out += "GR";
    } else if (mask == (access_rights::generic_read | access_rights::generic_write)) {
        out += "GRGW";
    } else {
        append_hex(out, mask);
    }
    out += ";;;";
    out += sid;
    out += ')';
}

} // namespace detail

// The SDDL of `preset` for an object created by the account `creator_sid` (a SID string such
// as "S-1-5-21-...-1001", or "S-1-5-18" for a service running as SYSTEM). The DACL is
// protected ("D:P"), so nothing is inherited from the namespace directory. Returns an empty
// string if `creator_sid` is not a SID string.
//
//   current_user_only                D:P(A;;GA;;;<creator>)
//   service_writes_users_read        D:P(A;;GA;;;<creator>)(A;;GA;;;SY)(A;;GR;;;AU)
//   service_writes_users_read_write  D:P(A;;GA;;;<creator>)(A;;GA;;;SY)(A;;GRGW;;;AU)
//   integrity_label::low appends     S:(ML;;NW;;;LW)
//
// SY is LocalSystem (S-1-5-18), AU Authenticated Users (S-1-5-11); SYSTEM's ACE is not repeated
// when SYSTEM is the creator.
inline std::string preset_sddl(security_preset preset, std::string_view creator_sid,
                               integrity_label label = integrity_label::none)
{
    if (!is_sid_string(creator_sid)) {
        return {};
    }
    std::string sddl = "D:P";
    detail::append_allow(sddl, access_rights::generic_all, creator_sid);
    if (preset != security_preset::current_user_only) {
        if (creator_sid != local_system_sid) {
            detail::append_allow(sddl, access_rights::generic_all, "SY");
        }
        detail::append_allow(sddl,
                             preset == security_preset::service_writes_users_read
                                 ? access_rights::reader
                                 : access_rights::writer,
                             "AU"); // S-1-5-11
    }
    if (label == integrity_label::low) {
        sddl += "S:(ML;;NW;;;LW)"; // LW: S-1-16-4096, the Low mandatory level
    }
    return sddl;
}

} // namespace winmmf
