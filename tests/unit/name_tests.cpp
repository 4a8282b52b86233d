#include <winmmf/name.hpp>

#include <catch2/catch_test_macros.hpp>

#include <string>

using namespace winmmf;

namespace {

std::u16string full(const object_name& n)
{
    return {n.full().begin(), n.full().end()};
}

std::error_code make_error(const name_ref& ref)
{
    std::error_code ec;
    (void)object_name::make(ref, ec);
    return ec;
}

} // namespace

TEST_CASE("names get the prefix of their namespace", "[name]")
{
    CHECK(full(object_name(local("frames"))) == u"Local\\frames");
    CHECK(full(object_name(global("cam0"))) == u"Global\\cam0");
    CHECK(full(object_name(session(0, "x"))) == u"Session\\0\\x");
    CHECK(full(object_name(session(4294967295u, "x"))) == u"Session\\4294967295\\x");
    CHECK(full(object_name(custom("bare"))) == u"bare");
    CHECK(full(object_name(custom("Session\\2\\x"))) == u"Session\\2\\x");

    const object_name n(local("frames"));
    CHECK(n.scope() == name_scope::local);
    CHECK(std::u16string(n.object().begin(), n.object().end()) == u"frames");
    CHECK(std::u16string(n.prefix().begin(), n.prefix().end()) == u"Local\\");
    CHECK(n.to_utf8() == "Local\\frames");
    CHECK(n.c_str()[n.full().size()] == 0);
}

TEST_CASE("names convert from every encoding to the same UTF-16", "[name]")
{
    const std::u16string expected = u"Local\\kam\u00e9ra-\U0001F4F7";
    CHECK(full(object_name(local("kam\xc3\xa9ra-\xf0\x9f\x93\xb7"))) == expected);
    CHECK(full(object_name(local(u8"kam\u00e9ra-\U0001F4F7"))) == expected);
    CHECK(full(object_name(local(u"kam\u00e9ra-\U0001F4F7"))) == expected);
    CHECK(full(object_name(local(U"kam\u00e9ra-\U0001F4F7"))) == expected);
    CHECK(full(object_name(local(L"kam\u00e9ra-\U0001F4F7"))) == expected);
    CHECK(full(object_name(local(std::string("kam\xc3\xa9ra-\xf0\x9f\x93\xb7")))) == expected);
    CHECK(object_name(local(u"kam\u00e9ra")).to_utf8() == "Local\\kam\xc3\xa9ra");
}

TEST_CASE("each kind of bad name has its own error", "[name]")
{
    CHECK(make_error(local("")) == errc::empty_name);
    CHECK(make_error(custom(u"")) == errc::empty_name);
    CHECK(make_error(local("a\\b")) == errc::name_contains_backslash);
    CHECK(make_error(global("Global\\x")) == errc::name_contains_backslash);
    CHECK(make_error(session(1, "\\")) == errc::name_contains_backslash);
    CHECK_FALSE(make_error(custom("a\\b")));
    CHECK(make_error(local(std::string_view("a\0b", 3))) == errc::name_contains_nul);
    CHECK(make_error(custom(std::u16string_view(u"a\0b", 3))) == errc::name_contains_nul);

    SECTION("invalid UTF-8")
    {
        for (const char* bad : {"\x80", "a\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                                "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xff", "\xc3\x28"}) {
            CAPTURE(bad);
            CHECK(make_error(local(bad)) == errc::invalid_utf8);
        }
    }
    SECTION("invalid UTF-16 and UTF-32")
    {
        const char16_t lone_high[] = {u'a', 0xD800, 0};
        const char16_t lone_low[] = {0xDC00, u'a', 0};
        const char16_t reversed[] = {0xDC00, 0xD800, 0};
        CHECK(make_error(local(lone_high)) == errc::invalid_utf16);
        CHECK(make_error(local(lone_low)) == errc::invalid_utf16);
        CHECK(make_error(local(reversed)) == errc::invalid_utf16);
        const char32_t too_big[] = {0x110000, 0};
        const char32_t surrogate[] = {0xD800, 0};
        CHECK(make_error(local(too_big)) == errc::invalid_utf16);
        CHECK(make_error(local(surrogate)) == errc::invalid_utf16);
    }
}

TEST_CASE("the length limit counts UTF-16 units with the prefix and never truncates", "[name]")
{
    const std::size_t room = max_name_length - 6; // "Local\" is 6 units
    CHECK_FALSE(make_error(local(std::string(room, 'a'))));
    CHECK(make_error(local(std::string(room + 1, 'a'))) == errc::name_too_long);
    CHECK(make_error(custom(std::string(max_name_length, 'a'))) == std::error_code{});
    CHECK(make_error(custom(std::string(max_name_length + 1, 'a'))) == errc::name_too_long);
    CHECK(make_error(global(std::string(100000, 'a'))) == errc::name_too_long);

    // A supplementary character takes two UTF-16 units, so it must not squeeze in half-way.
    std::string almost(room - 1, 'a');
    CHECK(make_error(local(almost + "\xf0\x9f\x93\xb7")) == errc::name_too_long);
    CHECK_FALSE(make_error(local(almost + "\xc3\xa9")));

    const object_name longest(local(std::string(room, 'a')));
    CHECK(longest.full().size() == max_name_length);
}

TEST_CASE("an invalid name leaves an empty object_name and a thrown error", "[name]")
{
    std::error_code ec;
    const object_name n = object_name::make(local(""), ec);
    CHECK(n.empty());
    CHECK_THROWS_AS(object_name(local("a\\b")), std::system_error);
}

TEST_CASE("with_suffix derives sibling names and respects the limit", "[name]")
{
    std::error_code ec;
    const object_name base(local("frames"));
    const object_name event = base.with_suffix(u".event", ec);
    CHECK_FALSE(ec);
    CHECK(full(event) == u"Local\\frames.event");

    const object_name longest(local(std::string(max_name_length - 6, 'a')));
    (void)longest.with_suffix(u"x", ec);
    CHECK(ec == errc::name_too_long);
}
