// winmmf/name.hpp - kernel object names: namespace choice, validation, UTF conversion.
//
// Platform-independent: the rules are pure functions so they can be unit-tested and fuzzed
// natively. A name is validated once, into a fixed-size buffer, and never truncated.
#pragma once

#include <winmmf/detail/utf.hpp>
#include <winmmf/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace winmmf {

// CreateEvent/CreateMutex document "the name is limited to MAX_PATH characters"; file
// mappings share the object namespace with them (and our notification events derive their
// names from the mapping's), so one limit applies to all: MAX_PATH minus the terminator,
// counted in UTF-16 code units, namespace prefix included.
inline constexpr std::size_t max_name_length = 259;

enum class name_scope : std::uint8_t {
    local,   // Local\ : visible in the caller's logon session only
    global,  // Global\ : visible machine-wide; creating needs SeCreateGlobalPrivilege
    session, // Session\<id>\ : the Local\ namespace of a given terminal-services session
    custom,  // used exactly as given, e.g. a full "Session\2\x" or a bare name
};

#if defined(_WIN32)
using name_char = wchar_t;
#else
using name_char = char16_t; // keeps the UTF-16 rules testable where wchar_t is 32-bit
#endif

// Object text in any encoding the caller has: char and char8_t are UTF-8, char16_t is UTF-16,
// char32_t is UTF-32, wchar_t is UTF-16 on Windows. Non-owning, like std::string_view.
class name_text {
public:
    using view = std::variant<std::string_view, std::u8string_view, std::u16string_view,
                              std::u32string_view, std::wstring_view>;

    template <class CharT, class Traits>
    constexpr name_text(std::basic_string_view<CharT, Traits> s) noexcept
        : view_(std::basic_string_view<CharT>(s.data(), s.size()))
    {
    }
    template <class CharT, class Traits, class Alloc>
    constexpr name_text(const std::basic_string<CharT, Traits, Alloc>& s) noexcept
        : view_(std::basic_string_view<CharT>(s.data(), s.size()))
    {
    }
    template <class CharT>
    constexpr name_text(const CharT* s) noexcept : view_(std::basic_string_view<CharT>(s))
    {
    }

    constexpr const view& get() const noexcept { return view_; }

private:
    view view_;
};

// What the caller asked for: unvalidated, non-owning. Validation happens in object_name, or
// inside create/open, which report problems through their own error_code.
class name_ref {
public:
    constexpr name_ref(name_scope scope, name_text object, std::uint32_t session_id = 0) noexcept
        : object_(object), session_id_(session_id), scope_(scope)
    {
    }
    constexpr name_scope scope() const noexcept { return scope_; }
    constexpr std::uint32_t session_id() const noexcept { return session_id_; }
    constexpr const name_text& object() const noexcept { return object_; }

private:
    name_text object_;
    std::uint32_t session_id_;
    name_scope scope_;
};

constexpr name_ref local(name_text object) noexcept { return {name_scope::local, object}; }
constexpr name_ref global(name_text object) noexcept { return {name_scope::global, object}; }
constexpr name_ref session(std::uint32_t id, name_text object) noexcept
{
    return {name_scope::session, object, id};
}
constexpr name_ref custom(name_text object) noexcept { return {name_scope::custom, object}; }

// A validated, complete kernel object name ("Local\frames"), stored inline so that building
// one never allocates and copying one never fails.
class object_name {
public:
    using string_view_type = std::basic_string_view<name_char>;

    object_name() noexcept = default;

#if WINMMF_EXCEPTIONS
    explicit object_name(const name_ref& ref)
    {
        std::error_code ec;
        assign(ref, ec);
        detail::throw_if(ec, "winmmf: invalid object name");
    }
#endif

    static object_name make(const name_ref& ref, std::error_code& ec) noexcept
    {
        object_name name;
        name.assign(ref, ec);
        return name;
    }

    bool empty() const noexcept { return length_ == 0; }
    name_scope scope() const noexcept { return scope_; }
    std::uint32_t session_id() const noexcept { return session_id_; }

    // The name passed to the kernel, prefix included. NUL-terminated.
    const name_char* c_str() const noexcept { return buffer_.data(); }
    string_view_type full() const noexcept { return {buffer_.data(), length_}; }
    string_view_type object() const noexcept { return full().substr(prefix_length_); }
    string_view_type prefix() const noexcept { return full().substr(0, prefix_length_); }

    // For messages: "Local\frames".
    std::string to_utf8() const { return detail::utf::to_utf8_lossy(full()); }

    // A sibling object in the same namespace, e.g. the event that belongs to a mapping.
    object_name with_suffix(std::u16string_view suffix, std::error_code& ec) const noexcept
    {
        object_name result = *this;
        if (length_ + suffix.size() > max_name_length) {
            ec = errc::name_too_long;
            return {};
        }
        for (char16_t c : suffix) {
            result.buffer_[result.length_++] = static_cast<name_char>(c);
        }
        result.buffer_[result.length_] = 0;
        ec.clear();
        return result;
    }

    friend bool operator==(const object_name& a, const object_name& b) noexcept
    {
        return a.full() == b.full();
    }

private:
    void assign(const name_ref& ref, std::error_code& ec) noexcept
    {
        *this = object_name{};
        scope_ = ref.scope();
        session_id_ = ref.session_id();
        write_prefix();
        ec = std::visit([this](auto text) { return append_object(text); }, ref.object().get());
        if (ec) {
            *this = object_name{};
        }
    }

