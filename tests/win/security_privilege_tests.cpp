// SeCreateGlobalPrivilege and SeLockMemoryPrivilege: the queries against real tokens (changed
// in child processes), and the Global\ errors as far as Wine can show them. Wine lets any
// process create Global\ objects, so "created without the privilege" is skipped there with
// the reason; the decision itself is unit-tested in tests/unit/win32_rules_tests.cpp.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/child.hpp"
#include <test_support.hpp>

#include <string>

using namespace winmmf;
using child::exit_code_for;

namespace {

constexpr long exit_privilege_base = 200; // security_commands.cpp
constexpr long exit_win32_base = 1000;

long privilege_exit(privilege_state s) { return exit_privilege_base + static_cast<long>(s); }

// This test's own reading of the token, independent of winmmf's.
privilege_state read_token(const wchar_t* privilege)
{
    LUID luid{};
    REQUIRE(::LookupPrivilegeValueW(nullptr, privilege, &luid));
    HANDLE token = nullptr;
    REQUIRE(::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token));
    detail::unique_handle owned(token);
    alignas(8) unsigned char buffer[4096];
    DWORD length = 0;
    REQUIRE(::GetTokenInformation(token, TokenPrivileges, buffer, sizeof buffer, &length));
    const auto* privileges = reinterpret_cast<const TOKEN_PRIVILEGES*>(buffer);
    for (DWORD i = 0; i < privileges->PrivilegeCount; ++i) {
        const LUID_AND_ATTRIBUTES& p = privileges->Privileges[i];
        if (p.Luid.LowPart == luid.LowPart && p.Luid.HighPart == luid.HighPart) {
            return (p.Attributes & SE_PRIVILEGE_ENABLED) ? privilege_state::enabled : privilege_state::disabled;
        }
    }
    return privilege_state::absent;
}

bool is_wine()
{
    return ::GetProcAddress(::GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != nullptr;
}

} // namespace

TEST_CASE("query_privilege reads the token", "[privilege]")
{
    for (const wchar_t* p : {create_global_privilege_name, lock_memory_privilege_name, L"SeChangeNotifyPrivilege"}) {
        CAPTURE(test::narrow(p));
        std::error_code ec;
        CHECK(query_privilege(p, ec) == read_token(p));
        CHECK_FALSE(ec);
    }
    CHECK(has_create_global_privilege() == (read_token(create_global_privilege_name) == privilege_state::enabled));

    std::error_code ec;
    CHECK(query_privilege(L"SeNoSuchPrivilege", ec) == privilege_state::unknown);
    CHECK(ec == std::error_code(ERROR_NO_SUCH_PRIVILEGE, std::system_category()));
    CHECK_THROWS_AS(query_privilege(L"SeNoSuchPrivilege"), std::system_error);
}

TEST_CASE("query_privilege follows the token as it changes", "[privilege][multiprocess]")
{
    // SeChangeNotifyPrivilege is held, enabled, by every account on Windows and Wine alike.
    const std::string p = "SeChangeNotifyPrivilege";
    CHECK(test::run_child({"privilege", p, "none"}) == privilege_exit(privilege_state::enabled));
    CHECK(test::run_child({"privilege", p, "disable"}) == privilege_exit(privilege_state::disabled));
    CHECK(test::run_child({"privilege", p, "remove"}) == privilege_exit(privilege_state::absent));

    const std::string global = "SeCreateGlobalPrivilege";
    const privilege_state held = read_token(create_global_privilege_name);
    CHECK(test::run_child({"privilege", global, "none"}) == privilege_exit(held));
    if (held != privilege_state::absent) {
        CHECK(test::run_child({"privilege", global, "disable"}) == privilege_exit(privilege_state::disabled));
        CHECK(test::run_child({"privilege", global, "remove"}) == privilege_exit(privilege_state::absent));
    }
}

TEST_CASE("enable_lock_memory_privilege enables it, or says the account lacks it", "[privilege][large_pages]")
{
    const privilege_state held = read_token(lock_memory_privilege_name);
    const long result = test::run_child({"enable-lock-memory"});
    if (held == privilege_state::absent) {
        CHECK(result == exit_code_for(errc::large_page_privilege_missing)); // Wine's default token
    } else {
        CHECK(result == 0);
    }
}

TEST_CASE("creating in Global\\ without SeCreateGlobalPrivilege", "[privilege][multiprocess]")
{
    const std::string name = test::unique_name("no-global-privilege");
    const long result = test::run_child({"create-without-global-privilege", "global", name});
    if (result == 0) {
        REQUIRE(is_wine());
        SKIP("Wine lets any process create Global\\ objects; on Windows (session > 0) this is "
             "errc::global_privilege_missing, as tests/unit/win32_rules_tests.cpp decides");
    }
    CHECK(result == exit_code_for(errc::global_privilege_missing));
}

