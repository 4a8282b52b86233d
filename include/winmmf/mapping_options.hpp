// winmmf/mapping_options.hpp - what a mapping's create, open and open_or_create take.
//
// Also the access mode every named object is opened with.
#pragma once

#include <winmmf/acquire.hpp>
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
    // Refuse, before any kernel call, a name that a Rust WinMMF peer could not share
    // (check_winmmf_name, name.hpp): errc::winmmf_name_not_ascii or errc::winmmf_name_too_long.
    bool winmmf_name_check = false;
    // Reader-first start-up: how long open() waits for a mapping that does not exist yet (or
    // whose creator has not finished): try_once() (the default) fails at once with
    // errc::not_found; wait_for(5s) looks again every 10 ms until it is there, then fails with
    // the last answer (not_found when it never came). A cancel_token in the mode ends the wait
    // with errc::cancelled. Errors that waiting cannot change (access denied, another layout)
    // are returned at once.
    acquire_mode wait = acquire_mode::try_once();
    // Also open the mapping's change notification, "<name>.notify" (notification::name_for),
    // which its creator made with create_options::change_notification: then wait_for_change()
    // works, and this object's write() and released write guards signal it. Opening fails if
    // the notification cannot be opened read-write (waiting announces the waiter in it).
    bool change_notification = false;
};

struct create_options {
    // Passed to CreateFileMappingW unchanged; null gives the creator's default descriptor.
    // security_descriptor (security.hpp) builds one from SDDL or a preset.
    SECURITY_ATTRIBUTES* security_attributes = nullptr;
    // Large pages: the size is rounded to GetLargePageMinimum(), SeLockMemoryPrivilege is
    // switched on if the account holds it, and the section is created with SEC_LARGE_PAGES
    // and mapped with FILE_MAP_LARGE_PAGES. See large_page_mode.
    large_page_mode large_pages = large_page_mode::off;
    // As open_options::winmmf_name_check, for create and open_or_create.
    bool winmmf_name_check = false;
    // Also create (open_or_create: open or create) the mapping's change notification,
    // "<name>.notify", with the same security attributes: write() and every released write
    // guard of this object signal it, and wait_for_change() waits for it in any process that
    // opened the mapping with open_options::change_notification.
    bool change_notification = false;
};

} // namespace winmmf
