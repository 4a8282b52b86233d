// Shared by the media tests: where the clips are (tests/media/make-clips.sh makes them in
// <build>/media at test time), reading ffmpeg's reference decodes, PSNR, and reading an image
// back with WIC.
#pragma once

// The example's headers first: they include <windows.h> in full, as Media Foundation needs.
#include "../../examples/frame_service/win.hpp"
#include "../../examples/frame_service/com.hpp"
#include "../../examples/frame_service/pixel_formats.hpp"

#include <wincodec.h>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace media {

inline std::wstring directory() { return winmmf::test::executable_dir() + L"..\\media\\"; }

inline std::string path(const std::string& name) { return winmmf::test::narrow(directory()) + name; }

inline bool have_clips()
{
    return ::GetFileAttributesW((directory() + L"manifest.txt").c_str()) != INVALID_FILE_ATTRIBUTES;
}

#define MEDIA_REQUIRE_CLIPS()                                                                                        \
    do {                                                                                                             \
        if (!media::have_clips()) {                                                                                  \
            SKIP("no test clips in <build>/media: the test \"media: make the test clips with ffmpeg\" makes them "    \
                 "(tests/media/make-clips.sh; it needs ffmpeg)");                                                    \
        }                                                                                                            \
    } while (false)

inline std::vector<std::byte> read_all(const std::string& name)
{
    std::ifstream in(std::filesystem::path(media::directory() + winmmf::test::widen(name)), std::ios::binary);
    REQUIRE(in);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(bytes.size());
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}

// Frames of a reference decode: `frame_bytes` each, one after another.
class reference {
public:
    reference(const std::string& name, std::size_t frame_bytes) : bytes_(read_all(name)), frame_(frame_bytes)
    {
        REQUIRE(frame_ != 0);
        REQUIRE(bytes_.size() % frame_ == 0);
    }
    std::size_t frames() const { return bytes_.size() / frame_; }
    std::span<const std::byte> frame(std::size_t i) const
    {
        REQUIRE(i < frames());
        return {bytes_.data() + i * frame_, frame_};
    }

private:
    std::vector<std::byte> bytes_;
    std::size_t frame_;
};

// PSNR in dB over the bytes of `a` and `b` (equal sizes); with `skip_every4th`, the fourth byte
// of every pixel (BGRA's alpha) is left out. Infinity when they are equal.
inline double psnr(std::span<const std::byte> a, std::span<const std::byte> b, bool skip_every4th = false)
{
    REQUIRE(a.size() == b.size());
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (skip_every4th && i % 4 == 3) {
            continue;
        }
        const double d = static_cast<double>(std::to_integer<int>(a[i])) - static_cast<double>(std::to_integer<int>(b[i]));
        sum += d * d;
        ++n;
    }
    if (sum == 0) {
        return std::numeric_limits<double>::infinity();
    }
    const double mse = sum / static_cast<double>(n);
    return 10.0 * std::log10(255.0 * 255.0 / mse);
}

// An image file read back with WIC as top-down BGR24, rows width * 3 apart.
struct bgr_image {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::vector<std::byte> bgr;
};

inline bgr_image read_image(const std::string& file)
{
    const HRESULT com = ::CoInitializeEx(nullptr, COINIT_MULTITHREADED);
    bgr_image image;
    {
        using frame_service::mf::com_ptr;
        com_ptr<IWICImagingFactory> factory;
        com_ptr<IWICBitmapDecoder> decoder;
        com_ptr<IWICBitmapFrameDecode> frame;
        com_ptr<IWICFormatConverter> converter;
        HRESULT hr = ::CoCreateInstance(CLSID_WICImagingFactory, nullptr, CLSCTX_INPROC_SERVER,
                                        __uuidof(IWICImagingFactory), factory.put_void());
        if (SUCCEEDED(hr)) {
            hr = factory->CreateDecoderFromFilename(winmmf::test::widen(file).c_str(), nullptr, GENERIC_READ,
                                                    WICDecodeMetadataCacheOnDemand, decoder.put());
        }
        if (SUCCEEDED(hr)) hr = decoder->GetFrame(0, frame.put());
        if (SUCCEEDED(hr)) hr = factory->CreateFormatConverter(converter.put());
        if (SUCCEEDED(hr)) {
            hr = converter->Initialize(frame.get(), GUID_WICPixelFormat24bppBGR, WICBitmapDitherTypeNone, nullptr, 0,
                                       WICBitmapPaletteTypeCustom);
        }
        UINT w = 0, h = 0;
        if (SUCCEEDED(hr)) hr = converter->GetSize(&w, &h);
        if (SUCCEEDED(hr)) {
            image.width = w;
            image.height = h;
            image.bgr.resize(std::size_t{w} * h * 3);
            hr = converter->CopyPixels(nullptr, w * 3, static_cast<UINT>(image.bgr.size()),
                                       reinterpret_cast<BYTE*>(image.bgr.data()));
        }
        INFO("reading " << file << " with WIC: " << frame_service::mf::hresult_text(hr));
        CHECK(SUCCEEDED(hr));
    }
    if (SUCCEEDED(com)) {
        ::CoUninitialize();
    }
    return image;
}

// BGRA (any alpha) to BGR24.
inline std::vector<std::byte> bgr_of(std::span<const std::byte> bgra)
{
    std::vector<std::byte> out(bgra.size() / 4 * 3);
    for (std::size_t i = 0; i < bgra.size() / 4; ++i) {
        std::memcpy(&out[i * 3], &bgra[i * 4], 3);
    }
    return out;
}

} // namespace media
