// winmmf/large_pages.hpp - whether a mapping asks for large pages.
//
// Platform-independent. Creating large pages needs SeLockMemoryPrivilege; docs/explanation/security.md.
#pragma once

#include <cstdint>

namespace winmmf {

// Large pages (2 MiB on x64) are never paged out and cost one TLB entry each, which is what
// frame buffers want; creating them needs SeLockMemoryPrivilege.
enum class large_page_mode : std::uint8_t {
    off,       // normal pages
    required,  // large pages, or the creation fails (errc::large_page_privilege_missing, ...)
    preferred, // large pages if the system grants them, else normal pages; the mapping reports
               // which it got (large_pages()) and why it fell back (large_page_fallback())
};

} // namespace winmmf
