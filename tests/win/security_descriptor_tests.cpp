// Security descriptors from presets and SDDL, read back from the kernel with GetSecurityInfo and
// compared ACE by ACE (type, SID, and the rights each mask amounts to for that object type).
// Wine stores descriptors faithfully, and enforces DACLs when an object is opened (see
// security_service_user_tests.cpp for that half).
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <test_support.hpp>

#include <aclapi.h>
#include <sddl.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace winmmf;

namespace {

struct ace {
    BYTE type;
    DWORD mask;
    std::string sid;
    friend bool operator==(const ace&, const ace&) = default;
};

std::string sid_string(PSID sid)
{
    wchar_t* text = nullptr;
    REQUIRE(::ConvertSidToStringSidW(sid, &text));
    const std::string result = test::narrow(text);
    ::LocalFree(text);
    return result;
}

// This test's own reading of the token, independent of winmmf's.
std::string my_user_sid()
{
    HANDLE token = nullptr;
    REQUIRE(::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token));
    detail::unique_handle owned(token);
    alignas(8) unsigned char buffer[512];
    DWORD length = 0;
    REQUIRE(::GetTokenInformation(token, TokenUser, buffer, sizeof buffer, &length));
    return sid_string(reinterpret_cast<TOKEN_USER*>(buffer)->User.Sid);
}

// How the kernel maps generic rights for each object type (as Windows' object types define
// them). Comparing mapped masks compares what an ACE grants, whether or not the kernel
// rewrote generic bits when it stored the descriptor (Windows does, Wine does not).
GENERIC_MAPPING section_mapping()
{
    return {STANDARD_RIGHTS_READ | SECTION_QUERY | SECTION_MAP_READ, STANDARD_RIGHTS_WRITE | SECTION_MAP_WRITE,
            STANDARD_RIGHTS_EXECUTE | SECTION_MAP_EXECUTE, SECTION_ALL_ACCESS};
}
constexpr DWORD event_query_state = 0x0001; // EVENT_QUERY_STATE: not in every SDK's headers

GENERIC_MAPPING event_mapping()
{
    return {STANDARD_RIGHTS_READ | event_query_state, STANDARD_RIGHTS_WRITE | EVENT_MODIFY_STATE,
            STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, EVENT_ALL_ACCESS};
}
GENERIC_MAPPING mutex_mapping()
{
    return {STANDARD_RIGHTS_READ | MUTANT_QUERY_STATE, STANDARD_RIGHTS_WRITE,
            STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, MUTEX_ALL_ACCESS};
}

DWORD mapped(DWORD mask, GENERIC_MAPPING mapping)
{
    ::MapGenericMask(&mask, &mapping);
    return mask;
}

std::vector<ace> aces_of(PACL acl, GENERIC_MAPPING mapping)
{
    std::vector<ace> result;
    if (acl == nullptr) {
        return result;
    }
    for (DWORD i = 0; i < acl->AceCount; ++i) {
        void* raw = nullptr;
        REQUIRE(::GetAce(acl, i, &raw));
        const auto* header = static_cast<const ACE_HEADER*>(raw);
        // ACCESS_ALLOWED_ACE and SYSTEM_MANDATORY_LABEL_ACE share this shape.
        const auto* allowed = static_cast<const ACCESS_ALLOWED_ACE*>(raw);
        CAPTURE(header->AceFlags);
        CHECK(header->AceFlags == 0); // nothing inheritable, nothing inherited
        const DWORD mask = header->AceType == SYSTEM_MANDATORY_LABEL_ACE_TYPE
                               ? allowed->Mask
                               : mapped(allowed->Mask, mapping);
        result.push_back({header->AceType, mask, sid_string(const_cast<DWORD*>(&allowed->SidStart))});
    }
    return result;
}

struct object_security {
    bool dacl_present = false;
    bool dacl_protected = false;
    std::vector<ace> dacl;
    std::vector<ace> label;
};

