// winmmf/detail/marker_policy.hpp - the "lock policy" of layouts that are not WinMMF's.
//
// A frame channel and a notification live in mappings of their own, built on
// basic_memory_mapped_file so that names, sizes, page rounding and security work as for every
// other mapping. Their first word is a marker from lock_word.hpp instead of a lock: WinMMF peers
// read it as "uninitialized" and keep away, compatible_lock refuses it (wrong_lock_policy), and
// this policy refuses everything else (wrong_layout). Locking is the layout's own business,
// so the lock calls do nothing.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/error.hpp>
#include <winmmf/lock.hpp>
#include <winmmf/lock_word.hpp>

#include <atomic>
#include <cstddef>
#include <system_error>

namespace winmmf::detail {

template <lock_word::word_type Marker, std::size_t HeaderSize>
class marker_policy {
public:
    static constexpr std::size_t header_size = HeaderSize;
    static constexpr bool readers_write_header = false;
    static constexpr lock_word::word_type marker = Marker;

    marker_policy() noexcept = default;

    static marker_policy initialize(std::byte* header, std::error_code& ec) noexcept
    {
        marker_policy p(header);
        p.word().store(Marker, std::memory_order_release);
        ec.clear();
        return p;
    }

    // A zero word is accepted: the section exists but its creator has not stored the marker
    // yet (a kernel-fresh section is all zeros). The layout code waits, briefly, for the marker.
    static marker_policy attach(std::byte* header, std::error_code& ec) noexcept
    {
        marker_policy p(header);
        const lock_word::word_type w = p.word().load(std::memory_order_acquire);
        if (w == Marker || w == 0) {
            ec.clear();
        } else {
            ec = errc::wrong_layout;
        }
        return p;
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

    std::byte* header() const noexcept { return header_; }
    lock_word::word_type value() const noexcept { return word().load(std::memory_order_acquire); }

private:
    explicit marker_policy(std::byte* header) noexcept : header_(header) {}

    std::atomic_ref<lock_word::word_type> word() const noexcept
    {
        return std::atomic_ref<lock_word::word_type>(*reinterpret_cast<lock_word::word_type*>(header_));
    }

    std::byte* header_ = nullptr;
};

} // namespace winmmf::detail
