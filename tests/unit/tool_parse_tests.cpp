// The platform-independent half of the winmmf tool and the C ABI: how names, numbers and
// command lines are read, and how lock words, layouts and bytes are shown. Runs natively (under
// the sanitizers) and under Wine.
#include "../../tools/winmmf/cli.hpp"

#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

using namespace winmmf;
using namespace winmmf::cli;

namespace {

std::u16string full(const name_ref& ref)
{
    std::error_code ec;
    const object_name n = object_name::make(ref, ec);
    REQUIRE_FALSE(ec);
    return {n.full().begin(), n.full().end()};
}

std::error_code name_error(const name_ref& ref)
{
    std::error_code ec;
    (void)object_name::make(ref, ec);
    return ec;
}

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s)); }

} // namespace

TEST_CASE("textual names: prefixes, bare names and custom names", "[tool][name]")
{
    using winmmf::parse_name;
    CHECK(full(parse_name("Local\\frames").ref) == u"Local\\frames");
    CHECK(full(parse_name("Global\\cam0").ref) == u"Global\\cam0");
    CHECK(full(parse_name("Session\\2\\x").ref) == u"Session\\2\\x");
    CHECK(parse_name("Session\\2\\x").ref.scope() == name_scope::session);
    CHECK(parse_name("Session\\2\\x").ref.session_id() == 2);
    CHECK(full(parse_name("Session\\4294967295\\x").ref) == u"Session\\4294967295\\x");

    // Prefixes are matched as the kernel matches them, and written back canonically.
    CHECK(full(parse_name("local\\frames").ref) == u"Local\\frames");
    CHECK(full(parse_name("GLOBAL\\cam0").ref) == u"Global\\cam0");
    CHECK(full(parse_name("session\\7\\x").ref) == u"Session\\7\\x");

    // A bare name takes the default scope; only then do --global / --session apply.
    CHECK_FALSE(parse_name("frames").has_prefix);
    CHECK(full(parse_name("frames").ref) == u"Local\\frames");
    CHECK(full(parse_name("frames", name_scope::global).ref) == u"Global\\frames");
    CHECK(full(parse_name("frames", name_scope::session, 3).ref) == u"Session\\3\\frames");
    CHECK(parse_name("Local\\frames", name_scope::global).has_prefix);
    CHECK(full(parse_name("Local\\frames", name_scope::global).ref) == u"Local\\frames");

    // Anything else with a backslash is the kernel's to judge, unchanged.
    CHECK(parse_name("MyNamespace\\x").ref.scope() == name_scope::custom);
    CHECK(full(parse_name("MyNamespace\\x").ref) == u"MyNamespace\\x");
    CHECK(parse_name("Session\\abc\\x").ref.scope() == name_scope::custom);
    CHECK(parse_name("Session\\4294967296\\x").ref.scope() == name_scope::custom); // past 32 bits
    CHECK(parse_name("Session\\12345678901\\x").ref.scope() == name_scope::custom);
    CHECK(parse_name("Session\\2").ref.scope() == name_scope::custom);

    // The object part is validated by the library, with its own errors.
    CHECK(name_error(parse_name("Global\\a\\b").ref) == errc::name_contains_backslash);
    CHECK(name_error(parse_name("Local\\").ref) == errc::empty_name);
    CHECK(name_error(parse_name("").ref) == errc::empty_name);
    CHECK(name_error(parse_name("Local\\bad\xff").ref) == errc::invalid_utf8);
    CHECK(name_error(parse_name(std::string(300, 'x')).ref) == errc::name_too_long);
    CHECK(full(parse_name("Local\\\xc3\xbc").ref) == u"Local\\\u00fc");
}