TEST_CASE("an existing Global\\ object that refuses us is access denied, not a missing privilege",
          "[privilege][multiprocess]")
{
    // Only SYSTEM may touch it. The child has no SeCreateGlobalPrivilege either, so the one
    // thing telling the two causes apart is that the name exists.
    const std::string name = test::unique_name("taken-global");
    const auto sd = security_descriptor::from_sddl("D:P(A;;GA;;;SY)");
    auto owner = memory_mapped_file::create(global(name), 4096, {.security_attributes = sd.attributes()});

    CHECK(test::run_child({"create-without-global-privilege", "global", name}) ==
          exit_win32_base + ERROR_ACCESS_DENIED);
    CHECK(test::run_child({"create-without-global-privilege", "global", name, "open_or_create"}) ==
          exit_win32_base + ERROR_ACCESS_DENIED);

    // With the privilege (this process), the same.
    std::error_code ec;
    auto again = memory_mapped_file::open_or_create(global(name), 4096, ec);
    CHECK(ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category()));
}

TEST_CASE("opening Global\\ never needs SeCreateGlobalPrivilege", "[privilege][multiprocess]")
{
    const std::string name = test::unique_name("open-global");
    auto m = memory_mapped_file::create(global(name), 4096);
    const std::string data = "opened without the privilege";
    m.write(0, std::as_bytes(std::span(data)));
    const std::string h = test::to_hex(data.data(), data.size());
    CHECK(test::run_child({"open-without-global-privilege", "global", name, "0", h, "read-only"}) == 0);
    CHECK(test::run_child({"open-without-global-privilege", "global", name, "0", h, "read-write"}) == 0);
}

TEST_CASE("not found: the message names the namespace searched, and the one that has it", "[privilege][mapping]")
{
    const std::string in_global = test::unique_name("only-global");
    auto g = memory_mapped_file::create(global(in_global), 100);
    try {
        (void)memory_mapped_file::open(local(in_global));
        FAIL("open of a missing mapping did not throw");
    } catch (const std::system_error& e) {
        const std::string what = e.what();
        CAPTURE(what);
        CHECK(e.code() == errc::not_found);
        CHECK(what.find("open Local\\" + in_global) != std::string::npos);
        CHECK(what.find("Global\\" + in_global + " exists") != std::string::npos);
        CHECK(what.find("winmmf::global") != std::string::npos);
    }
    // The same from a session name: Session\<n>\x is a Local\ namespace too.
    std::error_code ec;
    const std::uint32_t me = current_session_id();
    try {
        (void)memory_mapped_file::open(session(me, in_global));
        FAIL("open of a missing mapping did not throw");
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()).find("Global\\" + in_global + " exists") != std::string::npos);
    }

    const std::string in_local = test::unique_name("only-local");
    auto l = memory_mapped_file::create(local(in_local), 100);
    try {
        (void)memory_mapped_file::open(global(in_local));
        FAIL("open of a missing mapping did not throw");
    } catch (const std::system_error& e) {
        const std::string what = e.what();
        CAPTURE(what);
        CHECK(what.find("open Global\\" + in_local) != std::string::npos);
        CHECK(what.find("Local\\" + in_local + " exists") != std::string::npos);
    }

    // A mapping we may not open still counts (the hint is about where it is, not access)...
    const std::string locked = test::unique_name("locked-global");
    const auto system_only = security_descriptor::from_sddl("D:P(A;;GA;;;SY)");
    auto lg = memory_mapped_file::create(global(locked), 100, {.security_attributes = system_only.attributes()});
    try {
        (void)memory_mapped_file::open(local(locked));
        FAIL("open of a missing mapping did not throw");
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()).find("Global\\" + locked + " exists") != std::string::npos);
    }
    // ...but an event of that name is not a mapping.
    const std::string evented = test::unique_name("event-global");
    detail::unique_handle event(::CreateEventW(nullptr, TRUE, FALSE, test::widen("Global\\" + evented).c_str()));
    REQUIRE(event);
    try {
        (void)memory_mapped_file::open(local(evented));
        FAIL("open of a missing mapping did not throw");
    } catch (const std::system_error& e) {
        CHECK(e.code() == errc::not_found);
        CHECK(std::string(e.what()).find("exists: open it with") == std::string::npos);
    }

    // Nowhere: no hint, and the error_code overload is plain not_found.
    const std::string nowhere = test::unique_name("nowhere");
    try {
        (void)memory_mapped_file::open(local(nowhere));
        FAIL("open of a missing mapping did not throw");
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()).find("exists: open it with") == std::string::npos);
    }
    auto none = memory_mapped_file::open(local(nowhere), ec);
    CHECK(ec == errc::not_found);
    (void)none;
}
