// Object names and their namespace prefixes are case-sensitive, as Microsoft documents ("Name
// comparison is case sensitive", Object Names; the Local/Global/Session keywords likewise) and
// as Wine shows: these tests pin what the kernel does, so the docs can say it once.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <string>

using namespace winmmf;

TEST_CASE("names differing only in case are different objects", "[name][case]")
{
    const std::string name = test::unique_name("CaseTest");
    std::string lower = name;
    for (char& c : lower) {
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    REQUIRE(lower != name);
    auto upper_map = memory_mapped_file::create(local(name), 100);
    std::error_code ec;
    (void)memory_mapped_file::open(local(lower), ec);
    CHECK(ec == errc::not_found);
    auto lower_map = memory_mapped_file::create(local(lower), 100);
    CHECK(lower_map.created()); // a second object, not the first one opened again
    upper_map.write(0, std::as_bytes(std::span(std::string_view("upper"))));
    std::string seen(5, '\0');
    lower_map.read(0, std::as_writable_bytes(std::span(seen)));
    CHECK(seen != "upper");
}

TEST_CASE("the namespace prefixes are case-sensitive for the kernel; parse_name accepts any case", "[name][case]")
{
    const std::string name = test::unique_name("prefix-case");
    auto m = memory_mapped_file::create(local(name), 100);
    // Passed to the kernel as given, "LOCAL\x" names a directory that does not exist.
    std::error_code ec;
    (void)memory_mapped_file::open(custom("LOCAL\\" + name), ec);
    CHECK(ec == std::error_code(ERROR_PATH_NOT_FOUND, std::system_category()));
    (void)memory_mapped_file::open(custom("Local\\" + name), ec);
    CHECK_FALSE(ec);
    // People type prefixes in any case: parse_name recognises them and writes them canonically.
    const std::string typed = "local\\" + name;
    const parsed_name parsed = parse_name(typed);
    CHECK(parsed.has_prefix);
    CHECK(parsed.ref.scope() == name_scope::local);
    auto opened = memory_mapped_file::open(parsed.ref);
    CHECK(opened.name() == m.name());
}