TEST_CASE("numbers and sizes", "[tool]")
{
    CHECK(parse_uint("0") == 0u);
    CHECK(parse_uint("4096") == 4096u);
    CHECK(parse_uint("0x1000") == 4096u);
    CHECK(parse_uint("0XfF") == 255u);
    CHECK(parse_uint("1_000_000") == 1000000u);
    CHECK(parse_uint("18446744073709551615") == 18446744073709551615u);
    CHECK_FALSE(parse_uint("18446744073709551616"));
    CHECK_FALSE(parse_uint("0x10000000000000000"));
    CHECK_FALSE(parse_uint(""));
    CHECK_FALSE(parse_uint("0x"));
    CHECK_FALSE(parse_uint("-1"));
    CHECK_FALSE(parse_uint("12a"));
    CHECK_FALSE(parse_uint(" 1"));

    CHECK(parse_size("100") == 100u);
    CHECK(parse_size("64K") == 65536u);
    CHECK(parse_size("64k") == 65536u);
    CHECK(parse_size("64KiB") == 65536u);
    CHECK(parse_size("6MiB") == 6u << 20);
    CHECK(parse_size("1g") == std::uint64_t{1} << 30);
    CHECK(parse_size("2T") == std::uint64_t{2} << 40);
    CHECK(parse_size("0x1000") == 4096u);
    CHECK(parse_size("0xB") == 11u); // a hex digit, not a suffix
    CHECK_FALSE(parse_size("K"));
    CHECK_FALSE(parse_size("1.5M"));
    CHECK_FALSE(parse_size("16777216T")); // 2^64: overflows
    CHECK_FALSE(parse_size("4 K"));
    CHECK_FALSE(parse_size("4KB")); // KB is ambiguous (1000 or 1024); we say KiB or K
}

TEST_CASE("command lines: options anywhere, values two ways, errors named", "[tool]")
{
    static constexpr option_spec specs[] = {{"--offset", true}, {"--hex", false}, {"--help", false}};
    const auto parse = [](std::vector<std::string> args) { return parse_args(args, specs); };

    parsed_args a = parse({"name", "--offset", "10", "--hex"});
    CHECK(a.error.empty());
    CHECK(a.positional == std::vector<std::string>{"name"});
    REQUIRE(a.value("--offset") != nullptr);
    CHECK(*a.value("--offset") == "10");
    CHECK(a.has("--hex"));
    CHECK_FALSE(a.has("--help"));

    a = parse({"--offset=0x20", "name"});
    CHECK(*a.value("--offset") == "0x20");
    CHECK(a.positional == std::vector<std::string>{"name"});

    a = parse({"-h"});
    CHECK(a.has("--help"));

    a = parse({"--", "--hex", "-"});
    CHECK(a.positional == std::vector<std::string>{"--hex", "-"});
    CHECK_FALSE(a.has("--hex"));

    CHECK(parse({"--bogus"}).error == "unknown option --bogus");
    CHECK(parse({"--offset"}).error == "option --offset needs a value");
    CHECK(parse({"--hex=1"}).error == "option --hex takes no value");
    CHECK(parse({"--hex", "--hex"}).error == "option --hex given twice");
    CHECK(parse({"-x"}).positional == std::vector<std::string>{"-x"}); // not an option of ours
}

TEST_CASE("exit codes follow the error, whatever its category", "[tool]")
{
    CHECK(exit_code_for({}) == exit_ok);
    CHECK(exit_code_for(errc::not_found) == exit_not_found);
    CHECK(exit_code_for(errc::read_only) == exit_access_denied);
    CHECK(exit_code_for(errc::global_privilege_missing) == exit_access_denied);
    CHECK(exit_code_for(errc::write_locked) == exit_busy);
    CHECK(exit_code_for(errc::timeout) == exit_busy);
    CHECK(exit_code_for(errc::already_exists) == exit_already_exists);
    CHECK(exit_code_for(errc::name_too_long) == exit_invalid);
    CHECK(exit_code_for(errc::out_of_bounds) == exit_invalid);
    CHECK(exit_code_for(errc::wrong_lock_policy) == exit_incompatible);
    CHECK(exit_code_for(errc::corrupt_lock_word) == exit_incompatible);
    CHECK(exit_code_for(errc::owner_dead) == exit_failure);
    const auto win32 = [](int e) { return std::error_code(e, std::system_category()); };
    CHECK(exit_code_for(win32(2)) == exit_not_found);
    CHECK(exit_code_for(win32(3)) == exit_not_found);
    CHECK(exit_code_for(win32(5)) == exit_access_denied);
    CHECK(exit_code_for(win32(1314)) == exit_access_denied);
    CHECK(exit_code_for(win32(6)) == exit_incompatible);
    CHECK(exit_code_for(win32(87)) == exit_invalid);
    CHECK(exit_code_for(win32(183)) == exit_already_exists);
    CHECK(exit_code_for(win32(1455)) == exit_failure);
    CHECK(exit_code_for(std::make_error_code(std::errc::io_error)) == exit_failure);
}

