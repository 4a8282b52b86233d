// The frame service's pixel arithmetic (examples/frame_service/pixel_formats.hpp) is pure, so it
// is tested here, natively too: strides and plane offsets, the stride decision for a source
// buffer, the copy into a frame, and NV12 / YUY2 to RGB (BT.601).
#include "../../examples/frame_service/pixel_formats.hpp"

#include <catch2/catch_test_macros.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace frame_service;
using winmmf::pixel_format;

TEST_CASE("frame_service pixels: minimum strides and frame sizes", "[frame_service][pixels]")
{
    CHECK(min_stride(pixel_format::nv12, 642) == 642);
    CHECK(min_stride(pixel_format::nv12, 641) == 642); // a UV pair covers two columns
    CHECK(min_stride(pixel_format::yuy2, 642) == 1284);
    CHECK(min_stride(pixel_format::yuy2, 641) == 1284);
    CHECK(min_stride(pixel_format::bgra32, 642) == 2568);
    CHECK(min_stride(pixel_format::rgb24, 5) == 15);
    CHECK(min_stride(pixel_format::unknown, 5) == 0);
    CHECK(chroma_rows(480) == 240);
    CHECK(chroma_rows(481) == 241);
    CHECK(frame_bytes(pixel_format::nv12, 642, 480) == 642u * 720u);
    CHECK(frame_bytes(pixel_format::nv12, 644, 481) == 644u * (481u + 241u));
    CHECK(frame_bytes(pixel_format::yuy2, 1284, 480) == 1284u * 480u);
    CHECK(nv12_uv_offset(642, 480) == 642u * 480u);
}

namespace {
stride_facts facts(pixel_format f, std::uint32_t w, std::uint32_t h, std::uint64_t length, std::int64_t lock2d = 0,
                   std::int64_t attribute = 0)
{
    return {f, w, h, lock2d, attribute, length};
}
} // namespace

TEST_CASE("frame_service pixels: the stride decision prefers Lock2D, then the attribute, then the computed stride",
          "[frame_service][pixels]")
{
    // Lock2D's pitch wins even where the attribute says otherwise.
    auto l = decide_layout(facts(pixel_format::nv12, 642, 480, 704u * 720u, 704, 642));
    REQUIRE(l);
    CHECK(l->origin == stride_origin::lock2d);
    CHECK(l->stride == 704);
    CHECK(l->plane1_offset == 704u * 480u);
    CHECK_FALSE(l->bottom_up);
    // A surface taller than the frame: Lock2D's pitch still holds (packed formats).
    l = decide_layout(facts(pixel_format::bgra32, 100, 30, 448u * 40u, 448));
    REQUIRE(l);
    CHECK(l->origin == stride_origin::lock2d);
    // Negative pitch: bottom-up.
    l = decide_layout(facts(pixel_format::bgra32, 100, 30, 400u * 30u, -400));
    REQUIRE(l);
    CHECK(l->bottom_up);
    CHECK(l->stride == 400);
    // The attribute when there is no 2D buffer and the length agrees.
    l = decide_layout(facts(pixel_format::yuy2, 642, 20, 1312u * 20u, 0, 1312));
    REQUIRE(l);
    CHECK(l->origin == stride_origin::media_type);
    CHECK(l->stride == 1312);
    l = decide_layout(facts(pixel_format::bgra32, 50, 10, 200u * 10u, 0, -200));
    REQUIRE(l);
    CHECK(l->bottom_up);
    // Neither: the computed stride, when the length is exactly the frame.
    l = decide_layout(facts(pixel_format::nv12, 320, 240, 320u * 360u));
    REQUIRE(l);
    CHECK(l->origin == stride_origin::computed);
    CHECK(l->stride == 320);
    CHECK(l->plane1_offset == 320u * 240u);
    // The last row may come without its padding.
    l = decide_layout(facts(pixel_format::yuy2, 642, 20, 1312u * 19u + 1284u, 0, 1312));
    REQUIRE(l);
    CHECK(l->origin == stride_origin::media_type);
}

