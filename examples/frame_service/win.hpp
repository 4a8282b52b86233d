// The frame service's own access to Win32: <windows.h> in full (Media Foundation, WIC and GDI
// need more than the lean subset), included before any winmmf header so that theirs is a no-op,
// and the last-error helper. Include it first.
#pragma once

#if !defined(_WIN32)
#error "examples/frame_service/win.hpp is Windows-only"
#endif

#if !defined(NOMINMAX)
#define NOMINMAX
#endif
#include <windows.h>

#include <system_error>

namespace frame_service {

// The calling thread's last Win32 error, unchanged, in the system category.
inline std::error_code last_error() noexcept
{
    return {static_cast<int>(::GetLastError()), std::system_category()};
}

} // namespace frame_service
