// The security presets as SDDL text: exact strings, because docs/explanation/security.md quotes them and
// administrators audit them.
#include <winmmf/sddl.hpp>

#include <catch2/catch_test_macros.hpp>

#include <string>

using namespace winmmf;

namespace {
constexpr const char* user = "S-1-5-21-1004336348-1177238915-682003330-1001";
}

TEST_CASE("the rights the presets grant", "[sddl]")
{
    STATIC_CHECK(access_rights::reader == 0x80000000u); // GENERIC_READ: no SYNCHRONIZE, which sections lack
    STATIC_CHECK(access_rights::writer == 0xC0000000u); // ... | GENERIC_WRITE
    STATIC_CHECK(access_rights::generic_all == 0x10000000u);
}

TEST_CASE("each preset's SDDL", "[sddl]")
{
    CHECK(preset_sddl(security_preset::current_user_only, user) ==
          std::string("D:P(A;;GA;;;") + user + ")");
    CHECK(preset_sddl(security_preset::service_writes_users_read, user) ==
          std::string("D:P(A;;GA;;;") + user + ")(A;;GA;;;SY)(A;;GR;;;AU)");
    CHECK(preset_sddl(security_preset::service_writes_users_read_write, user) ==
          std::string("D:P(A;;GA;;;") + user + ")(A;;GA;;;SY)(A;;GRGW;;;AU)");
}

TEST_CASE("a service running as SYSTEM gets one SYSTEM ACE, not two", "[sddl]")
{
    CHECK(preset_sddl(security_preset::service_writes_users_read, local_system_sid) ==
          "D:P(A;;GA;;;S-1-5-18)(A;;GR;;;AU)");
    CHECK(preset_sddl(security_preset::service_writes_users_read_write, "S-1-5-18") ==
          "D:P(A;;GA;;;S-1-5-18)(A;;GRGW;;;AU)");
    // A service account other than SYSTEM (NT SERVICE\..., LocalService) keeps SYSTEM as well.
    CHECK(preset_sddl(security_preset::service_writes_users_read, "S-1-5-19") ==
          "D:P(A;;GA;;;S-1-5-19)(A;;GA;;;SY)(A;;GR;;;AU)");
}

TEST_CASE("the low-integrity option adds a Low mandatory label with no-write-up", "[sddl]")
{
    CHECK(preset_sddl(security_preset::current_user_only, user, integrity_label::low) ==
          std::string("D:P(A;;GA;;;") + user + ")S:(ML;;NW;;;LW)");
    CHECK(preset_sddl(security_preset::service_writes_users_read_write, "S-1-5-18", integrity_label::low) ==
          "D:P(A;;GA;;;S-1-5-18)(A;;GRGW;;;AU)S:(ML;;NW;;;LW)");
    CHECK(preset_sddl(security_preset::service_writes_users_read, user, integrity_label::none).find("S:") ==
          std::string::npos);
}

TEST_CASE("only SID strings are spliced into SDDL", "[sddl]")
{
    STATIC_CHECK(is_sid_string("S-1-5-18"));
    STATIC_CHECK(is_sid_string("S-1-5-21-1-2-3-1001"));
    STATIC_CHECK(is_sid_string("S-1-16-4096"));
    STATIC_CHECK_FALSE(is_sid_string(""));
    STATIC_CHECK_FALSE(is_sid_string("S-1-"));
    STATIC_CHECK_FALSE(is_sid_string("S-1-5-"));
    STATIC_CHECK_FALSE(is_sid_string("S-1-5--18"));
    STATIC_CHECK_FALSE(is_sid_string("S-2-5-18"));
    STATIC_CHECK_FALSE(is_sid_string("s-1-5-18"));
    STATIC_CHECK_FALSE(is_sid_string("SY"));
    STATIC_CHECK_FALSE(is_sid_string("S-1-5-18 "));
    // An attempt to smuggle an extra ACE in through the "SID".
    STATIC_CHECK_FALSE(is_sid_string("S-1-5-18)(A;;GA;;;WD"));
    CHECK(preset_sddl(security_preset::current_user_only, "S-1-5-18)(A;;GA;;;WD").empty());
    CHECK(preset_sddl(security_preset::service_writes_users_read, "").empty());
}
