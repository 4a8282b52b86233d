// The copy of a Media Foundation sample into a frame (examples/frame_service/media_foundation.hpp,
// copy_sample) with buffers this test builds: MFCreate2DMediaBuffer's padded pitches (Lock2D,
// top-down and bottom-up), plain memory buffers with MF_MT_DEFAULT_STRIDE, without it, with a
// wrong one, and NV12 with a padded height. Under Wine, the source reader's own buffers never
// offer IMF2DBuffer nor the attribute: these are the paths it cannot show.
#include "media_support.hpp"

#include "../../examples/frame_service/media_foundation.hpp"

#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <vector>

using namespace winmmf;
using frame_service::buffer_layout;
using frame_service::stride_origin;
using frame_service::mf::com_ptr;
using winmmf::pixel_format;

namespace {

struct fixture {
    frame_service::mf::runtime runtime;
    fixture() { REQUIRE(SUCCEEDED(runtime.status())); }
};

// The byte at column x of row y of a plane: distinct per row and column, never the padding's 0xEE.
std::byte pattern(std::uint32_t plane, std::uint32_t y, std::uint32_t x)
{
    return static_cast<std::byte>((y * 7 + x * 13 + plane * 101) % 239);
}

// The frame as the service publishes it: rows without padding, the UV plane right after Y.
std::vector<std::byte> expected_frame(pixel_format f, std::uint32_t width, std::uint32_t height)
{
    const std::uint32_t row = frame_service::min_stride(f, width);
    std::vector<std::byte> out(static_cast<std::size_t>(frame_service::frame_bytes(f, row, height)));
    for (std::uint32_t y = 0; y < frame_service::frame_rows(f, height); ++y) {
        const std::uint32_t plane = y < height ? 0 : 1;
        for (std::uint32_t x = 0; x < row; ++x) {
            out[std::size_t{y} * row + x] = pattern(plane, plane == 0 ? y : y - height, x);
        }
    }
    return out;
}

// Writes the pattern into a buffer whose rows are `pitch` apart (negative: bottom-up, `base`
// is then the lowest address and holds the last row), the UV plane at `plane1`, padding 0xEE.
void fill(std::byte* base, std::size_t length, pixel_format f, std::uint32_t width, std::uint32_t height,
          std::int64_t pitch, std::size_t plane1)
{
    std::fill(base, base + length, std::byte{0xEE});
    const std::uint32_t row = frame_service::min_stride(f, width);
    const std::size_t step = static_cast<std::size_t>(pitch < 0 ? -pitch : pitch);
    const auto plane_rows = [&](std::uint32_t plane, std::size_t at, std::uint32_t rows) {
        for (std::uint32_t y = 0; y < rows; ++y) {
            const std::size_t r = pitch < 0 ? rows - 1 - y : y;
            for (std::uint32_t x = 0; x < row; ++x) {
                base[at + r * step + x] = pattern(plane, y, x);
            }
        }
    };
    plane_rows(0, 0, height);
    if (f == pixel_format::nv12) {
        plane_rows(1, plane1, frame_service::chroma_rows(height));
    }
}

frame_service::mf::video_type type_of(pixel_format f, std::uint32_t width, std::uint32_t height,
                                      std::int32_t default_stride = 0)
{
    frame_service::mf::video_type t;
    t.subtype = frame_service::mf::subtype_of(f);
    t.width = width;
    t.height = height;
    t.default_stride = default_stride;
    return t;
}

com_ptr<IMFSample> sample_of(const com_ptr<IMFMediaBuffer>& buffer)
{
    com_ptr<IMFSample> sample;
    REQUIRE(SUCCEEDED(::MFCreateSample(sample.put())));
    REQUIRE(SUCCEEDED(sample->AddBuffer(buffer.get())));
    return sample;
}

// A 2D buffer from Media Foundation itself, filled through Lock2DSize; returns its pitch.
com_ptr<IMFSample> two_d_sample(pixel_format f, std::uint32_t width, std::uint32_t height, bool bottom_up,
                                LONG& pitch_out)
{
    com_ptr<IMFMediaBuffer> buffer;
    const DWORD fourcc = f == pixel_format::nv12   ? MAKEFOURCC('N', 'V', '1', '2')
                         : f == pixel_format::yuy2 ? MAKEFOURCC('Y', 'U', 'Y', '2')
                                                   : 22; // D3DFMT_X8R8G8B8, MFVideoFormat_RGB32's Data1
    REQUIRE(SUCCEEDED(::MFCreate2DMediaBuffer(width, height, fourcc, bottom_up ? TRUE : FALSE, buffer.put())));
    const auto b2 = buffer.as<IMF2DBuffer2>();
    REQUIRE(b2);
    BYTE* scanline0 = nullptr;
    BYTE* start = nullptr;
    LONG pitch = 0;
    DWORD length = 0;
    REQUIRE(SUCCEEDED(b2->Lock2DSize(MF2DBuffer_LockFlags_Write, &scanline0, &pitch, &start, &length)));
    const std::size_t magnitude = static_cast<std::size_t>(pitch < 0 ? -pitch : pitch);
    fill(reinterpret_cast<std::byte*>(start), length, f, width, height, pitch, magnitude * height);
    REQUIRE(SUCCEEDED(b2->Unlock2D()));
    pitch_out = pitch;
    return sample_of(buffer);
}

// A plain memory buffer with rows `pitch` apart and the UV plane at pitch * padded_height.
com_ptr<IMFSample> memory_sample(pixel_format f, std::uint32_t width, std::uint32_t height, std::uint32_t pitch,
                                 std::uint32_t padded_height)
{
    const auto rows = static_cast<std::size_t>(frame_service::frame_rows(f, padded_height));
    const std::size_t length = rows * pitch;
    com_ptr<IMFMediaBuffer> buffer;
    REQUIRE(SUCCEEDED(::MFCreateMemoryBuffer(static_cast<DWORD>(length), buffer.put())));
    BYTE* bytes = nullptr;
    REQUIRE(SUCCEEDED(buffer->Lock(&bytes, nullptr, nullptr)));
    fill(reinterpret_cast<std::byte*>(bytes), length, f, width, height, pitch, std::size_t{pitch} * padded_height);
    REQUIRE(SUCCEEDED(buffer->Unlock()));
    REQUIRE(SUCCEEDED(buffer->SetCurrentLength(static_cast<DWORD>(length))));
    return sample_of(buffer);
}

buffer_layout copy_and_check(const com_ptr<IMFSample>& sample, const frame_service::mf::video_type& type)
{
    const pixel_format f = frame_service::mf::format_of(type.subtype);
    const std::vector<std::byte> expected = expected_frame(f, type.width, type.height);
    std::vector<std::byte> out(expected.size(), std::byte{0x55});
    const frame_service::mf::copy_result r =
        frame_service::mf::copy_sample(sample.get(), type, out, frame_service::min_stride(f, type.width));
    INFO("copy_sample: " << r.ec.message());
    REQUIRE_FALSE(r.ec);
    CHECK(out == expected);
    return r.layout;
}

} // namespace