object_security read_security(HANDLE object, GENERIC_MAPPING mapping)
{
    object_security result;
    PACL dacl = nullptr;
    PSECURITY_DESCRIPTOR sd = nullptr;
    REQUIRE(::GetSecurityInfo(object, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                              &dacl, nullptr, &sd) == ERROR_SUCCESS);
    result.dacl_present = dacl != nullptr;
    result.dacl = aces_of(dacl, mapping);
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision = 0;
    REQUIRE(::GetSecurityDescriptorControl(sd, &control, &revision));
    result.dacl_protected = (control & SE_DACL_PROTECTED) != 0;
    ::LocalFree(sd);

    PACL sacl = nullptr;
    sd = nullptr;
    REQUIRE(::GetSecurityInfo(object, SE_KERNEL_OBJECT, LABEL_SECURITY_INFORMATION, nullptr, nullptr,
                              nullptr, &sacl, &sd) == ERROR_SUCCESS);
    result.label = aces_of(sacl, mapping);
    ::LocalFree(sd);
    return result;
}

constexpr const char* system_sid = "S-1-5-18";
constexpr const char* authenticated_users_sid = "S-1-5-11";
constexpr const char* low_label_sid = "S-1-16-4096";

// What each preset must amount to, written out independently of sddl.hpp.
std::vector<ace> expected_dacl(security_preset preset, const std::string& creator, GENERIC_MAPPING m)
{
    const auto allow = [&](DWORD mask, const std::string& sid) {
        return ace{ACCESS_ALLOWED_ACE_TYPE, mapped(mask, m), sid};
    };
    switch (preset) {
    case security_preset::current_user_only:
        return {allow(GENERIC_ALL, creator)};
    case security_preset::service_writes_users_read:
        return {allow(GENERIC_ALL, creator), allow(GENERIC_ALL, system_sid),
                allow(GENERIC_READ, authenticated_users_sid)};
    case security_preset::service_writes_users_read_write:
        return {allow(GENERIC_ALL, creator), allow(GENERIC_ALL, system_sid),
                allow(GENERIC_READ | GENERIC_WRITE, authenticated_users_sid)};
    }
    FAIL("unknown preset");
    return {};
}

std::vector<ace> expected_label(integrity_label label)
{
    if (label == integrity_label::none) {
        return {};
    }
    return {ace{SYSTEM_MANDATORY_LABEL_ACE_TYPE, SYSTEM_MANDATORY_LABEL_NO_WRITE_UP, low_label_sid}};
}

DWORD rights_of(const object_security& s, const std::string& sid)
{
    DWORD rights = 0;
    for (const ace& a : s.dacl) {
        if (a.type == ACCESS_ALLOWED_ACE_TYPE && a.sid == sid) {
            rights |= a.mask;
        }
    }
    return rights;
}

} // namespace

TEST_CASE("each preset is stored on the section, event and mutex as specified", "[security]")
{
    const security_preset preset = GENERATE(security_preset::current_user_only,
                                            security_preset::service_writes_users_read,
                                            security_preset::service_writes_users_read_write);
    const integrity_label label = GENERATE(integrity_label::none, integrity_label::low);
    CAPTURE(static_cast<int>(preset), static_cast<int>(label));
    const std::string me = my_user_sid();

    const auto sd = security_descriptor::from_preset(preset, label);
    REQUIRE(sd);
    REQUIRE(sd.attributes() != nullptr);
    CHECK(sd.attributes()->nLength == sizeof(SECURITY_ATTRIBUTES));
    CHECK(sd.attributes()->bInheritHandle == FALSE);
    CHECK(sd.attributes()->lpSecurityDescriptor == sd.native_handle());

    const std::string name = test::unique_name("preset");
    auto m = memory_mapped_file::create(local(name), 4096, {.security_attributes = sd.attributes()});
    const object_security section = read_security(m.native_handle(), section_mapping());
    CHECK(section.dacl_present);
    CHECK(section.dacl_protected);
    CHECK(section.dacl == expected_dacl(preset, me, section_mapping()));
    CHECK(section.label == expected_label(label));

    // What authenticated users may do with the section, in section rights.
    const DWORD users = rights_of(section, authenticated_users_sid);
    if (preset == security_preset::current_user_only) {
        CHECK(users == 0);
    } else {
        CHECK((users & SECTION_MAP_READ) != 0);
        CHECK((users & SECTION_QUERY) != 0);
        CHECK(((users & SECTION_MAP_WRITE) != 0) == (preset == security_preset::service_writes_users_read_write));
        CHECK((users & (WRITE_DAC | WRITE_OWNER | DELETE | SECTION_EXTEND_SIZE | SECTION_MAP_EXECUTE)) == 0);
    }

    // The same descriptor on the other kernel objects a mapping may come with.
    detail::unique_handle event(::CreateEventW(sd.attributes(), TRUE, FALSE, test::widen("Local\\" + name + "-event").c_str()));
    REQUIRE(event);
    const object_security ev = read_security(event.get(), event_mapping());
    CHECK(ev.dacl == expected_dacl(preset, me, event_mapping()));
    CHECK(ev.label == expected_label(label));
    if (preset != security_preset::current_user_only) {
        const DWORD waiter = rights_of(ev, authenticated_users_sid);
        // Users may not wait on somebody else's event: an auto-reset event's wake-up goes to one
        // waiter, and a co-tenant that may wait could take it from its owner.
        CHECK((waiter & SYNCHRONIZE) == 0);
        CHECK(((waiter & EVENT_MODIFY_STATE) != 0) == (preset == security_preset::service_writes_users_read_write));
    }

    detail::unique_handle mutex(::CreateMutexW(sd.attributes(), FALSE, test::widen("Local\\" + name + "-mutex").c_str()));
    REQUIRE(mutex);
    const object_security mx = read_security(mutex.get(), mutex_mapping());
    CHECK(mx.dacl == expected_dacl(preset, me, mutex_mapping()));
    if (preset != security_preset::current_user_only) {
        CHECK((rights_of(mx, authenticated_users_sid) & SYNCHRONIZE) == 0);
    }
}

