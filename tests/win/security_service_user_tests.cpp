// The service-to-user case from docs/explanation/security.md, as far as one account can play both parts:
// the mapping is created with the descriptor a SYSTEM service would build for itself
// (service_writes_users_read with SYSTEM as the creator), so this process, an ordinary
// authenticated user to that DACL, is exactly "the user program". Wine checks DACLs when a
// named object is opened, so the refusals below are real kernel refusals.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/child.hpp"
#include <test_support.hpp>

#include <cstring>
#include <string>

using namespace winmmf;
using child::exit_code_for;

namespace {

constexpr long exit_win32_base = 1000; // security_commands.cpp

std::string hex(std::string_view s) { return test::to_hex(s.data(), s.size()); }

bool running_as_system()
{
    HANDLE token = nullptr;
    REQUIRE(::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token));
    detail::unique_handle owned(token);
    alignas(8) unsigned char buffer[512];
    DWORD length = 0;
    REQUIRE(::GetTokenInformation(token, TokenUser, buffer, sizeof buffer, &length));
    return ::IsWellKnownSid(reinterpret_cast<TOKEN_USER*>(buffer)->User.Sid, WinLocalSystemSid) != FALSE;
}

} // namespace

TEST_CASE("a service's Global\\ mapping: users open it read-only, and are refused write access",
          "[security][multiprocess]")
{
    if (running_as_system()) {
        SKIP("this test plays the user against a SYSTEM-only write grant; it cannot run as SYSTEM");
    }
    const std::string name = test::unique_name("service-frames");
    const auto sd = security_descriptor::from_preset_for(security_preset::service_writes_users_read,
                                                         local_system_sid);
    auto service = memory_mapped_file::create(global(name), 4096, {.security_attributes = sd.attributes()});
    const std::string frame = "frame 1 from the service";
    service.write(0, std::as_bytes(std::span(frame)));

    // The user program: read-only opens work, here and in another process.
    auto viewer = memory_mapped_file::open(global(name), {.access = access_mode::read_only});
    CHECK(std::memcmp(viewer.unsynchronized_bytes().data(), frame.data(), frame.size()) == 0);
    CHECK(test::run_child({"open-access", "global", name, "read-only"}) == 0);
    CHECK(test::run_child({"expect", "global", name, "0", hex(frame), "read-only"}) == 0);

    // Read-write is refused by the DACL: ERROR_ACCESS_DENIED, as it is, not a privilege error.
    std::error_code ec;
    auto writer = memory_mapped_file::open(global(name), ec);
    CHECK(ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category()));
    CHECK(ec != errc::global_privilege_missing);
    CHECK_FALSE(writer.is_open());
    CHECK(test::run_child({"open-access", "global", name, "read-write"}) == exit_win32_base + ERROR_ACCESS_DENIED);

    // Nor can the user take the name over: creating it again is refused the same way.
    auto squatter = memory_mapped_file::open_or_create(global(name), 4096, ec);
    CHECK(ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category()));
    CHECK_FALSE(squatter.is_open());

    // The service's data is intact, and its lock word free.
    std::string after(frame.size(), '\0');
    service.read(0, std::as_writable_bytes(std::span(after)));
    CHECK(after == frame);
    CHECK(service.lock_policy().value() == 0);
}

TEST_CASE("read-write preset: users may open for writing", "[security][multiprocess]")
{
    const std::string name = test::unique_name("service-rw");
    const auto sd = security_descriptor::from_preset_for(security_preset::service_writes_users_read_write,
                                                         local_system_sid);
    auto service = memory_mapped_file::create(global(name), 4096, {.security_attributes = sd.attributes()});
    CHECK(test::run_child({"open-access", "global", name, "read-write"}) == 0);
    CHECK(test::run_child({"write", "global", name, "8", hex("from user")}) == 0);
    std::string got(9, '\0');
    service.read(8, std::as_writable_bytes(std::span(got)));
    CHECK(got == "from user");
}

TEST_CASE("current_user_only: a DACL naming someone else shuts this account out", "[security]")
{
    // What current_user_only built for another account looks like from this one.
    const std::string name = test::unique_name("other-user");
    const auto theirs = security_descriptor::from_preset_for(security_preset::current_user_only,
                                                             "S-1-5-21-1-2-3-4242");
    auto m = memory_mapped_file::create(local(name), 100, {.security_attributes = theirs.attributes()});
    std::error_code ec;
    auto ro = memory_mapped_file::open(local(name), {.access = access_mode::read_only}, ec);
    CHECK(ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category()));
    CHECK(test::run_child({"open-access", "local", name, "read-only"}) == exit_win32_base + ERROR_ACCESS_DENIED);

    // And ours lets this account in, in another process too.
    const std::string mine = test::unique_name("this-user");
    const auto sd = security_descriptor::from_preset(security_preset::current_user_only);
    auto m2 = memory_mapped_file::create(local(mine), 100, {.security_attributes = sd.attributes()});
    CHECK(test::run_child({"open-access", "local", mine, "read-write"}) == 0);
}