TEST_CASE("media: MFCreate2DMediaBuffer's padded pitch is taken from Lock2D", "[media][stride]")
{
    const fixture mf;
    for (const pixel_format f : {pixel_format::nv12, pixel_format::yuy2, pixel_format::bgra32}) {
        for (const std::uint32_t width : {642u, 320u, 97u}) {
            CAPTURE(static_cast<int>(f), width);
            LONG pitch = 0;
            const auto sample = two_d_sample(f, width, 48, false, pitch);
            const buffer_layout l = copy_and_check(sample, type_of(f, width, 48));
            CHECK(l.origin == stride_origin::lock2d);
            CHECK(l.stride == static_cast<std::uint32_t>(pitch));
            CHECK_FALSE(l.bottom_up);
            if (width == 642) {
                WARN("MFCreate2DMediaBuffer(642 wide, format " << static_cast<int>(f) << "): pitch " << pitch
                                                              << " for rows of " << frame_service::min_stride(f, width));
            }
        }
    }
}

TEST_CASE("media: a bottom-up RGB32 2D buffer (negative pitch) is published top-down", "[media][stride]")
{
    const fixture mf;
    LONG pitch = 0;
    const auto sample = two_d_sample(pixel_format::bgra32, 100, 30, true, pitch);
    CHECK(pitch < 0);
    const buffer_layout l = copy_and_check(sample, type_of(pixel_format::bgra32, 100, 30));
    CHECK(l.origin == stride_origin::lock2d);
    CHECK(l.bottom_up);
}

