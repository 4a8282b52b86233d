// Security descriptors, privileges, sessions and large pages (docs/explanation/security.md).
// Everything here is about this process's own objects, so it runs alone.
#include <winmmf/winmmf.hpp>

#include <cstdio>
#include <span>

int main()
try {
    using namespace winmmf;
    SECURITY_ATTRIBUTES* my_raw_security_attributes = nullptr;   // yours, if you build one by hand
    // [snippet:descriptors]
    const auto only_me = security_descriptor::from_preset(security_preset::current_user_only);
    const auto sandbox = security_descriptor::from_preset(security_preset::service_writes_users_read, integrity_label::low);
    const auto for_system = security_descriptor::from_preset_for(security_preset::service_writes_users_read, local_system_sid);
    const auto custom_sd = security_descriptor::from_sddl("D:P(A;;GA;;;SY)(A;;GR;;;IU)");    // or L"..."
    const create_options raw{.security_attributes = my_raw_security_attributes};             // yours, unchanged
    // [end:descriptors]
    std::error_code ec;
    // [snippet:sddl-error]
    const auto bad = security_descriptor::from_sddl("D:P(A;;XX;;;SY)", ec);   // the converter's Win32 error
    // [end:sddl-error]
    if (!ec || bad || !only_me || !sandbox || !for_system || !custom_sd || raw.security_attributes != nullptr) {
        return 1;
    }

    // [snippet:privileges]
    const privilege_state global_state = query_privilege(create_global_privilege_name);   // unknown / absent / disabled / enabled
    const bool may_create_global = has_create_global_privilege();                   // SeCreateGlobalPrivilege, enabled
    std::error_code lock_ec;
    enable_lock_memory_privilege(lock_ec);       // SeLockMemoryPrivilege, if held: else large_page_privilege_missing
    // [end:privileges]
    std::printf("SeCreateGlobalPrivilege: state %d, enabled %d; SeLockMemoryPrivilege: %s\n",
                static_cast<int>(global_state), may_create_global ? 1 : 0, lock_ec ? lock_ec.message().c_str() : "enabled");

    // [snippet:sessions]
    const std::uint32_t here = current_session_id();
    auto mine = memory_mapped_file::create(local("session-example"), 100);
    auto same = memory_mapped_file::open(session(here, "session-example"));   // Session\<n>\x is this session's Local\x
    // [end:sessions]
    mine.write(0, std::as_bytes(std::span("abc")));
    char seen[4] = {};
    same.read(0, std::as_writable_bytes(std::span(seen)));
    if (seen[0] != 'a') {
        return 1;
    }

    const std::size_t size = 8 * 1024 * 1024;
    // [snippet:large-pages]
    auto frames = memory_mapped_file::create(local("frames-large"), size,
                                             {.large_pages = large_page_mode::preferred});
    frames.large_pages();          // true if the view is backed by large pages
    frames.large_page_fallback();  // why not, when `preferred` fell back
    // [end:large-pages]
    std::printf("large pages: %s\n", frames.large_pages() ? "yes" : frames.large_page_fallback().message().c_str());
    return 0;
} catch (const std::system_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
