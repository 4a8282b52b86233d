// libFuzzer target: name validation and UTF conversion (name.hpp, detail/utf.hpp).
//
// Input: byte 0 picks the namespace (bits 0-1) and the encoding of the rest (bits 2-3: UTF-8,
// UTF-16, UTF-32); the rest is the object name in that encoding. The library's verdict is
// compared with a reference written independently from the Unicode well-formedness tables
// (Unicode 15, table 3-7) and the documented order of checks; an accepted name must also
// round-trip through to_utf8() to the same kernel name.
#include <winmmf/name.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace winmmf;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "fuzz_names: %s\n", what);
    std::abort();
}

std::size_t prefix_length(name_scope scope)
{
    switch (scope) {
    case name_scope::local:
        return 6; // Local\ .
    case name_scope::global:
        return 7; // Global\ .
    case name_scope::session:
        return 10; // Session\1\ .
    case name_scope::custom:
        break;
    }
    return 0;
}

// Decodes the code points of well-formed UTF-8 (table 3-7); returns false at the first
// ill-formed sequence, leaving what came before it in `out`.
bool reference_utf8(const std::uint8_t* s, std::size_t n, std::vector<char32_t>& out)
{
    std::size_t i = 0;
    while (i < n) {
        const std::uint8_t b = s[i];
        const auto cont = [&](std::size_t k, std::uint8_t lo, std::uint8_t hi) {
            return i + k < n && s[i + k] >= lo && s[i + k] <= hi;
        };
        std::size_t len = 0;
        if (b <= 0x7F) {
            len = 1;
        } else if (b >= 0xC2 && b <= 0xDF) {
            len = cont(1, 0x80, 0xBF) ? 2 : 0;
        } else if (b == 0xE0) {
            len = cont(1, 0xA0, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
        } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
            len = cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
        } else if (b == 0xED) {
            len = cont(1, 0x80, 0x9F) && cont(2, 0x80, 0xBF) ? 3 : 0;
        } else if (b == 0xF0) {
            len = cont(1, 0x90, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
        } else if (b >= 0xF1 && b <= 0xF3) {
            len = cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
        } else if (b == 0xF4) {
            len = cont(1, 0x80, 0x8F) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
        }
        if (len == 0) {
            return false;
        }
        char32_t c = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
        for (std::size_t k = 1; k < len; ++k) {
            c = (c << 6) | (s[i + k] & 0x3Fu);
        }
        out.push_back(c);
        i += len;
    }
    return true;
}

bool reference_utf16(const std::u16string_view s, std::vector<char32_t>& out)
{
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char32_t u = s[i];
        if (u >= 0xD800 && u <= 0xDBFF && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
            out.push_back(0x10000 + ((u - 0xD800) << 10) + (s[i + 1] - 0xDC00u));
            ++i;
        } else if (u >= 0xD800 && u <= 0xDFFF) {
            return false;
        } else {
            out.push_back(u);
        }
    }
    return true;
}

bool reference_utf32(const std::u32string_view s, std::vector<char32_t>& out)
{
    for (const char32_t c : s) {
        if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            return false;
        }
        out.push_back(c);
    }
    return true;
}

// The documented verdict: empty, then for each code point in order: malformed, NUL,
// backslash (outside custom), too long (prefix included, in UTF-16 units).
errc reference(name_scope scope, const std::vector<char32_t>& points, bool well_formed, errc malformed,
               bool empty)
{
    if (empty) {
        return errc::empty_name;
    }
    std::size_t length = prefix_length(scope);
    for (const char32_t c : points) {
        if (c == 0) {
            return errc::name_contains_nul;
        }
        if (c == U'\\' && scope != name_scope::custom) {
            return errc::name_contains_backslash;
        }
        length += c >= 0x10000 ? 2 : 1;
        if (length > max_name_length) {
            return errc::name_too_long;
        }
    }
    return well_formed ? errc{} : malformed;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) {
        return 0;
    }
    const auto scope = static_cast<name_scope>(data[0] & 3);
    const unsigned encoding = (data[0] >> 2) % 3;
    const std::uint8_t* text = data + 1;
    const std::size_t n = size - 1;

    std::vector<char32_t> points;
    bool well_formed = true;
    errc malformed = errc::invalid_utf16;
    std::error_code ec;
    object_name name;
    std::u16string units16;
    std::u32string units32;
    bool empty = false;
    if (encoding == 0) {
        const std::string_view s(reinterpret_cast<const char*>(text), n);
        well_formed = reference_utf8(text, n, points);
        malformed = errc::invalid_utf8;
        empty = s.empty();
        name = object_name::make(name_ref(scope, s, 1), ec);
    } else if (encoding == 1) {
        units16.resize(n / 2);
        std::memcpy(units16.data(), text, units16.size() * 2);
        well_formed = reference_utf16(units16, points);
        empty = units16.empty();
        name = object_name::make(name_ref(scope, std::u16string_view(units16), 1), ec);
    } else {
        units32.resize(n / 4);
        std::memcpy(units32.data(), text, units32.size() * 4);
        well_formed = reference_utf32(units32, points);
        empty = units32.empty();
        name = object_name::make(name_ref(scope, std::u32string_view(units32), 1), ec);
    }

    const errc expected = reference(scope, points, well_formed, malformed, empty);
    if (expected == errc{} ? static_cast<bool>(ec) : ec != expected) {
        fail("verdict differs from the reference");
    }
    if (ec) {
        if (!name.empty()) {
            fail("a refused name left something behind");
        }
        return 0;
    }
    // Accepted: the kernel name is the prefix plus the code points, as UTF-16, and bounded.
    const auto full = name.full();
    if (full.size() > max_name_length || name.c_str()[full.size()] != 0) {
        fail("accepted name is too long or not terminated");
    }
    if (name.prefix().size() != prefix_length(scope)) {
        fail("wrong prefix length");
    }
    std::vector<char32_t> back;
    const std::u16string object(name.object().begin(), name.object().end());
    if (!reference_utf16(object, back) || back != points) {
        fail("accepted name does not hold the code points given");
    }
    // Round trip: the UTF-8 form names the same kernel object.
    const std::string utf8 = name.to_utf8();
    std::error_code again_ec;
    const object_name again = object_name::make(custom(std::string_view(utf8)), again_ec);
    if (again_ec || !(again.full() == full)) {
        fail("to_utf8 does not round-trip");
    }
    return 0;
}