TEST_CASE("media: plain buffers: MF_MT_DEFAULT_STRIDE when it agrees with the length, else inferred",
          "[media][stride]")
{
    const fixture mf;
    // Rows 704 bytes apart for 642 pixels of NV12, said by the media type.
    auto sample = memory_sample(pixel_format::nv12, 642, 480, 704, 480);
    CHECK(copy_and_check(sample, type_of(pixel_format::nv12, 642, 480, 704)).origin == stride_origin::media_type);
    // The same buffer and no attribute (what Wine's reader does): inferred from the length.
    buffer_layout l = copy_and_check(sample, type_of(pixel_format::nv12, 642, 480));
    CHECK(l.origin == stride_origin::inferred);
    CHECK(l.stride == 704);
    // A wrong attribute (the rows are really 644 apart, as Wine's decoder lays out 642 pixels).
    sample = memory_sample(pixel_format::nv12, 642, 480, 644, 480);
    l = copy_and_check(sample, type_of(pixel_format::nv12, 642, 480, 642));
    CHECK(l.origin == stride_origin::inferred);
    CHECK(l.stride == 644);
    // Packed YUY2 with 32-byte aligned rows, and RGB32 bottom-up by the attribute's sign.
    sample = memory_sample(pixel_format::yuy2, 642, 20, 1312, 20);
    CHECK(copy_and_check(sample, type_of(pixel_format::yuy2, 642, 20)).stride == 1312);
    sample = memory_sample(pixel_format::bgra32, 50, 10, 200, 10);
    CHECK(copy_and_check(sample, type_of(pixel_format::bgra32, 50, 10, 200)).origin == stride_origin::media_type);
}

TEST_CASE("media: an NV12 buffer with a padded height: the UV plane found after the padding", "[media][stride]")
{
    const fixture mf;
    // 1920x1080 decoded into 1088 rows (16-row macroblocks): the UV plane starts at row 1088.
    const auto sample = memory_sample(pixel_format::nv12, 1920, 1080, 1920, 1088);
    const buffer_layout l = copy_and_check(sample, type_of(pixel_format::nv12, 1920, 1080));
    CHECK(l.stride == 1920);
    CHECK(l.plane1_offset == std::uint64_t{1920} * 1088);
}

namespace {

// A buffer that offers IMF2DBuffer but not IMF2DBuffer2 (as before Windows 8, and as a driver's
// own buffers may), whose contiguous length is the unpadded frame's, as IMF2DBuffer documents:
// only Lock2D's pitch tells where the rows are.
class legacy_2d_buffer final : public IMFMediaBuffer, public IMF2DBuffer {
public:
    legacy_2d_buffer(std::size_t length, std::int64_t pitch, std::size_t rows, DWORD contiguous)
        : bytes_(length), pitch_(pitch), rows_(rows), contiguous_(contiguous)
    {
    }
    std::byte* base() { return bytes_.data(); }

