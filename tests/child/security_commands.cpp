// Child commands for the security and privilege tests. Privileges are changed in a child, never
// in the test process, so no test sees a token another test has altered.
//
// Exit codes (besides child.hpp's): 200 + privilege_state for the privilege queries, and
// 1000 + the Win32 error for failures reported in the system category, so the parent can tell
// ERROR_ACCESS_DENIED from errc::global_privilege_missing.
#include "child.hpp"

#include <winmmf/winmmf.hpp>

#include <test_support.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace winmmf::child {
namespace {

constexpr int exit_privilege_base = 200;
constexpr int exit_win32_base = 1000;

int exit_for(const std::error_code& ec, const char* what)
{
    if (ec && ec.category() == std::system_category()) {
        std::fprintf(stderr, "winmmf_child: %s: %s (Win32 %d)\n", what, ec.message().c_str(), ec.value());
        return exit_win32_base + ec.value();
    }
    return report(ec, what);
}

// Changes `privilege` in the process token by hand (not through winmmf): "disable" switches it
// off, "remove" takes it out of the token for good, "enable" switches it on, "none" leaves it.
bool adjust(const std::string& privilege, const std::string& action)
{
    if (action == "none") {
        return true;
    }
    HANDLE token = nullptr;
    if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &token)) {
        return false;
    }
    detail::unique_handle owned(token);
    TOKEN_PRIVILEGES request{};
    request.PrivilegeCount = 1;
    if (!::LookupPrivilegeValueW(nullptr, test::widen(privilege).c_str(), &request.Privileges[0].Luid)) {
        return false;
    }
    request.Privileges[0].Attributes = action == "enable"    ? SE_PRIVILEGE_ENABLED
                                       : action == "remove"  ? SE_PRIVILEGE_REMOVED
                                                             : 0;
    return ::AdjustTokenPrivileges(token, FALSE, &request, 0, nullptr, nullptr) != FALSE;
}

// privilege <name> <none|disable|remove|enable>: exits with 200 + what query_privilege says after.
int privilege(const args& a)
{
    if (a.size() != 2) {
        return exit_usage;
    }
    if (!adjust(a[0], a[1])) {
        return exit_for(detail::last_error(), "AdjustTokenPrivileges");
    }
    std::error_code ec;
    const privilege_state state = query_privilege(test::widen(a[0]).c_str(), ec);
    if (ec) {
        return exit_for(ec, "query_privilege");
    }
    return exit_privilege_base + static_cast<int>(state);
}

// enable-lock-memory: exits with what enable_lock_memory_privilege reports (0 when enabled).
int enable_lock_memory(const args& a)
{
    if (!a.empty()) {
        return exit_usage;
    }
    std::error_code ec;
    const bool enabled = enable_lock_memory_privilege(ec);
    if (enabled != !ec) {
        return exit_mismatch;
    }
    return exit_for(ec, "enable_lock_memory_privilege");
}

// create-without-global-privilege <scope> <name> [open_or_create]: takes SeCreateGlobalPrivilege
// out of the token, then creates. Exits with what the creation reported.
int create_without_global_privilege(const args& a)
{
    if (a.size() < 2) {
        return exit_usage;
    }
    if (!adjust("SeCreateGlobalPrivilege", "remove")) {
        return exit_for(detail::last_error(), "AdjustTokenPrivileges");
    }
    if (has_create_global_privilege()) {
        std::fprintf(stderr, "create-without-global-privilege: the privilege is still there\n");
        return exit_mismatch;
    }
    std::error_code ec;
    const bool ooc = a.size() > 2 && a[2] == "open_or_create";
    auto m = ooc ? memory_mapped_file::open_or_create(test::parse_name(a[0], a[1]), 4096, ec)
                 : memory_mapped_file::create(test::parse_name(a[0], a[1]), 4096, ec);
    if (!ec && !m.is_open()) {
        return exit_mismatch;
    }
    return exit_for(ec, "create");
}

// open-without-global-privilege <scope> <name> <offset> <hex> <read-only|read-write>: takes
// SeCreateGlobalPrivilege out of the token, opens, and checks the bytes.
int open_without_global_privilege(const args& a)
{
    if (a.size() != 5) {
        return exit_usage;
    }
    if (!adjust("SeCreateGlobalPrivilege", "remove")) {
        return exit_for(detail::last_error(), "AdjustTokenPrivileges");
    }
    if (has_create_global_privilege()) {
        return exit_mismatch;
    }
    open_options options;
    options.access = a[4] == "read-only" ? access_mode::read_only : access_mode::read_write;
    std::error_code ec;
    auto m = memory_mapped_file::open(test::parse_name(a[0], a[1]), options, ec);
    if (ec) {
        return exit_for(ec, "open");
    }
    const auto expected = test::from_hex(a[3]);
    const auto bytes = m.unsynchronized_bytes();
    const std::size_t offset = std::stoul(a[2]);
    if (offset + expected.size() > bytes.size() ||
        std::memcmp(bytes.data() + offset, expected.data(), expected.size()) != 0) {
        return exit_mismatch;
    }
    return exit_ok;
}

// open-access <scope> <name> <read-only|read-write>: exits with what the open reported.
int open_access(const args& a)
{
    if (a.size() != 3) {
        return exit_usage;
    }
    open_options options;
    options.access = a[2] == "read-only" ? access_mode::read_only : access_mode::read_write;
    std::error_code ec;
    auto m = memory_mapped_file::open(test::parse_name(a[0], a[1]), options, ec);
    return exit_for(ec, "open");
}

const registrar r1{"privilege", privilege};
const registrar r2{"enable-lock-memory", enable_lock_memory};
const registrar r3{"create-without-global-privilege", create_without_global_privilege};
const registrar r4{"open-without-global-privilege", open_without_global_privilege};
const registrar r5{"open-access", open_access};

} // namespace
} // namespace winmmf::child
