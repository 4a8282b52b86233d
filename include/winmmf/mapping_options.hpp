// winmmf/mapping_options.hpp - what a mapping's create, open and open_or_create take.
//
// Also the access mode every named object is opened with.
#pragma once

#include <winmmf/detail/win32.hpp>
#include <winmmf/large_pages.hpp>

#include <cstddef>
#include <cstdint>

namespace winmmf {

enum class access_mode : std::uint8_t {
    read_write,
    read_only, // the section is opened and mapped with FILE_MAP_READ only
};

struct open_options {
    access_mode access = access_mode::read_write;
    // The usable size the caller relies on. 0 takes whatever the existing mapping has (its
    // size is read from the kernel); a larger value than the mapping has fails with
    // errc::too_large.
    std::size_t expected_size = 0;
    // Whether to map with FILE_MAP_LARGE_PAGES, which Windows 10 1703 and later need to give an
    // opener a large-page view of a section created with large pages (without it the view
    // works, with small pages). `required` fails if MapViewOfFile refuses the flag; `preferred`
    // maps normally then.
    large_page_mode large_pages = large_page_mode::off;
};

struct create_options {
    // Passed to CreateFileMappingW unchanged; null gives the creator's default descriptor.
    // security_descriptor (security.hpp) builds one from SDDL or a preset.
    SECURITY_ATTRIBUTES* security_attributes = nullptr;
    // Large pages: the size is rounded to GetLargePageMinimum(), SeLockMemoryPrivilege is
    // switched on if the account holds it, and the section is created with SEC_LARGE_PAGES
    // and mapped with FILE_MAP_LARGE_PAGES. See large_page_mode.
    large_page_mode large_pages = large_page_mode::off;
};

} // namespace winmmf