TEST_CASE("a descriptor from an SDDL string is stored as written", "[security]")
{
    // SYSTEM full, Builtin Administrators read and write, Interactive users read; not protected.
    const auto sd = security_descriptor::from_sddl("D:(A;;GA;;;SY)(A;;GRGW;;;BA)(A;;GR;;;IU)");
    const std::string name = test::unique_name("sddl");
    auto m = memory_mapped_file::create(local(name), 100, {.security_attributes = sd.attributes()});
    const object_security s = read_security(m.native_handle(), section_mapping());
    const GENERIC_MAPPING sm = section_mapping();
    const std::vector<ace> expected = {
        {ACCESS_ALLOWED_ACE_TYPE, mapped(GENERIC_ALL, sm), system_sid},
        {ACCESS_ALLOWED_ACE_TYPE, mapped(GENERIC_READ | GENERIC_WRITE, sm), "S-1-5-32-544"},
        {ACCESS_ALLOWED_ACE_TYPE, mapped(GENERIC_READ, sm), "S-1-5-4"},
    };
    CHECK(s.dacl == expected);
    CHECK_FALSE(s.dacl_protected);
    CHECK(s.label.empty());

    // The wide overload, with a deny ACE and specific rights, the same way.
    const auto wide = security_descriptor::from_sddl(L"D:P(D;;0x2;;;WD)(A;;0x000F001F;;;WD)");
    auto m2 = memory_mapped_file::create(local(name + "-wide"), 100, {.security_attributes = wide.attributes()});
    const object_security s2 = read_security(m2.native_handle(), section_mapping());
    const std::vector<ace> expected2 = {{ACCESS_DENIED_ACE_TYPE, SECTION_MAP_WRITE, "S-1-1-0"},
                                        {ACCESS_ALLOWED_ACE_TYPE, SECTION_ALL_ACCESS, "S-1-1-0"}};
    CHECK(s2.dacl == expected2);
    CHECK(s2.dacl_protected);
}

TEST_CASE("from_preset_for builds the descriptor of another creator", "[security]")
{
    const auto sd = security_descriptor::from_preset_for(security_preset::service_writes_users_read, local_system_sid);
    const std::string name = test::unique_name("for-system");
    auto m = memory_mapped_file::create(local(name), 100, {.security_attributes = sd.attributes()});
    const GENERIC_MAPPING sm = section_mapping();
    const std::vector<ace> expected = {{ACCESS_ALLOWED_ACE_TYPE, mapped(GENERIC_ALL, sm), system_sid},
                                       {ACCESS_ALLOWED_ACE_TYPE, mapped(GENERIC_READ, sm), authenticated_users_sid}};
    CHECK(read_security(m.native_handle(), sm).dacl == expected);

    std::error_code ec;
    const auto bad = security_descriptor::from_preset_for(security_preset::current_user_only,
                                                          "S-1-5-18)(A;;GA;;;WD", integrity_label::none, ec);
    CHECK(ec == std::error_code(ERROR_INVALID_SID, std::system_category()));
    CHECK_FALSE(bad);
}