TEST_CASE("frame_service pixels: a stride that disagrees with the buffer's length is inferred from it",
          "[frame_service][pixels]")
{
    // Wine's decoder: 642 pixels of NV12 in rows 644 bytes apart, and nothing says so.
    auto l = decide_layout(facts(pixel_format::nv12, 642, 480, 644u * 720u));
    REQUIRE(l);
    CHECK(l->origin == stride_origin::inferred);
    CHECK(l->stride == 644);
    CHECK(l->plane1_offset == 644u * 480u);
    // A wrong attribute loses to the length too.
    l = decide_layout(facts(pixel_format::nv12, 642, 480, 644u * 720u, 0, 642));
    REQUIRE(l);
    CHECK(l->origin == stride_origin::inferred);
    CHECK(l->stride == 644);
    // A few bytes of padding per row add up to less than a row in a short frame: still another stride.
    l = decide_layout(facts(pixel_format::yuy2, 642, 20, 1312u * 20u));
    REQUIRE(l);
    CHECK(l->stride == 1312);
    // A padded NV12 height: 1080 rows decoded into 1088, the UV plane after the padding.
    l = decide_layout(facts(pixel_format::nv12, 1920, 1080, 1920u * 1632u));
    REQUIRE(l);
    CHECK(l->stride == 1920);
    CHECK(l->plane1_offset == 1920u * 1088u);
    // ... and padded rows with a padded height (a 64-byte aligned pitch).
    l = decide_layout(facts(pixel_format::nv12, 1000, 1080, 1024u * 1632u));
    REQUIRE(l);
    CHECK(l->stride == 1024);
    CHECK(l->plane1_offset == 1024u * 1088u);
    // Too short for the frame, or no layout at all: no decision.
    CHECK_FALSE(decide_layout(facts(pixel_format::nv12, 642, 480, 642u * 700u)));
    CHECK_FALSE(decide_layout(facts(pixel_format::yuy2, 642, 20, 1284u * 20u + 7u)));
    CHECK_FALSE(decide_layout(facts(pixel_format::bgra32, 100, 30, 399u * 30u, -399))); // under the minimum
    CHECK_FALSE(decide_layout(facts(pixel_format::unknown, 100, 30, 3000)));
    CHECK_FALSE(decide_layout(facts(pixel_format::nv12, 100, 0, 3000)));
}

TEST_CASE("frame_service pixels: copy_frame removes padding, splits NV12 planes and turns bottom-up rows over",
          "[frame_service][pixels]")
{
    // A 6x3 NV12 frame in rows of 8, the UV plane after a padded height of 4.
    const std::uint32_t w = 6, h = 3, pitch = 8, padded = 4;
    std::vector<std::byte> src(std::size_t{pitch} * (padded + padded / 2), std::byte{0xEE});
    for (std::uint32_t y = 0; y < h; ++y) {
        for (std::uint32_t x = 0; x < w; ++x) {
            src[y * pitch + x] = static_cast<std::byte>(10 * y + x);
        }
    }
    for (std::uint32_t y = 0; y < chroma_rows(h); ++y) {
        for (std::uint32_t x = 0; x < w; ++x) {
            src[pitch * padded + y * pitch + x] = static_cast<std::byte>(100 + 10 * y + x);
        }
    }
    const auto l = decide_layout(facts(pixel_format::nv12, w, h, src.size()));
    REQUIRE(l);
    std::vector<std::byte> out(frame_bytes(pixel_format::nv12, w, h));
    REQUIRE(copy_frame(src, *l, pixel_format::nv12, w, h, out, w));
    for (std::uint32_t y = 0; y < h; ++y) {
        for (std::uint32_t x = 0; x < w; ++x) {
            CHECK(out[y * w + x] == static_cast<std::byte>(10 * y + x));
        }
    }
    for (std::uint32_t y = 0; y < chroma_rows(h); ++y) {
        for (std::uint32_t x = 0; x < w; ++x) {
            CHECK(out[w * h + y * w + x] == static_cast<std::byte>(100 + 10 * y + x));
        }
    }

    // Bottom-up BGRA: the first row in memory is the picture's last.
    const std::vector<std::byte> up = {std::byte{1}, std::byte{1}, std::byte{1}, std::byte{1}, std::byte{0},
                                       std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                                       std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                                       std::byte{0}, std::byte{2}, std::byte{2}, std::byte{2}, std::byte{2}};
    // 1x2 pixels, rows 16 bytes apart... the second row holds only its 4 bytes.
    const buffer_layout flipped{16, true, 0, stride_origin::media_type};
    std::vector<std::byte> two(8);
    REQUIRE(copy_frame(up, flipped, pixel_format::bgra32, 1, 2, two, 4));
    CHECK(two[0] == std::byte{2});
    CHECK(two[4] == std::byte{1});

    // Out of bounds on either side: refused, nothing written past the ends.
    std::vector<std::byte> small(out.size() - 1);
    CHECK_FALSE(copy_frame(src, *l, pixel_format::nv12, w, h, small, w));
    CHECK_FALSE(copy_frame(std::span<const std::byte>(src).first(pitch * padded), *l, pixel_format::nv12, w, h, out, w));
    CHECK_FALSE(copy_frame(src, *l, pixel_format::nv12, w, h, out, w - 1));
}

