// tools/winmmf/raw_section.hpp - the one place where the tool sees a mapping as bytes, header
// included, instead of through the lock policy its layout announces.
//
// Three things need that, and no policy of the library offers them, by design: reading and
// writing without the lock (`read --no-lock`, `write` without --lock: a debugger's peek and poke,
// which must work while a dead writer holds the lock, on a lock word that is corrupt, and on a
// robust header openers refuse), `watch` (which compares the bytes of any layout and shows the
// live lock word), and `unlock --force` on a corrupt WinMMF lock word, which every opener refuses.
//
// It is a lock policy of the tool's own: no header, no lock, and any first word accepted. The
// section is still opened, measured and checked by basic_memory_mapped_file, like any other.
#pragma once

#include <winmmf/lock.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/robust_lock.hpp>

#include "cli.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

namespace winmmf::tool {

class whole_section {
public:
    static constexpr std::size_t header_size = 0;
    static constexpr bool readers_write_header = false;

    whole_section() noexcept = default;

    // The tool never creates through this policy; it is here because the concept asks for it.
    static whole_section initialize(std::byte* base, std::error_code& ec) noexcept
    {
        ec.clear();
        return whole_section(base);
    }
    static whole_section attach(std::byte* base, std::error_code& ec) noexcept
    {
        ec.clear();
        return whole_section(base);
    }
    bool lock_shared(const acquire_mode&, std::error_code& ec) noexcept
    {
        ec.clear();
        return true;
    }
    void unlock_shared(std::error_code& ec) noexcept { ec.clear(); }
    bool lock(const acquire_mode&, std::error_code& ec) noexcept
    {
        ec.clear();
        return true;
    }
    void unlock(std::error_code& ec) noexcept { ec.clear(); }

    // The first word as it is now: the WinMMF lock word, or a winmmf layout's marker.
    std::uint32_t first_word() const noexcept
    {
        return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(base_)).load(std::memory_order_acquire);
    }

    // Clears a WinMMF lock word whatever it holds, a corrupt value included (compatible_lock
    // refuses to attach to one, but its force_unlock is the reset WinMMF documents). Returns the
    // value it replaced. Needs a read-write view.
    std::uint32_t force_unlock(std::error_code& ec) noexcept
    {
        compatible_lock lock = compatible_lock::attach(base_, ec); // ec: corrupt_lock_word, which we repair
        return lock.force_unlock(ec);
    }

private:
    explicit whole_section(std::byte* base) noexcept : base_(base) {}

    std::byte* base_ = nullptr;
};

static_assert(lock_policy<whole_section>);

using raw_view = basic_memory_mapped_file<whole_section>;

// Where the user data of a layout starts in the section; 0 for layouts whose data the tool does
// not read or write (frame channels and notifications have protocols of their own).
constexpr std::size_t data_offset(cli::layout l) noexcept
{
    switch (l) {
    case cli::layout::compatible:
    case cli::layout::corrupt:
        return compatible_lock::header_size;
    case cli::layout::robust:
        return robust_lock::header_size;
    default:
        return 0;
    }
}

} // namespace winmmf::tool
