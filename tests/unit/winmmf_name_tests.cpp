// check_winmmf_name (name.hpp): which names a Rust WinMMF peer (0.4.0) can share, at the exact
// byte boundaries, and the two errors that say why not. Platform-independent: runs natively too.
#include <winmmf/error.hpp>
#include <winmmf/name.hpp>

#include "../../tools/winmmf/cli.hpp"

#include <catch2/catch_test_macros.hpp>

#include <set>
#include <string>

using namespace winmmf;

namespace {

std::string ascii(std::size_t n) { return std::string(n, 'x'); }

} // namespace

TEST_CASE("WinMMF names: the whole name, prefix included, may be 63 bytes", "[name][winmmf-name]")
{
    CHECK(winmmf_max_name_bytes == 63);
    // Local\ is 6 bytes: 57 fit, 58 do not.
    CHECK_FALSE(check_winmmf_name(local(ascii(57))));
    CHECK(check_winmmf_name(local(ascii(58))) == errc::winmmf_name_too_long);
    // Global\ is 7 bytes: 56 fit, 57 do not.
    CHECK_FALSE(check_winmmf_name(global(ascii(56))));
    CHECK(check_winmmf_name(global(ascii(57))) == errc::winmmf_name_too_long);
    CHECK(is_winmmf_compatible(global(ascii(56))));
    CHECK_FALSE(is_winmmf_compatible(global(ascii(57))));
    // Every encoding counts the same: ASCII is one byte per UTF-16 unit.
    CHECK_FALSE(check_winmmf_name(local(std::u16string(57, u'x'))));
    CHECK(check_winmmf_name(local(std::u32string(58, U'x'))) == errc::winmmf_name_too_long);
    CHECK(check_winmmf_name(local(std::u8string(58, u8'x'))) == errc::winmmf_name_too_long);
    // Short names are fine.
    CHECK_FALSE(check_winmmf_name(local("frames")));
    CHECK_FALSE(check_winmmf_name(global("x")));
}

TEST_CASE("WinMMF names: only ASCII meets, whatever the length", "[name][winmmf-name]")
{
    CHECK(check_winmmf_name(local("caf\xc3\xa9")) == errc::winmmf_name_not_ascii); // "café"
    CHECK(check_winmmf_name(local(u"caf\u00e9")) == errc::winmmf_name_not_ascii);
    CHECK(check_winmmf_name(global(U"\U0001F600")) == errc::winmmf_name_not_ascii);
    CHECK_FALSE(check_winmmf_name(local("\x7f"))); // DEL is ASCII
    // A two-byte character straddling byte 63 (bytes 63 and 64 of "Local\" + 56 + "é"): WinMMF's
    // cut falls inside it and the crate panics. Non-ASCII comes first: dropping the accent is
    // the fix, and leaves a name that fits (63 bytes).
    const std::string straddling = ascii(56) + "\xc3\xa9";
    REQUIRE(6 + straddling.size() == 64);
    CHECK(check_winmmf_name(local(straddling)) == errc::winmmf_name_not_ascii);
    CHECK_FALSE(check_winmmf_name(local(ascii(56) + "e")));
    // Ending exactly at byte 63 is still not ASCII.
    CHECK(check_winmmf_name(local(ascii(55) + "\xc3\xa9")) == errc::winmmf_name_not_ascii);
    // Too long and not ASCII: not ASCII.
    CHECK(check_winmmf_name(local(ascii(100) + "\xc3\xa9")) == errc::winmmf_name_not_ascii);
}

TEST_CASE("WinMMF names: Session\\<n>\\ is judged as the Local\\ name of that session, custom as given",
          "[name][winmmf-name]")
{
    // A WinMMF peer in session 2 names Session\2\x as Local\x.
    CHECK_FALSE(check_winmmf_name(session(2, ascii(57))));
    CHECK(check_winmmf_name(session(2, ascii(58))) == errc::winmmf_name_too_long);
    CHECK(check_winmmf_name(session(4000000, ascii(58))) == errc::winmmf_name_too_long);
    CHECK(check_winmmf_name(session(2, "caf\xc3\xa9")) == errc::winmmf_name_not_ascii);
    // custom: the whole text, by the same rules.
    CHECK_FALSE(check_winmmf_name(custom("Local\\" + ascii(57))));
    CHECK(check_winmmf_name(custom("Local\\" + ascii(58))) == errc::winmmf_name_too_long);
    CHECK_FALSE(check_winmmf_name(custom(ascii(63))));
    CHECK(check_winmmf_name(custom(ascii(64))) == errc::winmmf_name_too_long);
    // An invalid name gets its own error.
    CHECK(check_winmmf_name(local("")) == errc::empty_name);
    CHECK(check_winmmf_name(local("a\\b")) == errc::name_contains_backslash);
    CHECK(check_winmmf_name(local(ascii(300))) == errc::name_too_long);
    CHECK(check_winmmf_name(object_name{}) == errc::empty_name);
    // Both overloads agree.
    const object_name n(global(ascii(57)));
    CHECK(check_winmmf_name(n) == check_winmmf_name(global(ascii(57))));
}

TEST_CASE("WinMMF names: the two errors are the library's 42 and 43, with messages of their own", "[name][winmmf-name][error]")
{
    CHECK(static_cast<int>(errc::winmmf_name_too_long) == 42);
    CHECK(static_cast<int>(errc::winmmf_name_not_ascii) == 43);
    const std::string too_long = make_error_code(errc::winmmf_name_too_long).message();
    const std::string not_ascii = make_error_code(errc::winmmf_name_not_ascii).message();
    CHECK(too_long.find("63 bytes") != std::string::npos);
    CHECK(not_ascii.find("ANSI") != std::string::npos);
    CHECK(too_long != not_ascii);
    CHECK(too_long != make_error_code(errc::name_too_long).message());
    CHECK(make_error_code(errc::winmmf_name_too_long) == std::errc::filename_too_long);
    CHECK(make_error_code(errc::winmmf_name_not_ascii) == std::errc::invalid_argument);
    CHECK(make_error_code(errc::winmmf_name_too_long).category() == winmmf_category());
    // Every value up to the new ones has a message, and no two share one.
    std::set<std::string> messages;
    for (int v = static_cast<int>(errc::empty_name); v <= static_cast<int>(errc::winmmf_name_not_ascii); ++v) {
        const std::string m = make_error_code(static_cast<errc>(v)).message();
        CAPTURE(v, m);
        CHECK(m != "unknown winmmf error");
        CHECK(messages.insert(m).second);
    }
    // The tool: an invalid name (exit code 6), and info's warning in words.
    CHECK(cli::exit_code_for(errc::winmmf_name_too_long) == cli::exit_invalid);
    CHECK(cli::exit_code_for(errc::winmmf_name_not_ascii) == cli::exit_invalid);
    CHECK(cli::winmmf_name_problem(object_name(local("frames"))).empty());
    const std::string why = cli::winmmf_name_problem(object_name(local(ascii(60))));
    CHECK(why.find("it is 66 bytes") != std::string::npos);
    CHECK(why.find("opens Local\\" + ascii(57)) != std::string::npos);
    CHECK(why.find("opens Local\\" + ascii(58)) == std::string::npos);
    CHECK(cli::winmmf_name_problem(object_name(session(3, ascii(58)))).find("opens Local\\" + ascii(57)) !=
          std::string::npos);
    CHECK(cli::winmmf_name_problem(object_name(local("caf\xc3\xa9"))).find("not ASCII") != std::string::npos);
}