TEST_CASE("malformed SDDL fails with the Win32 error and leaves nothing behind", "[security]")
{
    std::error_code ec;
    auto sd = security_descriptor::from_sddl("D:(A;;XX;;;ZZ)", ec);
    CHECK(ec.category() == std::system_category());
    CHECK(ec.value() != 0);
    CHECK_FALSE(sd);
    CHECK(sd.attributes() == nullptr);
    CHECK(sd.native_handle() == nullptr);

    sd = security_descriptor::from_sddl(std::string_view("D:P\0(A;;GA;;;WD)", 16), ec);
    CHECK(ec == std::error_code(ERROR_INVALID_PARAMETER, std::system_category())); // never truncated at the NUL
    CHECK_FALSE(sd);

    sd = security_descriptor::from_sddl(std::string_view("D:P(A;;GA;;;\xC3)"), ec);
    CHECK(ec == std::error_code(ERROR_NO_UNICODE_TRANSLATION, std::system_category()));

    CHECK_THROWS_AS(security_descriptor::from_sddl("not sddl at all"), std::system_error);

    // An empty descriptor is valid: null attributes give the creator's default security.
    const security_descriptor none;
    CHECK(none.attributes() == nullptr);
    auto m = memory_mapped_file::create(local(test::unique_name("default-sd")), 100,
                                        {.security_attributes = none.attributes()});
    CHECK(m.is_open());
}

TEST_CASE("moving a descriptor keeps the attributes pointer valid", "[security]")
{
    auto original = security_descriptor::from_preset(security_preset::current_user_only);
    SECURITY_ATTRIBUTES* const attributes = original.attributes();
    security_descriptor moved = std::move(original);
    CHECK(moved.attributes() == attributes);
    CHECK(original.attributes() == nullptr); // NOLINT(bugprone-use-after-move): checking the moved-from state
    auto m = memory_mapped_file::create(local(test::unique_name("moved-sd")), 100,
                                        {.security_attributes = attributes});
    CHECK(read_security(m.native_handle(), section_mapping()).dacl.size() == 1);

    const std::wstring sddl = moved.to_sddl();
    CHECK(sddl.find(L"(A;;GA;;;" + test::widen(my_user_sid()) + L")") != std::wstring::npos);
}

TEST_CASE("building descriptors frees what it allocates, on success and on every error path", "[security]")
{
    // Count live heap blocks in every heap of the process (LocalAlloc and operator new both
    // land in one of them) before and after many rounds of each path.
    const auto live_blocks = [] {
        HANDLE heaps[64];
        const DWORD count = ::GetProcessHeaps(64, heaps);
        std::size_t blocks = 0;
        for (DWORD i = 0; i < count && i < 64; ++i) {
            if (!::HeapLock(heaps[i])) {
                continue;
            }
            PROCESS_HEAP_ENTRY entry{};
            while (::HeapWalk(heaps[i], &entry)) {
                if ((entry.wFlags & PROCESS_HEAP_ENTRY_BUSY) != 0) {
                    ++blocks;
                }
            }
            ::HeapUnlock(heaps[i]);
        }
        return blocks;
    };
    const auto one_round = [] {
        std::error_code ec;
        {
            auto a = security_descriptor::from_preset(security_preset::service_writes_users_read, integrity_label::low, ec);
            auto b = security_descriptor::from_sddl("D:P(A;;GA;;;SY)", ec);
            auto c = std::move(a);
            (void)c.to_sddl(ec);
        }
        (void)security_descriptor::from_sddl("D:(A;;XX;;;ZZ)", ec);            // converter refuses
        (void)security_descriptor::from_sddl(std::string_view("D:P\xC3"), ec); // bad UTF-8
        (void)security_descriptor::from_preset_for(security_preset::current_user_only, "nope",
                                                    integrity_label::none, ec);
    };
    one_round(); // first-use allocations (privilege tables, the SDDL parser's) happen here
    const std::size_t before = live_blocks();
    constexpr int rounds = 2000;
    for (int i = 0; i < rounds; ++i) {
        one_round();
    }
    const std::size_t after = live_blocks();
    CAPTURE(before, after);
    // A leak on any path would leave at least `rounds` blocks behind.
    CHECK(after < before + rounds / 10);
}
