// The rules that turn a Win32 failure into the error a caller gets, and the large-page
// decisions. Pure functions: these run natively too, and cover the branches Wine cannot
// produce (it lets anyone create Global\ objects and never refuses SEC_LARGE_PAGES).
#include <winmmf/error.hpp>
#include <winmmf/protocol/page.hpp>
#include <winmmf/protocol/win32_rules.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <cstdint>
#include <string>
#include <string_view>

using namespace winmmf;
using namespace std::string_view_literals;

namespace {

constexpr std::uint32_t access_denied = protocol::win32::error_access_denied;

protocol::create_failure global_create_denied(privilege_state privilege, protocol::name_presence existing)
{
    protocol::create_failure f;
    f.win32_error = access_denied;
    f.global_namespace = true;
    f.create_global = privilege;
    f.existing = existing;
    return f;
}

} // namespace

TEST_CASE("Global\\ and Session\\0\\ are the global namespace, except from session 0", "[win32_rules]")
{
    STATIC_CHECK(protocol::creates_in_global_namespace(u"Global\\x"sv, 1));
    STATIC_CHECK(protocol::creates_in_global_namespace("Global\\x"sv, 2));
    STATIC_CHECK(protocol::creates_in_global_namespace(u"Session\\0\\x"sv, 1));
    STATIC_CHECK(protocol::creates_in_global_namespace(U"Global\\x"sv, 1));

    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"Global\\x"sv, 0)); // services own it
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"Local\\x"sv, 1));
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"Session\\1\\x"sv, 1));
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"Session\\01\\x"sv, 1));
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"Session\\0"sv, 1));
    // The prefixes are case-sensitive: GLOBAL\x is a name in the local namespace (whose
    // "GLOBAL" directory does not exist), never the global one.
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"GLOBAL\\x"sv, 1));
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"global\\x"sv, 1));
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"session\\0\\x"sv, 1));
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"Globalx"sv, 1));
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"Global"sv, 1));
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"x"sv, 1));
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u""sv, 1));
    // A unit that only matches 'G' when truncated to 8 bits must not match.
    STATIC_CHECK_FALSE(protocol::creates_in_global_namespace(u"\u0147lobal\\x"sv, 1));
}

TEST_CASE("access denied in Global\\ is the privilege only when the privilege is missing and the name is free",
          "[win32_rules]")
{
    // The privilege is missing (absent or switched off) and nothing holds the name.
    CHECK(protocol::classify_create_failure(global_create_denied(privilege_state::absent, protocol::name_presence::absent)) ==
          errc::global_privilege_missing);
    CHECK(protocol::classify_create_failure(global_create_denied(privilege_state::disabled, protocol::name_presence::absent)) ==
          errc::global_privilege_missing);
    // A probe that could not tell does not excuse the missing privilege.
    CHECK(protocol::classify_create_failure(global_create_denied(privilege_state::absent, protocol::name_presence::unknown)) ==
          errc::global_privilege_missing);

    // An existing object whose DACL refuses us: a DACL matter, whatever the privilege says.
    CHECK(protocol::classify_create_failure(global_create_denied(privilege_state::absent, protocol::name_presence::present)) ==
          errc{});
    CHECK(protocol::classify_create_failure(global_create_denied(privilege_state::disabled, protocol::name_presence::present)) ==
          errc{});
    // The privilege is there: access denied is something else (a DACL, a policy).
    CHECK(protocol::classify_create_failure(global_create_denied(privilege_state::enabled, protocol::name_presence::absent)) ==
          errc{});
    // An unreadable token proves nothing.
    CHECK(protocol::classify_create_failure(global_create_denied(privilege_state::unknown, protocol::name_presence::absent)) ==
          errc{});

    // Not the global namespace (Local\, or Global\ from session 0): never the privilege.
    protocol::create_failure local = global_create_denied(privilege_state::absent, protocol::name_presence::absent);
    local.global_namespace = false;
    CHECK(protocol::classify_create_failure(local) == errc{});

    // Other errors in Global\ stay what they are.
    for (const std::uint32_t other : {protocol::win32::error_file_not_found, protocol::win32::error_path_not_found,
                                      std::uint32_t{87}, std::uint32_t{6}, std::uint32_t{183}}) {
        protocol::create_failure f = global_create_denied(privilege_state::absent, protocol::name_presence::absent);
        f.win32_error = other;
        CAPTURE(other);
        CHECK(protocol::classify_create_failure(f) == errc{});
    }
}

TEST_CASE("ERROR_PRIVILEGE_NOT_HELD is the large-page privilege only for a large-page creation",
          "[win32_rules]")
{
    protocol::create_failure f;
    f.win32_error = protocol::win32::error_privilege_not_held;
    f.large_pages = true;
    CHECK(protocol::classify_create_failure(f) == errc::large_page_privilege_missing);
    f.large_pages = false;
    CHECK(protocol::classify_create_failure(f) == errc{});
    // Both at once cannot happen (different errors), but a large-page creation in Global\ that
    // is refused for the Global\ privilege is reported as that.
    f = global_create_denied(privilege_state::absent, protocol::name_presence::absent);
    f.large_pages = true;
    CHECK(protocol::classify_create_failure(f) == errc::global_privilege_missing);
}