    STDMETHODIMP QueryInterface(REFIID iid, void** out) override
    {
        if (out == nullptr) {
            return E_POINTER;
        }
        if (iid == __uuidof(IUnknown) || iid == __uuidof(IMFMediaBuffer)) {
            *out = static_cast<IMFMediaBuffer*>(this);
        } else if (iid == __uuidof(IMF2DBuffer)) {
            *out = static_cast<IMF2DBuffer*>(this);
        } else {
            *out = nullptr;
            return E_NOINTERFACE;
        }
        AddRef();
        return S_OK;
    }
    STDMETHODIMP_(ULONG) AddRef() override { return ++references_; }
    STDMETHODIMP_(ULONG) Release() override
    {
        const ULONG left = --references_;
        if (left == 0) {
            delete this;
        }
        return left;
    }
    // IMFMediaBuffer: the bytes as they are (what a plain Lock of such a buffer gives).
    STDMETHODIMP Lock(BYTE** data, DWORD* max_length, DWORD* current_length) override
    {
        *data = reinterpret_cast<BYTE*>(bytes_.data());
        if (max_length != nullptr) *max_length = static_cast<DWORD>(bytes_.size());
        if (current_length != nullptr) *current_length = static_cast<DWORD>(bytes_.size());
        return S_OK;
    }
    STDMETHODIMP Unlock() override { return S_OK; }
    STDMETHODIMP GetCurrentLength(DWORD* length) override
    {
        *length = static_cast<DWORD>(bytes_.size());
        return S_OK;
    }
    STDMETHODIMP SetCurrentLength(DWORD) override { return S_OK; }
    STDMETHODIMP GetMaxLength(DWORD* length) override { return GetCurrentLength(length); }
    // IMF2DBuffer: scan line 0 and the pitch (negative: bottom-up, scan line 0 is the highest row).
    STDMETHODIMP Lock2D(BYTE** scanline0, LONG* pitch) override { return GetScanline0AndPitch(scanline0, pitch); }
    STDMETHODIMP Unlock2D() override { return S_OK; }
    STDMETHODIMP GetScanline0AndPitch(BYTE** scanline0, LONG* pitch) override
    {
        const std::size_t step = static_cast<std::size_t>(pitch_ < 0 ? -pitch_ : pitch_);
        *scanline0 = reinterpret_cast<BYTE*>(bytes_.data() + (pitch_ < 0 ? step * (rows_ - 1) : 0));
        *pitch = static_cast<LONG>(pitch_);
        return S_OK;
    }
    STDMETHODIMP IsContiguousFormat(BOOL* contiguous) override
    {
        *contiguous = FALSE;
        return S_OK;
    }
    STDMETHODIMP GetContiguousLength(DWORD* length) override
    {
        *length = contiguous_;
        return S_OK;
    }
    STDMETHODIMP ContiguousCopyTo(BYTE*, DWORD) override { return E_NOTIMPL; }
    STDMETHODIMP ContiguousCopyFrom(const BYTE*, DWORD) override { return E_NOTIMPL; }

private:
    ~legacy_2d_buffer() = default;
    std::vector<std::byte> bytes_;
    std::int64_t pitch_;
    std::size_t rows_;
    DWORD contiguous_;
    ULONG references_ = 1;
};

com_ptr<IMFSample> legacy_sample(pixel_format f, std::uint32_t width, std::uint32_t height, std::int64_t pitch)
{
    const auto rows = static_cast<std::size_t>(frame_service::frame_rows(f, height));
    const std::size_t step = static_cast<std::size_t>(pitch < 0 ? -pitch : pitch);
    const auto contiguous = static_cast<DWORD>(frame_service::frame_bytes(f, frame_service::min_stride(f, width), height));
    com_ptr<IMFMediaBuffer> buffer(new legacy_2d_buffer(rows * step, pitch, rows, contiguous)); // adopts its reference
    fill(static_cast<legacy_2d_buffer*>(buffer.get())->base(), rows * step, f, width, height, pitch, step * height);
    CHECK_FALSE(buffer.as<IMF2DBuffer2>());
    return sample_of(buffer);
}

} // namespace

TEST_CASE("media: a buffer with IMF2DBuffer only: Lock2D's pitch, not its unpadded contiguous length", "[media][stride]")
{
    const fixture mf;
    for (const pixel_format f : {pixel_format::nv12, pixel_format::yuy2, pixel_format::bgra32}) {
        CAPTURE(static_cast<int>(f));
        const std::uint32_t row = frame_service::min_stride(f, 642);
        const std::int64_t pitch = (row + 63) / 64 * 64;
        buffer_layout l = copy_and_check(legacy_sample(f, 642, 48, pitch), type_of(f, 642, 48));
        CHECK(l.origin == stride_origin::lock2d);
        CHECK(l.stride == pitch);
        CHECK_FALSE(l.bottom_up);
        if (f == pixel_format::bgra32) { // and bottom-up
            l = copy_and_check(legacy_sample(f, 642, 48, -pitch), type_of(f, 642, 48));
            CHECK(l.origin == stride_origin::lock2d);
            CHECK(l.bottom_up);
        }
    }
}
