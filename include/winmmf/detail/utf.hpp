// winmmf/detail/utf.hpp - strict UTF-8 / UTF-16 / UTF-32 decoding and UTF-16 encoding.
//
// Platform-independent on purpose: name validation is fuzzed natively on Linux, and the
// Windows build must reject exactly what the fuzzer saw rejected. MultiByteToWideChar would
// tie the rules to one platform and to its version-dependent handling of edge cases.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace winmmf::detail::utf {

inline constexpr char32_t invalid = 0xFFFFFFFFu;

constexpr bool is_surrogate(char32_t c) noexcept { return c >= 0xD800 && c <= 0xDFFF; }
constexpr bool is_scalar(char32_t c) noexcept { return c <= 0x10FFFF && !is_surrogate(c); }

// Decodes one scalar value starting at `pos` and advances `pos`. Returns `invalid` for
// malformed input (truncated sequences, overlong forms, surrogates, values past U+10FFFF).
template <class CharT>
constexpr char32_t decode_utf8(std::basic_string_view<CharT> s, std::size_t& pos) noexcept
{
    static_assert(sizeof(CharT) == 1);
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
    const std::uint8_t lead = byte(pos);
    std::size_t extra = 0;
    char32_t value = 0;
    char32_t minimum = 0;
    if (lead < 0x80) {
        ++pos;
        return lead;
    }
    if ((lead & 0xE0) == 0xC0) {
        extra = 1;
        value = lead & 0x1F;
        minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        extra = 2;
        value = lead & 0x0F;
        minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        extra = 3;
        value = lead & 0x07;
        minimum = 0x10000;
    } else {
        return invalid;
    }
    if (s.size() - pos <= extra) {
        return invalid;
    }
    for (std::size_t i = 1; i <= extra; ++i) {
        const std::uint8_t cont = byte(pos + i);
        if ((cont & 0xC0) != 0x80) {
            return invalid;
        }
        value = (value << 6) | (cont & 0x3F);
    }
    if (value < minimum || !is_scalar(value)) {
        return invalid;
    }
    pos += extra + 1;
    return value;
}

template <class CharT>
constexpr char32_t decode_utf16(std::basic_string_view<CharT> s, std::size_t& pos) noexcept
{
    static_assert(sizeof(CharT) == 2);
    const char32_t first = static_cast<std::uint16_t>(s[pos]);
    if (!is_surrogate(first)) {
        ++pos;
        return first;
    }
    if (first >= 0xDC00 || pos + 1 >= s.size()) {
        return invalid;
    }
    const char32_t second = static_cast<std::uint16_t>(s[pos + 1]);
    if (second < 0xDC00 || second > 0xDFFF) {
        return invalid;
    }
    pos += 2;
    return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
}

template <class CharT>
constexpr char32_t decode_utf32(std::basic_string_view<CharT> s, std::size_t& pos) noexcept
{
    static_assert(sizeof(CharT) == 4);
    const auto value = static_cast<char32_t>(s[pos++]);
    return is_scalar(value) ? value : invalid;
}

// Dispatch on code unit width, so wchar_t means UTF-16 on Windows and UTF-32 elsewhere.
template <class CharT>
constexpr char32_t decode(std::basic_string_view<CharT> s, std::size_t& pos) noexcept
{
    if constexpr (sizeof(CharT) == 1) {
        return decode_utf8(s, pos);
    } else if constexpr (sizeof(CharT) == 2) {
        return decode_utf16(s, pos);
    } else {
        return decode_utf32(s, pos);
    }
}

constexpr std::size_t utf16_length(char32_t c) noexcept { return c >= 0x10000 ? 2 : 1; }

// Writes one scalar value as UTF-16; the caller has checked that there is room.
template <class Char16>
constexpr Char16* encode_utf16(char32_t c, Char16* out) noexcept
{
    if (c >= 0x10000) {
        c -= 0x10000;
        *out++ = static_cast<Char16>(0xD800 + (c >> 10));
        *out++ = static_cast<Char16>(0xDC00 + (c & 0x3FF));
    } else {
        *out++ = static_cast<Char16>(c);
    }
    return out;
}

inline void append_utf8(char32_t c, std::string& out)
{
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

// Calls `emit` with each scalar of `s`; a malformed unit becomes U+FFFD instead of failing.
template <class CharT, class Emit>
void for_each_scalar_lossy(std::basic_string_view<CharT> s, Emit emit)
{
    for (std::size_t pos = 0; pos < s.size();) {
        const std::size_t before = pos;
        char32_t c = decode(s, pos);
        if (c == invalid) {
            c = 0xFFFD;
            pos = before + 1;
        }
        emit(c);
    }
}

// For messages and logs only: malformed units become U+FFFD instead of failing.
template <class Char16>
std::string to_utf8_lossy(std::basic_string_view<Char16> s)
{
    std::string out;
    out.reserve(s.size());
    for_each_scalar_lossy(s, [&](char32_t c) { append_utf8(c, out); });
    return out;
}

// UTF-8 to UTF-16 (wchar_t on Windows), appended to `out`. Strict: false at the first malformed
// sequence, with `out` holding what came before it.
template <class Char16>
bool append_utf16(std::string_view utf8, std::basic_string<Char16>& out)
{
    for (std::size_t pos = 0; pos < utf8.size();) {
        const char32_t c = decode_utf8(utf8, pos);
        if (c == invalid) {
            return false;
        }
        Char16 units[2];
        out.append(units, static_cast<std::size_t>(encode_utf16(c, units) - units));
    }
    return true;
}

// For console output and messages: malformed bytes become U+FFFD instead of failing.
template <class Char16>
std::basic_string<Char16> to_utf16_lossy(std::string_view utf8)
{
    std::basic_string<Char16> out;
    out.reserve(utf8.size());
    for_each_scalar_lossy(utf8, [&](char32_t c) {
        Char16 units[2];
        out.append(units, static_cast<std::size_t>(encode_utf16(c, units) - units));
    });
    return out;
}

} // namespace winmmf::detail::utf