    void write_prefix() noexcept
    {
        const auto put = [this](std::u16string_view s) {
            for (char16_t c : s) {
                buffer_[length_++] = static_cast<name_char>(c);
            }
        };
        switch (scope_) {
        case name_scope::local:
            put(u"Local\\");
            break;
        case name_scope::global:
            put(u"Global\\");
            break;
        case name_scope::session: {
            put(u"Session\\");
            char16_t digits[10];
            std::size_t n = 0;
            std::uint32_t id = session_id_;
            do {
                digits[n++] = static_cast<char16_t>(u'0' + id % 10);
                id /= 10;
            } while (id != 0);
            while (n != 0) {
                buffer_[length_++] = static_cast<name_char>(digits[--n]);
            }
            put(u"\\");
            break;
        }
        case name_scope::custom:
            break;
        }
        prefix_length_ = length_;
    }

    template <class CharT>
    std::error_code append_object(std::basic_string_view<CharT> text) noexcept
    {
        if (text.empty()) {
            return errc::empty_name;
        }
        constexpr errc malformed = sizeof(CharT) == 1 ? errc::invalid_utf8 : errc::invalid_utf16;
        for (std::size_t pos = 0; pos < text.size();) {
            const char32_t c = detail::utf::decode(text, pos);
            if (c == detail::utf::invalid) {
                return malformed;
            }
            if (c == 0) {
                return errc::name_contains_nul;
            }
            if (c == U'\\' && scope_ != name_scope::custom) {
                return errc::name_contains_backslash;
            }
            if (length_ + detail::utf::utf16_length(c) > max_name_length) {
                return errc::name_too_long;
            }
            name_char* end = detail::utf::encode_utf16(c, buffer_.data() + length_);
            length_ = static_cast<std::uint16_t>(end - buffer_.data());
        }
        buffer_[length_] = 0;
        return {};
    }

    std::array<name_char, max_name_length + 1> buffer_{};
    std::uint16_t length_ = 0;
    std::uint16_t prefix_length_ = 0;
    std::uint32_t session_id_ = 0;
    name_scope scope_ = name_scope::local;
};

// ---- names a Rust WinMMF peer can share ------------------------------------------------------

// The Rust crate WinMMF (measured against 0.4.0) builds "Local\<name>" or "Global\<name>", cuts
// that whole string to this many bytes, and passes it to the ANSI API (CreateFileMappingA). So
// 57 bytes fit after Local\ and 56 after Global\, and only ASCII names are the same object
// there as here: the ANSI API reads the UTF-8 bytes in the ANSI code page ("café" reaches the
// kernel as "cafÃ©"), and a cut inside a multi-byte character makes the crate panic.
inline constexpr std::size_t winmmf_max_name_bytes = 63;

// {} when a WinMMF peer can name this object, else errc::winmmf_name_not_ascii or
// errc::winmmf_name_too_long (in that order: a non-ASCII name never meets, whatever its length,
// and an ASCII one is as many bytes as UTF-16 units). What is judged:
//  - Local\x and Global\x: the whole name, prefix included.
//  - Session\<n>\x: a WinMMF peer reaches it only from session n, where it is Local\x (WinMMF
//    knows only Local\ and Global\): judged as Local\x.
//  - custom: its whole text, by the same two rules. Whether a WinMMF peer can reach that
//    namespace at all is not judged (it can only prepend Local\ or Global\).
inline std::error_code check_winmmf_name(const object_name& name) noexcept
{
    if (name.empty()) {
        return errc::empty_name;
    }
    for (const name_char c : name.full()) {
        if (static_cast<std::uint32_t>(c) > 0x7F) {
            return errc::winmmf_name_not_ascii;
        }
    }
    const std::size_t peer_prefix = name.scope() == name_scope::session ? 6 /* Local\ */ : name.prefix().size();
    if (peer_prefix + name.object().size() > winmmf_max_name_bytes) {
        return errc::winmmf_name_too_long;
    }
    return {};
}

// As above, for a name not yet validated: an invalid name gets its validation error
// (empty_name, name_contains_backslash, ...).
inline std::error_code check_winmmf_name(const name_ref& ref) noexcept
{
    std::error_code ec;
    const object_name name = object_name::make(ref, ec);
    return ec ? ec : check_winmmf_name(name);
}

inline bool is_winmmf_compatible(const name_ref& ref) noexcept { return !check_winmmf_name(ref); }

// ---- names as text ------------------------------------------------------------------------

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

struct parsed_name {
    name_ref ref;
    bool has_prefix; // false for a bare name, which took `default_scope`
};

// A name as people type it and tools print it, UTF-8: "Local\frames", "Global\cam0",
// "Session\2\x", a bare "frames" (the default scope: Local\ unless told otherwise), or anything
// else with a backslash, used exactly as given (name_scope::custom; the kernel decides whether
// that namespace exists). The three prefixes are recognised without regard to ASCII case, for
// the people who type them, and written back canonically; the kernel itself compares names
// case-sensitively ("Name comparison is case sensitive", Object Names), so a name passed to the
// API as custom("GLOBAL\\x") is not Global\\x. The object part is validated later, by
// object_name, with the library's own errors. The returned name_ref points into `text`, which
// must outlive it. `default_scope` and `default_session` apply to a bare name only (the tool's
// --global / --session N).
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

} // namespace winmmf