TEST_CASE("open: only ERROR_FILE_NOT_FOUND means not found", "[win32_rules]")
{
    STATIC_CHECK(protocol::classify_open_failure(protocol::win32::error_file_not_found) == errc::not_found);
    // Bogus\x or an unused Session\<n>\ is a namespace that is not there: a malformed name.
    STATIC_CHECK(protocol::classify_open_failure(protocol::win32::error_path_not_found) == errc{});
    // Opening never needs SeCreateGlobalPrivilege, so access denied is always the DACL.
    STATIC_CHECK(protocol::classify_open_failure(protocol::win32::error_access_denied) == errc{});
    STATIC_CHECK(protocol::classify_open_failure(6) == errc{});
}

TEST_CASE("only `preferred` falls back, and only for large-page reasons", "[win32_rules][large_pages]")
{
    const std::uint32_t large_page_reasons[] = {
        protocol::win32::error_privilege_not_held, protocol::win32::error_not_supported, protocol::win32::error_no_system_resources,
        protocol::win32::error_not_enough_memory, protocol::win32::error_commitment_limit};
    for (const std::uint32_t e : large_page_reasons) {
        CAPTURE(e);
        CHECK(protocol::large_page_fallback_allowed(large_page_mode::preferred, e));
        CHECK_FALSE(protocol::large_page_fallback_allowed(large_page_mode::required, e));
        CHECK_FALSE(protocol::large_page_fallback_allowed(large_page_mode::off, e));
    }
    // Failures that normal pages would hit just the same are reported, never papered over.
    const std::uint32_t other_reasons[] = {protocol::win32::error_access_denied, protocol::win32::error_file_not_found,
                                           protocol::win32::error_path_not_found, 6u /* name used by an event */,
                                           87u /* invalid parameter */, 183u, 0u};
    for (const std::uint32_t e : other_reasons) {
        CAPTURE(e);
        CHECK_FALSE(protocol::large_page_fallback_allowed(large_page_mode::preferred, e));
    }
}

TEST_CASE("sections and views get exactly the documented flags", "[win32_rules][large_pages]")
{
    STATIC_CHECK(protocol::section_attributes(false) == 0x08000004u); // PAGE_READWRITE | SEC_COMMIT
    STATIC_CHECK(protocol::section_attributes(true) == 0x88000004u);  // ... | SEC_LARGE_PAGES
    STATIC_CHECK(protocol::view_access(false, false) == 0x4u);        // FILE_MAP_READ
    STATIC_CHECK(protocol::view_access(true, false) == 0x6u);         // FILE_MAP_READ | FILE_MAP_WRITE
    STATIC_CHECK(protocol::view_access(true, true) == 0x20000006u);   // ... | FILE_MAP_LARGE_PAGES
    STATIC_CHECK(protocol::view_access(false, true) == 0x20000004u);
    // Never FILE_MAP_ALL_ACCESS (0xF001F): a DACL granting read and write must suffice.
    STATIC_CHECK((protocol::view_access(true, true) & 0x000F0000u) == 0);
}

TEST_CASE("large pages: sizes round to the large-page minimum, the header inside", "[win32_rules][large_pages]")
{
    constexpr std::uint64_t large = 2u << 20; // GetLargePageMinimum() on x64
    protocol::mapping_layout l;
    REQUIRE(protocol::compute_layout(100, 4, large, l) == errc{});
    CHECK(l.section_size == large);
    CHECK(l.size == 100);
    CHECK(l.capacity == large - 4); // asked for 100, may use all of it: capacity() says so

    REQUIRE(protocol::compute_layout(large - 4, 4, large, l) == errc{});
    CHECK(l.section_size == large);
    REQUIRE(protocol::compute_layout(large - 3, 4, large, l) == errc{});
    CHECK(l.section_size == 2 * large);
    CHECK(l.capacity == 2 * large - 4);

    // A 1080p BGRA frame (8,294,400 bytes) takes four 2 MiB pages.
    REQUIRE(protocol::compute_layout(1920u * 1080u * 4u, 4, large, l) == errc{});
    CHECK(l.section_size == 4 * large);

    // 32-bit processes: the rounded view must fit the address space.
    constexpr std::uint64_t limit_32 = 0xFFFFFFFFu;
    CHECK(protocol::compute_layout(limit_32 - large, 4, large, l, limit_32) == errc::size_overflow);
    CHECK(protocol::compute_layout(limit_32 - 2 * large, 4, large, l, limit_32) == errc{});
    CHECK(l.section_size == limit_32 + 1 - large);
    CHECK(protocol::compute_layout(~std::uint64_t{0} - 8, 4, large, l) == errc::size_overflow);
}

TEST_CASE("the privilege errors name the privilege and the fix", "[win32_rules][error]")
{
    const std::string global = make_error_code(errc::global_privilege_missing).message();
    CHECK(global.find("SeCreateGlobalPrivilege") != std::string::npos);
    CHECK(global.find("service") != std::string::npos);
    CHECK(global.find("administrator") != std::string::npos);
    CHECK(global.find("open") != std::string::npos); // ...or let the service create and only open here
    CHECK(make_error_code(errc::global_privilege_missing) == std::errc::permission_denied);

    const std::string large = make_error_code(errc::large_page_privilege_missing).message();
    CHECK(large.find("SeLockMemoryPrivilege") != std::string::npos);
    CHECK(large.find("Lock pages in memory") != std::string::npos);
    CHECK(make_error_code(errc::large_page_privilege_missing) == std::errc::permission_denied);
}
