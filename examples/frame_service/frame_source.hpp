// Where frames come from. The service publishes whatever a frame_source gives it; a source
// paces itself (a camera delivers at its own rate; the synthetic source waits for its next
// due time), and every wait ends early when the stop event is signalled.
#pragma once

#include <winmmf/detail/win32.hpp>
#include <winmmf/protocol/frame.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

namespace frame_service {

struct frame_format {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint32_t stride = 0; // bytes per row
    winmmf::pixel_format format = winmmf::pixel_format::unknown;
    std::size_t frame_size() const { return std::size_t{stride} * height; }
};

class frame_source {
public:
    virtual ~frame_source() = default;
    virtual std::string description() const = 0;
    virtual frame_format format() const = 0;
    // Waits for the next frame and writes it to `out` (format().frame_size() bytes). Returns
    // false when `stop` was signalled first, or with `ec` set when the source failed.
    virtual bool next_frame(HANDLE stop, std::span<std::byte> out, std::error_code& ec) = 0;
};

} // namespace frame_service
