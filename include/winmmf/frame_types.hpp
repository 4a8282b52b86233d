// winmmf/frame_types.hpp - what a frame is: its pixel format and size, the metadata a writer
// publishes with it, and what a reader learns when it takes one.
//
// Platform-independent: fixed-width types that travel between processes inside the channel.
#pragma once

#include <cstddef>
#include <cstdint>

namespace winmmf {

// How the payload's pixels are laid out. Fixed 32-bit values (they travel between processes);
// anything else can be described with `user_tag`.
enum class pixel_format : std::uint32_t {
    unknown = 0,
    rgb24 = 1,  // 3 bytes per pixel: R, G, B
    bgr24 = 2,  // 3 bytes per pixel: B, G, R (Windows DIB order)
    rgba32 = 3, // 4 bytes per pixel
    bgra32 = 4, // 4 bytes per pixel (Media Foundation's RGB32, ARGB32)
    gray8 = 5,  // 1 byte per pixel
    gray16 = 6, // 2 bytes per pixel, little-endian
    nv12 = 7,   // 8-bit Y plane, then interleaved UV at half resolution (12 bits per pixel)
    yuy2 = 8,   // packed 4:2:2, 2 bytes per pixel
};

// Bytes per pixel of a packed format; 0 for planar or unknown formats.
constexpr std::uint32_t bytes_per_pixel(pixel_format f) noexcept
{
    switch (f) {
    case pixel_format::gray8:
        return 1;
    case pixel_format::gray16:
    case pixel_format::yuy2:
        return 2;
    case pixel_format::rgb24:
    case pixel_format::bgr24:
        return 3;
    case pixel_format::rgba32:
    case pixel_format::bgra32:
        return 4;
    case pixel_format::unknown:
    case pixel_format::nv12:
        break;
    }
    return 0;
}

// What the writer says about a frame. It travels with the frame, in the same sequence lock,
// so a reader never gets one frame's pixels with another frame's metadata.
struct frame_meta {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint32_t stride = 0; // bytes from one row to the next
    pixel_format format = pixel_format::unknown;
    std::int64_t timestamp = 0; // the producer's capture time, in any unit; not interpreted
    std::uint64_t user_tag = 0; // free for the application (a camera id, a checksum, ...)
};

// What a reader learns about the frame it took.
struct frame_info {
    std::uint64_t sequence = 0;  // 1 for the first frame ever published, then 2, 3, ...
    std::uint64_t skipped = 0;   // frames published since this reader's previous frame, not seen
    std::size_t size = 0;        // payload bytes
    std::int64_t publish_time = 0; // frame_clock nanoseconds when the writer published it
    frame_meta meta;
};

// Where the channel's writer is.
enum class writer_status : std::uint8_t {
    active, // a live process holds the writer role
    closed, // the writer closed the channel (end of stream), or none ever claimed it
    gone,   // the process holding the writer role died without closing
};

// Bytes of one frame of a packed pixel format with no row padding (stride = width * bpp).
// 0 if the format is planar or unknown (compute those sizes yourself).
constexpr std::size_t frame_size(std::uint32_t width, std::uint32_t height, pixel_format format) noexcept
{
    return std::size_t{width} * height * bytes_per_pixel(format);
}

} // namespace winmmf
