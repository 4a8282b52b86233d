// Pixel formats as the frame service publishes them, and the pure arithmetic around them: row
// strides, plane offsets, where a Media Foundation buffer keeps its rows (the stride decision),
// the copy into a channel's slot, and NV12 / YUY2 to RGB (BT.601). No Windows dependency: it is
// unit-tested natively too (tests/unit/frame_service_pixel_tests.cpp).
//
// The conventions a reader relies on (docs/how-to/run-the-frame-service.md, "Reading a frame"):
// - meta.stride is the distance between rows in bytes, always at least min_stride(format, width);
//   the service publishes rows without padding (stride == min_stride).
// - NV12: the Y plane's `height` rows, then the interleaved UV plane's (height + 1) / 2 rows, with
//   the same stride, the UV plane starting at stride * height. The payload is frame_bytes().
// - YUY2: Y0 U Y1 V per pair of pixels; an odd width ends with a pair whose second pixel is not
//   shown. BGRA32 (Media Foundation's RGB32): B G R A per pixel. Every format top-down.
#pragma once

#include <winmmf/frame_types.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace frame_service {

constexpr std::uint32_t chroma_rows(std::uint32_t height) noexcept { return height / 2 + (height & 1u); }

// Bytes of the shortest row that holds `width` pixels; 0 for formats the service does not know.
constexpr std::uint32_t min_stride(winmmf::pixel_format f, std::uint32_t width) noexcept
{
    switch (f) {
    case winmmf::pixel_format::nv12:
        return width + (width & 1u); // a UV pair covers two columns
    case winmmf::pixel_format::yuy2:
        return (width / 2 + (width & 1u)) * 4;
    default:
        return width * winmmf::bytes_per_pixel(f);
    }
}

// Rows in a frame of `height` pixels: NV12 adds its UV plane.
constexpr std::uint64_t frame_rows(winmmf::pixel_format f, std::uint32_t height) noexcept
{
    return f == winmmf::pixel_format::nv12 ? std::uint64_t{height} + chroma_rows(height) : height;
}

constexpr std::uint64_t frame_bytes(winmmf::pixel_format f, std::uint64_t stride, std::uint32_t height) noexcept
{
    return stride * frame_rows(f, height);
}

// Where the UV plane of an NV12 frame published by the service starts.
constexpr std::uint64_t nv12_uv_offset(std::uint64_t stride, std::uint32_t height) noexcept
{
    return stride * height;
}

// ---- Where a source buffer keeps its rows -------------------------------------------------

// Which fact the stride came from, in the order they are believed.
enum class stride_origin : std::uint8_t {
    lock2d,     // IMF2DBuffer::Lock2D's pitch: the buffer says so itself
    media_type, // MF_MT_DEFAULT_STRIDE of the current media type
    computed,   // the minimum stride for the width (no padding)
    inferred,   // none of those matched the buffer's length; deduced from it
};

constexpr std::string_view to_string(stride_origin o) noexcept
{
    switch (o) {
    case stride_origin::lock2d:
        return "Lock2D";
    case stride_origin::media_type:
        return "MF_MT_DEFAULT_STRIDE";
    case stride_origin::computed:
        return "computed";
    case stride_origin::inferred:
        return "inferred from the buffer length";
    }
    return "?";
}

// What is known about one buffer of a frame of `width` x `height` in `format`.
struct stride_facts {
    winmmf::pixel_format format = winmmf::pixel_format::unknown;
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::int64_t lock2d_pitch = 0;   // 0: no IMF2DBuffer; negative: bottom-up
    std::int64_t default_stride = 0; // 0: MF_MT_DEFAULT_STRIDE not set; negative: bottom-up
    std::uint64_t buffer_length = 0; // bytes the buffer holds (for Lock2D: from the first row's start)
};

struct buffer_layout {
    std::uint32_t stride = 0;         // bytes between rows (positive)
    bool bottom_up = false;           // the buffer's first row is the picture's last
    std::uint64_t plane1_offset = 0;  // NV12: where the UV plane starts; 0 otherwise
    stride_origin origin = stride_origin::computed;
};