TEST_CASE("frame_service pixels: BT.601 limited range to RGB", "[frame_service][pixels]")
{
    const auto rgb = [](bgra c) { return std::vector<int>{c.r, c.g, c.b}; };
    CHECK(rgb(yuv_to_bgra(16, 128, 128)) == std::vector<int>{0, 0, 0});
    CHECK(rgb(yuv_to_bgra(235, 128, 128)) == std::vector<int>{255, 255, 255});
    CHECK(rgb(yuv_to_bgra(126, 128, 128)) == std::vector<int>{128, 128, 128});
    // The 75% colour bars' red, green and blue (BT.601 limited Y Cb Cr), to full-range RGB.
    const auto near = [](std::vector<int> got, std::vector<int> want) {
        for (std::size_t i = 0; i < 3; ++i) {
            if (got[i] < want[i] - 2 || got[i] > want[i] + 2) {
                return false;
            }
        }
        return true;
    };
    CHECK(near(rgb(yuv_to_bgra(65, 100, 212)), {191, 0, 0}));
    CHECK(near(rgb(yuv_to_bgra(112, 72, 58)), {0, 191, 0}));
    CHECK(near(rgb(yuv_to_bgra(35, 212, 114)), {0, 0, 191}));
    CHECK(rgb(yuv_to_bgra(0, 255, 255)).size() == 3); // clamped, no overflow
    CHECK(yuv_to_bgra(81, 90, 240).a == 255);
}

TEST_CASE("frame_service pixels: NV12, YUY2 and packed frames to BGRA pictures", "[frame_service][pixels]")
{
    // 4x2 NV12 in rows of 6: left half white, right half pure red-ish chroma.
    const std::uint32_t w = 4, h = 2, stride = 6;
    std::vector<std::byte> nv12(frame_bytes(pixel_format::nv12, stride, h), std::byte{0});
    for (std::uint32_t y = 0; y < h; ++y) {
        for (std::uint32_t x = 0; x < w; ++x) {
            nv12[y * stride + x] = std::byte{235};
        }
    }
    const std::size_t uv = nv12_uv_offset(stride, h);
    nv12[uv + 0] = std::byte{128};
    nv12[uv + 1] = std::byte{128};
    nv12[uv + 2] = std::byte{128};
    nv12[uv + 3] = std::byte{255};
    std::vector<std::byte> out(std::size_t{w} * h * 4);
    REQUIRE(to_bgra(pixel_format::nv12, w, h, stride, nv12, out));
    CHECK(out[0] == std::byte{255});           // (0,0) white: B
    CHECK(out[2] == std::byte{255});           // R
    CHECK(out[3] == std::byte{255});           // A
    CHECK(out[(1 * w + 2) * 4 + 2] == std::byte{255}); // (2,1) takes the second pair's V: red stays high
    CHECK(out[(1 * w + 2) * 4 + 1] < std::byte{200});  // ... and green drops

    // YUY2: Y0 U Y1 V; the pair shares its chroma.
    const std::vector<std::byte> yuy2 = {std::byte{16}, std::byte{128}, std::byte{235}, std::byte{128}};
    std::vector<std::byte> two(8);
    REQUIRE(to_bgra(pixel_format::yuy2, 2, 1, 4, yuy2, two));
    CHECK(two[0] == std::byte{0});
    CHECK(two[4] == std::byte{255});
    // An odd width: the last pair's second pixel is not shown.
    std::vector<std::byte> one(4);
    REQUIRE(to_bgra(pixel_format::yuy2, 1, 1, 4, yuy2, one));
    CHECK(one[0] == std::byte{0});

    // Packed formats keep their bytes, reordered.
    const std::vector<std::byte> rgb24 = {std::byte{1}, std::byte{2}, std::byte{3}};
    std::vector<std::byte> px(4);
    REQUIRE(to_bgra(pixel_format::rgb24, 1, 1, 3, rgb24, px));
    CHECK(px == std::vector<std::byte>{std::byte{3}, std::byte{2}, std::byte{1}, std::byte{255}});
    REQUIRE(to_bgra(pixel_format::bgr24, 1, 1, 3, rgb24, px));
    CHECK(px == std::vector<std::byte>{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{255}});
    REQUIRE(to_bgra(pixel_format::gray8, 1, 1, 1, rgb24, px));
    CHECK(px == std::vector<std::byte>{std::byte{1}, std::byte{1}, std::byte{1}, std::byte{255}});

    // Too small on either side, a stride under the minimum, an unknown format: refused.
    CHECK_FALSE(to_bgra(pixel_format::nv12, w, h, stride, std::span<const std::byte>(nv12).first(uv), out));
    CHECK_FALSE(to_bgra(pixel_format::nv12, w, h, stride, nv12, std::span<std::byte>(out).first(out.size() - 1)));
    CHECK_FALSE(to_bgra(pixel_format::nv12, w, h, 3, nv12, out));
    CHECK_FALSE(to_bgra(pixel_format::gray16, 1, 1, 2, rgb24, px));
    CHECK_FALSE(to_bgra(pixel_format::unknown, 1, 1, 3, rgb24, px));
}
