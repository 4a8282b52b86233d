// winmmf/protocol/page.hpp - how a requested size becomes a section size, with overflow checks.
// Win32 shell: winmmf/detail/section.hpp
//
// Platform-independent arithmetic; the page size itself comes from GetSystemInfo (see
// detail/win32.hpp). Every step that can overflow reports errc::size_overflow instead.
#pragma once

#include <winmmf/error.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

namespace winmmf::protocol {

constexpr bool is_power_of_two(std::uint64_t value) noexcept
{
    return value != 0 && (value & (value - 1)) == 0;
}

// Smallest multiple of `alignment` (a power of two) not below `value`; nullopt on overflow.
constexpr std::optional<std::uint64_t> round_up(std::uint64_t value, std::uint64_t alignment) noexcept
{
    if (!is_power_of_two(alignment)) {
        return std::nullopt;
    }
    const std::uint64_t mask = alignment - 1;
    if (value > std::numeric_limits<std::uint64_t>::max() - mask) {
        return std::nullopt;
    }
    return (value + mask) & ~mask;
}

// Where things sit in one mapping:
//
//   0               header_size                        header_size + capacity
//   +---------------+----------------------------------+
//   | policy header | user data                         |   == section_size
//   +---------------+----------------------------------+
//
// The header lives inside the page rounding: a 100-byte request with a 4-byte header still
// takes one page, and the caller may use all 4092 bytes after the header.
struct mapping_layout {
    std::uint64_t section_size = 0; // what CreateFileMapping is asked for (and mapped); a page
                                    // multiple that fits the address space (so a size_t)
    std::size_t size = 0;           // what the caller asked for
    std::size_t capacity = 0;       // what the caller may use: section_size - header_size
};

// Fills `out` for a new mapping of `requested` usable bytes behind a `header_size` header;
// returns errc{} or the reason it cannot be done. `address_space_limit` is the largest view
// this process can map (SIZE_MAX, smaller on 32-bit); it is a parameter so the 32-bit rules
// can be tested on a 64-bit host.
constexpr errc compute_layout(std::uint64_t requested, std::uint64_t header_size,
                              std::uint64_t page_size, mapping_layout& out,
                              std::uint64_t address_space_limit =
                                  std::numeric_limits<std::size_t>::max()) noexcept
{
    out = {};
    if (requested == 0) {
        return errc::zero_size;
    }
    if (requested > std::numeric_limits<std::uint64_t>::max() - header_size) {
        return errc::size_overflow;
    }
    const std::optional<std::uint64_t> section = round_up(requested + header_size, page_size);
    if (!section || *section > address_space_limit ||
        *section > std::numeric_limits<std::size_t>::max()) {
        return errc::size_overflow;
    }
    out.section_size = *section;
    out.size = static_cast<std::size_t>(requested);
    out.capacity = static_cast<std::size_t>(*section - header_size);
    return errc{};
}

// Fills `out` for an existing mapping whose view turned out to be `view_size` bytes long.
// `expected` is the caller's idea of the usable size; 0 means "whatever is there".
constexpr errc existing_layout(std::size_t view_size, std::size_t header_size,
                               std::size_t expected, mapping_layout& out) noexcept
{
    out = {};
    if (view_size <= header_size) {
        return errc::not_winmmf_mapping;
    }
    if (expected > view_size - header_size) {
        return errc::too_large;
    }
    out.section_size = view_size;
    out.capacity = view_size - header_size;
    out.size = expected != 0 ? expected : out.capacity;
    return errc{};
}

// Checks that [offset, offset + length) lies inside `capacity` without overflowing.
constexpr bool in_bounds(std::size_t offset, std::size_t length, std::size_t capacity) noexcept
{
    return offset <= capacity && length <= capacity - offset;
}

} // namespace winmmf::protocol