namespace detail {

constexpr std::uint64_t magnitude(std::int64_t v) noexcept
{
    return v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
}

// A buffer agrees with a stride when it holds exactly the frame's rows at that stride, the last
// one possibly without its padding. (Not "at least": padding of a few bytes per row adds up to
// less than one row in a short frame, and a longer buffer means another stride.)
constexpr bool agrees(const stride_facts& f, std::uint64_t stride) noexcept
{
    const std::uint64_t rows = frame_rows(f.format, f.height);
    const std::uint64_t row = min_stride(f.format, f.width);
    return rows != 0 && f.buffer_length <= stride * rows && f.buffer_length >= stride * (rows - 1) + row;
}

// The NV12 plane split of a buffer of `stride`-byte rows: the UV plane follows the Y plane's
// `height` rows, or - when the decoder padded the height - its padded rows, which the buffer
// length gives away (length == stride * (padded + padded / 2)).
constexpr std::optional<std::uint64_t> nv12_plane_offset(const stride_facts& f, std::uint64_t stride) noexcept
{
    if (agrees(f, stride)) {
        return stride * f.height;
    }
    if (stride == 0 || f.buffer_length % stride != 0) {
        return std::nullopt;
    }
    const std::uint64_t rows = f.buffer_length / stride;
    if (rows % 3 != 0) {
        return std::nullopt;
    }
    const std::uint64_t padded = rows / 3 * 2;
    if (padded < f.height || padded - f.height > 64) { // more than 64 rows of padding: not padding
        return std::nullopt;
    }
    return stride * padded;
}

// Lock2D's pitch is the buffer's own word: the length need only hold the frame at that pitch
// (a surface may be taller), except to find a padded NV12 height. Any other stride must agree.
constexpr std::optional<buffer_layout> with_stride(const stride_facts& f, std::uint64_t stride, bool bottom_up,
                                                   stride_origin origin) noexcept
{
    if (stride < min_stride(f.format, f.width) || stride > 0xFFFFFFFFull) {
        return std::nullopt;
    }
    buffer_layout l{static_cast<std::uint32_t>(stride), bottom_up, 0, origin};
    const bool holds = f.buffer_length >= stride * (frame_rows(f.format, f.height) - 1) + min_stride(f.format, f.width);
    if (f.format == winmmf::pixel_format::nv12) {
        auto offset = nv12_plane_offset(f, stride);
        if (!offset && origin == stride_origin::lock2d && holds) {
            offset = stride * f.height;
        }
        if (!offset) {
            return std::nullopt;
        }
        l.plane1_offset = *offset;
    } else if (!(origin == stride_origin::lock2d ? holds : agrees(f, stride))) {
        return std::nullopt;
    }
    return l;
}

} // namespace detail

// The stride decision: Lock2D's pitch when the buffer offers one, else MF_MT_DEFAULT_STRIDE, else
// the computed minimum - each taken only if the buffer's length agrees with it - and when none
// agrees, the stride is inferred from the length (rows padded to 2..256-byte alignments, NV12
// heights padded to 2..32 rows). nullopt: the buffer cannot hold the frame in any layout.
constexpr std::optional<buffer_layout> decide_layout(const stride_facts& f) noexcept
{
    const std::uint32_t min = min_stride(f.format, f.width);
    if (min == 0 || f.height == 0) {
        return std::nullopt;
    }
    if (f.lock2d_pitch != 0) {
        // The buffer's own word; only the NV12 plane split may need the length.
        if (auto l = detail::with_stride(f, detail::magnitude(f.lock2d_pitch), f.lock2d_pitch < 0, stride_origin::lock2d)) {
            return l;
        }
    }
    if (f.default_stride != 0) {
        if (auto l = detail::with_stride(f, detail::magnitude(f.default_stride), f.default_stride < 0,
                                         stride_origin::media_type)) {
            return l;
        }
    }
    if (auto l = detail::with_stride(f, min, false, stride_origin::computed)) {
        return l;
    }
    // Inferred: a stride that makes the length exactly whole rows of the frame...
    const bool bottom_up = f.lock2d_pitch < 0 || (f.lock2d_pitch == 0 && f.default_stride < 0);
    const std::uint64_t rows = frame_rows(f.format, f.height);
    if (f.buffer_length % rows == 0) {
        if (auto l = detail::with_stride(f, f.buffer_length / rows, bottom_up, stride_origin::inferred)) {
            return l;
        }
    }
    // ... or the usual alignments of rows, with (for NV12) the usual padded heights.
    for (std::uint32_t align = 2; align <= 256; align *= 2) {
        const std::uint64_t stride = (std::uint64_t{min} + align - 1) / align * align;
        if (auto l = detail::with_stride(f, stride, bottom_up, stride_origin::inferred)) {
            return l;
        }
    }
    return std::nullopt;
}

