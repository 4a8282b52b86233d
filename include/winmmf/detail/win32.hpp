// winmmf/detail/win32.hpp - the only place that includes <windows.h>, and the RAII owners for
// what the library gets from it (kernel handles and mapped views).
#pragma once

#if !defined(_WIN32)
#error "winmmf/detail/win32.hpp is Windows-only; the platform-independent headers are winmmf/protocol/*.hpp and error.hpp, acquire.hpp, frame_types.hpp, large_pages.hpp, privilege_state.hpp"
#endif

// Keep <windows.h> from defining min/max and from dragging in winsock.h (which would clash
// with a later <winsock2.h> in the user's code), without leaking these macros to the user.
// Lean holds for the whole translation unit (<windows.h> is included once): define
// WINMMF_NO_WIN32_LEAN_AND_MEAN, or include <windows.h> first, for the full header.
#if !defined(NOMINMAX)
#define NOMINMAX
#define WINMMF_DEFINED_NOMINMAX
#endif
#if !defined(WIN32_LEAN_AND_MEAN) && !defined(WINMMF_NO_WIN32_LEAN_AND_MEAN)
#define WIN32_LEAN_AND_MEAN
#define WINMMF_DEFINED_WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#if defined(WINMMF_DEFINED_NOMINMAX)
#undef NOMINMAX
#undef WINMMF_DEFINED_NOMINMAX
#endif
#if defined(WINMMF_DEFINED_WIN32_LEAN_AND_MEAN)
#undef WIN32_LEAN_AND_MEAN
#undef WINMMF_DEFINED_WIN32_LEAN_AND_MEAN
#endif

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <utility>

namespace winmmf::detail {

// The calling thread's last Win32 error, unchanged, in the system category.
inline std::error_code last_error() noexcept
{
    return {static_cast<int>(::GetLastError()), std::system_category()};
}

inline std::error_code win32_error(DWORD code) noexcept
{
    return {static_cast<int>(code), std::system_category()};
}

// Owns a kernel object handle. Null is the empty state; INVALID_HANDLE_VALUE is never stored
// because no call this library makes returns it for failure.
class unique_handle {
public:
    unique_handle() noexcept = default;
    explicit unique_handle(HANDLE h) noexcept : handle_(h) {}
    unique_handle(unique_handle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    unique_handle& operator=(unique_handle&& other) noexcept
    {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    unique_handle(const unique_handle&) = delete;
    unique_handle& operator=(const unique_handle&) = delete;
    ~unique_handle() { reset(); }

    HANDLE get() const noexcept { return handle_; }
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    HANDLE release() noexcept { return std::exchange(handle_, nullptr); }

    // Returns false (GetLastError set) only if CloseHandle failed; the handle is gone either way.
    bool reset() noexcept
    {
        const HANDLE h = std::exchange(handle_, nullptr);
        return h == nullptr || ::CloseHandle(h) != FALSE;
    }

private:
    HANDLE handle_ = nullptr;
};

// Owns a view from MapViewOfFile.
class unique_view {
public:
    unique_view() noexcept = default;
    explicit unique_view(void* base) noexcept : base_(base) {}
    unique_view(unique_view&& other) noexcept : base_(std::exchange(other.base_, nullptr)) {}
    unique_view& operator=(unique_view&& other) noexcept
    {
        if (this != &other) {
            reset();
            base_ = std::exchange(other.base_, nullptr);
        }
        return *this;
    }
    unique_view(const unique_view&) = delete;
    unique_view& operator=(const unique_view&) = delete;
    ~unique_view() { reset(); }

    std::byte* get() const noexcept { return static_cast<std::byte*>(base_); }
    explicit operator bool() const noexcept { return base_ != nullptr; }

    bool reset() noexcept
    {
        void* const base = std::exchange(base_, nullptr);
        return base == nullptr || ::UnmapViewOfFile(base) != FALSE;
    }

private:
    void* base_ = nullptr;
};

// QueryPerformanceCounter and its frequency: never fail on XP and later.
inline std::int64_t performance_counter() noexcept
{
    LARGE_INTEGER c{};
    ::QueryPerformanceCounter(&c);
    return static_cast<std::int64_t>(c.QuadPart);
}
inline std::int64_t performance_frequency() noexcept
{
    LARGE_INTEGER f{};
    ::QueryPerformanceFrequency(&f);
    return static_cast<std::int64_t>(f.QuadPart);
}

// Gives up the rest of the time slice for at least `milliseconds`.
inline void sleep_milliseconds(unsigned long milliseconds) noexcept { ::Sleep(milliseconds); }

struct memory_info {
    std::size_t page_size;
    std::size_t allocation_granularity;
};

// GetSystemInfo never fails and the values cannot change while the process runs.
inline const memory_info& system_memory_info() noexcept
{
    static const memory_info info = [] {
        SYSTEM_INFO si{};
        ::GetSystemInfo(&si);
        return memory_info{si.dwPageSize, si.dwAllocationGranularity};
    }();
    return info;
}

// The length of the view at `base`: the kernel rounds views to whole pages, and a view
// mapped with length 0 covers the whole section, so this is the section's usable size.
inline std::size_t view_size(const void* base, std::error_code& ec) noexcept
{
    MEMORY_BASIC_INFORMATION info{};
    if (::VirtualQuery(base, &info, sizeof info) == 0) {
        ec = last_error();
        return 0;
    }
    ec.clear();
    return info.RegionSize;
}

} // namespace winmmf::detail