TEST_CASE("lock words and layouts, as info shows them", "[tool]")
{
    CHECK(describe_lock_word(0) == "free [0x00000000]");
    CHECK(describe_lock_word(1) == "held by 1 reader [0x00000001]");
    CHECK(describe_lock_word(3) == "held by 3 readers [0x00000003]");
    CHECK(describe_lock_word(0x00FFFFFF) == "held by 16777215 readers [0x00FFFFFF]");
    CHECK(describe_lock_word(0x80000000u) == "held by a writer [0x80000000]");
    CHECK(describe_lock_word(0xFF000000u).starts_with("uninitialized"));
    CHECK(describe_lock_word(0x01000000u).starts_with("corrupt (bits 24-30"));
    CHECK(describe_lock_word(0x80000001u).starts_with("corrupt (a writer and readers"));
    CHECK(describe_lock_word(protocol::lock_word::robust_layout_marker) ==
          "layout marker of: winmmf robust lock policy [0xFF524F42]");

    CHECK(layout_of(0) == layout::compatible);
    CHECK(layout_of(5) == layout::compatible);
    CHECK(layout_of(0x80000000u) == layout::compatible);
    CHECK(layout_of(0xFF000000u) == layout::compatible); // WinMMF's own "uninitialized"
    CHECK(layout_of(protocol::lock_word::robust_layout_marker) == layout::robust);
    CHECK(layout_of(protocol::lock_word::channel_layout_marker) == layout::frame_channel);
    CHECK(layout_of(0xFF000001u) == layout::unknown_marker);
    CHECK(layout_of(0x40000000u) == layout::corrupt);
}

TEST_CASE("bytes: hex, hex dumps and changes", "[tool]")
{
    const unsigned char raw[] = {0x00, 0x7f, 0x80, 0xff, 'A'};
    CHECK(hex_string(std::as_bytes(std::span(raw))) == "007f80ff41");
    CHECK(hex_string({}).empty());

    CHECK(hex_dump(bytes_of("hello"), 0) ==
          "00000000  68 65 6c 6c 6f                                    |hello|\n"
          "00000005\n");
    CHECK(hex_dump(bytes_of("0123456789abcdefXY"), 0x10) ==
          "00000010  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n"
          "00000020  58 59                                             |XY|\n"
          "00000022\n");
    CHECK(hex_dump({}, 0).empty());

    // Identical lines collapse into one '*', across the chunks the tool feeds.
    const std::vector<std::byte> zeros(64);
    hex_dump_writer writer(0, 64);
    std::string text;
    writer.add(std::span(zeros).first(32), text);
    writer.add(std::span(zeros).subspan(32), text);
    writer.finish(text);
    CHECK(text ==
          "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n"
          "*\n"
          "00000040\n");
    // Offsets past 4 GiB get 16 digits.
    CHECK(hex_dump(bytes_of("z"), 0x100000000u).starts_with("0000000100000000  7a"));

    const std::string a = "abcdefgh";
    std::string b = a;
    CHECK_FALSE(find_change(bytes_of(a), bytes_of(b)));
    b[2] = 'X';
    b[5] = 'Y';
    const auto c = find_change(bytes_of(a), bytes_of(b));
    REQUIRE(c);
    CHECK(c->first == 2);
    CHECK(c->last == 5);
    CHECK(c->bytes == 2);
    CHECK_FALSE(find_change({}, {}));
}