// Copies a frame from a source buffer laid out as `l` into `out`, with rows `out_stride` bytes
// apart (NV12: the UV plane at out_stride * height). `src` is the whole buffer; false if either
// side is too small for the frame (nothing is read or written out of bounds).
inline bool copy_frame(std::span<const std::byte> src, const buffer_layout& l, winmmf::pixel_format format,
                       std::uint32_t width, std::uint32_t height, std::span<std::byte> out, std::uint32_t out_stride)
{
    const std::uint32_t row = min_stride(format, width);
    if (row == 0 || out_stride < row || l.stride < row || out.size() < frame_bytes(format, out_stride, height)) {
        return false;
    }
    const auto copy_plane = [&](std::uint64_t src_offset, std::uint64_t dst_offset, std::uint32_t rows) {
        if (rows == 0) {
            return true;
        }
        const std::uint64_t span_bytes = std::uint64_t{l.stride} * (rows - 1) + row;
        if (src_offset > src.size() || src.size() - src_offset < span_bytes) {
            return false;
        }
        for (std::uint32_t y = 0; y < rows; ++y) {
            const std::uint32_t from = l.bottom_up ? rows - 1 - y : y;
            std::memcpy(out.data() + dst_offset + std::uint64_t{y} * out_stride,
                        src.data() + src_offset + std::uint64_t{from} * l.stride, row);
        }
        return true;
    };
    if (!copy_plane(0, 0, height)) {
        return false;
    }
    if (format == winmmf::pixel_format::nv12) {
        return copy_plane(l.plane1_offset, nv12_uv_offset(out_stride, height), chroma_rows(height));
    }
    return true;
}

// ---- To RGB -------------------------------------------------------------------------------

// BT.601, limited range (Y 16..235, Cb/Cr 16..240), the matrix Media Foundation and ffmpeg use
// for standard-definition YUV and for untagged content; 8-bit fixed point, rounded.
struct bgra {
    std::uint8_t b, g, r, a;
};

constexpr std::uint8_t clamp_byte(int v) noexcept { return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v); }

constexpr bgra yuv_to_bgra(std::uint8_t y, std::uint8_t u, std::uint8_t v) noexcept
{
    const int c = 298 * (int{y} - 16);
    const int d = int{u} - 128;
    const int e = int{v} - 128;
    return {clamp_byte((c + 516 * d + 128) >> 8), clamp_byte((c - 100 * d - 208 * e + 128) >> 8),
            clamp_byte((c + 409 * e + 128) >> 8), 255};
}

// The picture of a frame as top-down BGRA (4 bytes per pixel, rows width * 4 apart), which WIC
// and GDI take as they are. Formats: nv12, yuy2, bgra32, rgba32, rgb24, bgr24, gray8. False for
// another format, or when `frame` or `out` is too small.
inline bool to_bgra(winmmf::pixel_format format, std::uint32_t width, std::uint32_t height, std::uint32_t stride,
                    std::span<const std::byte> frame, std::span<std::byte> out)
{
    const std::uint32_t row = min_stride(format, width);
    if (row == 0 || stride < row || out.size() / 4 / (width ? width : 1) < height ||
        frame.size() < frame_bytes(format, stride, height) - (stride - row)) {
        return false;
    }
    const auto* in = reinterpret_cast<const std::uint8_t*>(frame.data());
    auto* px = reinterpret_cast<std::uint8_t*>(out.data());
    const auto put = [&](std::uint32_t x, std::uint32_t y, bgra c) {
        std::uint8_t* p = px + (std::size_t{y} * width + x) * 4;
        p[0] = c.b;
        p[1] = c.g;
        p[2] = c.r;
        p[3] = c.a;
    };
    for (std::uint32_t y = 0; y < height; ++y) {
        const std::uint8_t* line = in + std::size_t{y} * stride;
        for (std::uint32_t x = 0; x < width; ++x) {
            switch (format) {
            case winmmf::pixel_format::nv12: {
                const std::uint8_t* uv = in + nv12_uv_offset(stride, height) + std::size_t{y / 2} * stride + (x & ~1u);
                put(x, y, yuv_to_bgra(line[x], uv[0], uv[1]));
                break;
            }
            case winmmf::pixel_format::yuy2: {
                const std::uint8_t* pair = line + std::size_t{x / 2} * 4;
                put(x, y, yuv_to_bgra(pair[(x & 1u) * 2], pair[1], pair[3]));
                break;
            }
            case winmmf::pixel_format::bgra32:
                put(x, y, {line[x * 4], line[x * 4 + 1], line[x * 4 + 2], 255});
                break;
            case winmmf::pixel_format::rgba32:
                put(x, y, {line[x * 4 + 2], line[x * 4 + 1], line[x * 4], 255});
                break;
            case winmmf::pixel_format::rgb24:
                put(x, y, {line[x * 3 + 2], line[x * 3 + 1], line[x * 3], 255});
                break;
            case winmmf::pixel_format::bgr24:
                put(x, y, {line[x * 3], line[x * 3 + 1], line[x * 3 + 2], 255});
                break;
            case winmmf::pixel_format::gray8:
                put(x, y, {line[x], line[x], line[x], 255});
                break;
            default:
                return false;
            }
        }
    }
    return true;
}

} // namespace frame_service
