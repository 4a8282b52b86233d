// Media Foundation plumbing for the frame sources: COM ownership, the runtime, Wine detection,
// capture device enumeration, the colour converter (Video Processor MFT, else the Color
// Converter DMO), and the copy of a sample's buffer into a frame - Lock2D's pitch, else
// MF_MT_DEFAULT_STRIDE, else the computed stride, checked against the buffer's length
// (decide_layout in pixel_formats.hpp). Link: mfplat mfreadwrite mfuuid mf ole32 uuid.
#pragma once

#include "win.hpp"
#include "com.hpp"
#include "pixel_formats.hpp"
#include "source_errors.hpp"
#include "text.hpp"

#include <mfapi.h>
#include <mferror.h>
#include <mfidl.h>
#include <mfreadwrite.h>
#include <mftransform.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace frame_service::mf {

// Wine exports wine_get_version from its ntdll; Windows does not. Under Wine 8,
// MFCreateDeviceSource (behind a device's IMFActivate) is a stub that aborts the process, so
// device opening is skipped there with source_errc::skipped_under_wine.
inline bool running_under_wine() noexcept
{
    const HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
    return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

// COM (multithreaded apartment) and Media Foundation for the life of the object.
class runtime {
public:
    runtime() noexcept
    {
        const HRESULT com = ::CoInitializeEx(nullptr, COINIT_MULTITHREADED);
        com_ = SUCCEEDED(com);
        hr_ = ::MFStartup(MF_VERSION, MFSTARTUP_FULL);
    }
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;
    ~runtime()
    {
        if (SUCCEEDED(hr_)) {
            ::MFShutdown();
        }
        if (com_) {
            ::CoUninitialize();
        }
    }
    HRESULT status() const noexcept { return hr_; }

private:
    bool com_ = false;
    HRESULT hr_ = E_FAIL;
};

// The subtypes the service publishes, and back.
inline const GUID& subtype_of(winmmf::pixel_format f) noexcept
{
    switch (f) {
    case winmmf::pixel_format::nv12:
        return MFVideoFormat_NV12;
    case winmmf::pixel_format::yuy2:
        return MFVideoFormat_YUY2;
    default:
        return MFVideoFormat_RGB32;
    }
}

inline winmmf::pixel_format format_of(const GUID& subtype) noexcept
{
    if (subtype == MFVideoFormat_NV12) {
        return winmmf::pixel_format::nv12;
    }
    if (subtype == MFVideoFormat_YUY2) {
        return winmmf::pixel_format::yuy2;
    }
    if (subtype == MFVideoFormat_RGB32 || subtype == MFVideoFormat_ARGB32) {
        return winmmf::pixel_format::bgra32;
    }
    return winmmf::pixel_format::unknown;
}

inline std::string subtype_name(const GUID& subtype)
{
    // Video subtypes are FOURCC-based: Data1 holds the code (or a D3DFORMAT number, e.g. 22 for RGB32).
    std::string name;
    for (int i = 0; i < 4; ++i) {
        const char c = static_cast<char>((subtype.Data1 >> (8 * i)) & 0xFF);
        if (c < 0x20 || c > 0x7E) {
            return "D3DFMT " + std::to_string(subtype.Data1);
        }
        name += c;
    }
    return name;
}

// ---- Capture devices --------------------------------------------------------------------

struct device_list {
    std::vector<camera_info> cameras;
    std::vector<com_ptr<IMFActivate>> activates;
};

inline std::string allocated_string(IMFActivate* a, const GUID& key)
{
    wchar_t* text = nullptr;
    UINT32 length = 0;
    if (FAILED(a->GetAllocatedString(key, &text, &length)) || text == nullptr) {
        return {};
    }
    std::string s = narrow(std::wstring(text, length));
    ::CoTaskMemFree(text);
    return s;
}

// Video capture devices in the order MFEnumDeviceSources gives them. Safe under Wine (it
// returns none); only activating one is not.
inline HRESULT enumerate_cameras(device_list& out)
{
    out = {};
    com_ptr<IMFAttributes> attributes;
    HRESULT hr = ::MFCreateAttributes(attributes.put(), 1);
    if (SUCCEEDED(hr)) {
        hr = attributes->SetGUID(MF_DEVSOURCE_ATTRIBUTE_SOURCE_TYPE, MF_DEVSOURCE_ATTRIBUTE_SOURCE_TYPE_VIDCAP_GUID);
    }
    IMFActivate** devices = nullptr;
    UINT32 count = 0;
    if (SUCCEEDED(hr)) {
        hr = ::MFEnumDeviceSources(attributes.get(), &devices, &count);
    }
    if (FAILED(hr)) {
        return hr;
    }
    for (UINT32 i = 0; i < count; ++i) {
        com_ptr<IMFActivate> device(devices[i]); // adopts the reference the array held
        out.cameras.push_back({allocated_string(device.get(), MF_DEVSOURCE_ATTRIBUTE_FRIENDLY_NAME),
                               allocated_string(device.get(), MF_DEVSOURCE_ATTRIBUTE_SOURCE_TYPE_VIDCAP_SYMBOLIC_LINK)});
        out.activates.push_back(std::move(device));
    }
    ::CoTaskMemFree(static_cast<void*>(devices));
    return S_OK;
}

// ---- Media types --------------------------------------------------------------------------

struct video_type {
    GUID subtype{};
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint32_t fps_num = 0;
    std::uint32_t fps_den = 0;
    std::int32_t default_stride = 0; // 0: not set
    double fps() const { return fps_den != 0 ? static_cast<double>(fps_num) / fps_den : 0.0; }
};

inline video_type describe(IMFMediaType* t)
{
    video_type v;
    (void)t->GetGUID(MF_MT_SUBTYPE, &v.subtype);
    UINT32 w = 0, h = 0, num = 0, den = 0, stride = 0;
    if (SUCCEEDED(::MFGetAttributeSize(t, MF_MT_FRAME_SIZE, &w, &h))) {
        v.width = w;
        v.height = h;
    }
    if (SUCCEEDED(::MFGetAttributeRatio(t, MF_MT_FRAME_RATE, &num, &den))) {
        v.fps_num = num;
        v.fps_den = den;
    }
    if (SUCCEEDED(t->GetUINT32(MF_MT_DEFAULT_STRIDE, &stride))) {
        v.default_stride = static_cast<std::int32_t>(stride); // stored as UINT32, meant as INT32
    }
    return v;
}

inline HRESULT make_video_type(const GUID& subtype, std::uint32_t width, std::uint32_t height, std::uint32_t fps_num,
                               std::uint32_t fps_den, com_ptr<IMFMediaType>& out)
{
    HRESULT hr = ::MFCreateMediaType(out.put());
    if (SUCCEEDED(hr)) hr = out->SetGUID(MF_MT_MAJOR_TYPE, MFMediaType_Video);
    if (SUCCEEDED(hr)) hr = out->SetGUID(MF_MT_SUBTYPE, subtype);
    if (SUCCEEDED(hr) && width != 0) {
        hr = ::MFSetAttributeSize(out.get(), MF_MT_FRAME_SIZE, width, height);
        const winmmf::pixel_format f = format_of(subtype);
        if (SUCCEEDED(hr) && f != winmmf::pixel_format::unknown) {
            hr = out->SetUINT32(MF_MT_DEFAULT_STRIDE, min_stride(f, width)); // top-down, no padding
        }
        if (SUCCEEDED(hr)) hr = out->SetUINT32(MF_MT_INTERLACE_MODE, MFVideoInterlace_Progressive);
        if (SUCCEEDED(hr)) hr = ::MFSetAttributeRatio(out.get(), MF_MT_PIXEL_ASPECT_RATIO, 1, 1);
        if (SUCCEEDED(hr)) hr = out->SetUINT32(MF_MT_ALL_SAMPLES_INDEPENDENT, TRUE);
    }
    if (SUCCEEDED(hr) && fps_den != 0) {
        hr = ::MFSetAttributeRatio(out.get(), MF_MT_FRAME_RATE, fps_num, fps_den);
    }
    return hr;
}

// ---- A sample into a frame ----------------------------------------------------------------

struct copy_result {
    std::error_code ec;
    buffer_layout layout{}; // where the rows were found, for the log
};

// Copies the picture of `sample` (a frame of `type`) into `out` with rows `out_stride` apart.
inline copy_result copy_sample(IMFSample* sample, const video_type& type, std::span<std::byte> out,
                               std::uint32_t out_stride)
{
    copy_result r;
    const winmmf::pixel_format format = format_of(type.subtype);
    DWORD count = 0;
    com_ptr<IMFMediaBuffer> buffer;
    HRESULT hr = sample->GetBufferCount(&count);
    if (SUCCEEDED(hr)) {
        hr = count == 1 ? sample->GetBufferByIndex(0, buffer.put()) : sample->ConvertToContiguousBuffer(buffer.put());
    }
    if (FAILED(hr) || !buffer) {
        r.ec = source_errc::media_foundation;
        return r;
    }
    stride_facts facts{format, type.width, type.height, 0, type.default_stride, 0};
    const std::byte* data = nullptr;
    bool locked_2d = false;
    if (const auto b2 = buffer.as<IMF2DBuffer2>()) {
        BYTE* scanline0 = nullptr;
        BYTE* start = nullptr;
        LONG pitch = 0;
        DWORD length = 0;
        if (SUCCEEDED(b2->Lock2DSize(MF2DBuffer_LockFlags_Read, &scanline0, &pitch, &start, &length))) {
            locked_2d = true;
            data = reinterpret_cast<const std::byte*>(start);
            facts.lock2d_pitch = pitch;
            facts.buffer_length = length;
        }
    }
    com_ptr<IMF2DBuffer> b1 = locked_2d ? com_ptr<IMF2DBuffer>() : buffer.as<IMF2DBuffer>();
    if (!locked_2d && b1) {
        BYTE* scanline0 = nullptr;
        LONG pitch = 0;
        if (SUCCEEDED(b1->Lock2D(&scanline0, &pitch))) {
            locked_2d = true;
            // IMF2DBuffer (without Lock2DSize) says nothing of the buffer's extent, and its
            // contiguous length is that of the unpadded frame: the pitch is the buffer's word for
            // the span of rows (the UV plane of NV12 right after the Y plane's rows).
            const std::uint64_t rows = frame_rows(format, type.height);
            const std::uint64_t step = pitch < 0 ? std::uint64_t(-std::int64_t{pitch}) : std::uint64_t(pitch);
            data = reinterpret_cast<const std::byte*>(scanline0) -
                   static_cast<std::ptrdiff_t>(pitch < 0 ? step * (rows - 1) : 0); // the lowest address
            facts.lock2d_pitch = pitch;
            facts.buffer_length = step * rows;
        } else {
            b1.reset();
        }
    }
    if (!locked_2d) {
        BYTE* bytes = nullptr;
        DWORD max_length = 0;
        DWORD length = 0;
        if (FAILED(buffer->Lock(&bytes, &max_length, &length))) {
            r.ec = source_errc::media_foundation;
            return r;
        }
        data = reinterpret_cast<const std::byte*>(bytes);
        facts.buffer_length = length;
    }
    const auto layout = decide_layout(facts);
    if (!layout) {
        r.ec = source_errc::stride_unknown;
    } else {
        r.layout = *layout;
        if (!copy_frame({data, static_cast<std::size_t>(facts.buffer_length)}, *layout, format, type.width, type.height,
                        out, out_stride)) {
            r.ec = source_errc::stride_unknown;
        }
    }
    if (locked_2d) {
        if (const auto b2 = buffer.as<IMF2DBuffer2>(); b2 && !b1) {
            (void)b2->Unlock2D();
        } else if (b1) {
            (void)b1->Unlock2D();
        }
    } else {
        (void)buffer->Unlock();
    }
    return r;
}

// ---- The colour converter -----------------------------------------------------------------

// {88753B26-5B24-49BD-B2E7-0C445C78C982} and {98230571-0087-4204-B020-3282538E57D3}
// (wmcodecdsp.h); spelled out here because not every SDK's import libraries define both.
inline constexpr GUID clsid_video_processor_mft = {0x88753B26, 0x5B24, 0x49BD, {0xB2, 0xE7, 0x0C, 0x44, 0x5C, 0x78, 0xC9, 0x82}};
inline constexpr GUID clsid_color_convert_dmo = {0x98230571, 0x0087, 0x4204, {0xB0, 0x20, 0x32, 0x82, 0x53, 0x8E, 0x57, 0xD3}};

// Converts frames between NV12, YUY2 and RGB32 in the application, for when the source reader
// cannot (under Wine, RGB32 from any YUV source: MF_E_TOPO_CODEC_NOT_FOUND). Input frames are
// given without row padding; output samples are described by output_type().
class converter {
public:
    // Tries the Video Processor MFT, then the Color Converter DMO (as an IMFTransform).
    HRESULT create(winmmf::pixel_format from, winmmf::pixel_format to, std::uint32_t width, std::uint32_t height,
                   std::uint32_t fps_num, std::uint32_t fps_den)
    {
        HRESULT hr = E_FAIL;
        for (const GUID& clsid : {clsid_video_processor_mft, clsid_color_convert_dmo}) {
            transform_.reset();
            hr = ::CoCreateInstance(clsid, nullptr, CLSCTX_INPROC_SERVER, __uuidof(IMFTransform), transform_.put_void());
            com_ptr<IMFMediaType> in, out;
            if (SUCCEEDED(hr)) hr = make_video_type(subtype_of(from), width, height, fps_num, fps_den, in);
            if (SUCCEEDED(hr)) hr = make_video_type(subtype_of(to), width, height, fps_num, fps_den, out);
            if (SUCCEEDED(hr)) hr = transform_->SetInputType(0, in.get(), 0);
            if (SUCCEEDED(hr)) hr = transform_->SetOutputType(0, out.get(), 0);
            MFT_OUTPUT_STREAM_INFO info{};
            if (SUCCEEDED(hr)) hr = transform_->GetOutputStreamInfo(0, &info);
            if (SUCCEEDED(hr)) {
                name_ = clsid == clsid_video_processor_mft ? "Video Processor MFT" : "Color Converter DMO";
                provides_samples_ = (info.dwFlags & (MFT_OUTPUT_STREAM_PROVIDES_SAMPLES |
                                                     MFT_OUTPUT_STREAM_CAN_PROVIDE_SAMPLES)) != 0;
                output_ = describe(out.get());
                const std::uint64_t bytes = frame_bytes(to, min_stride(to, width), height);
                output_size_ = static_cast<DWORD>(info.cbSize > bytes ? info.cbSize : bytes);
                input_ = {subtype_of(from), width, height, fps_num, fps_den,
                          static_cast<std::int32_t>(min_stride(from, width))};
                (void)transform_->ProcessMessage(MFT_MESSAGE_NOTIFY_BEGIN_STREAMING, 0);
                (void)transform_->ProcessMessage(MFT_MESSAGE_NOTIFY_START_OF_STREAM, 0);
                return S_OK;
            }
        }
        transform_.reset();
        return hr;
    }

    explicit operator bool() const noexcept { return static_cast<bool>(transform_); }
    const std::string& name() const noexcept { return name_; }
    const video_type& input_type() const noexcept { return input_; }
    const video_type& output_type() const noexcept { return output_; }

    // One frame in (rows without padding), its conversion out. S_FALSE: no output for it yet.
    HRESULT convert(std::span<const std::byte> frame, LONGLONG time, LONGLONG duration, com_ptr<IMFSample>& result)
    {
        com_ptr<IMFSample> in;
        com_ptr<IMFMediaBuffer> buffer;
        HRESULT hr = ::MFCreateSample(in.put());
        if (SUCCEEDED(hr)) hr = ::MFCreateMemoryBuffer(static_cast<DWORD>(frame.size()), buffer.put());
        BYTE* bytes = nullptr;
        if (SUCCEEDED(hr)) hr = buffer->Lock(&bytes, nullptr, nullptr);
        if (SUCCEEDED(hr)) {
            std::memcpy(bytes, frame.data(), frame.size());
            (void)buffer->Unlock();
            hr = buffer->SetCurrentLength(static_cast<DWORD>(frame.size()));
        }
        if (SUCCEEDED(hr)) hr = in->AddBuffer(buffer.get());
        if (SUCCEEDED(hr)) hr = in->SetSampleTime(time);
        if (SUCCEEDED(hr) && duration > 0) hr = in->SetSampleDuration(duration);
        if (SUCCEEDED(hr)) hr = transform_->ProcessInput(0, in.get(), 0);
        if (FAILED(hr)) {
            return hr;
        }
        MFT_OUTPUT_DATA_BUFFER data{};
        data.dwStreamID = 0;
        if (!provides_samples_) {
            if (!output_sample_) {
                com_ptr<IMFMediaBuffer> out_buffer;
                hr = ::MFCreateSample(output_sample_.put());
                if (SUCCEEDED(hr)) hr = ::MFCreateMemoryBuffer(output_size_, out_buffer.put());
                if (SUCCEEDED(hr)) hr = output_sample_->AddBuffer(out_buffer.get());
                if (FAILED(hr)) {
                    output_sample_.reset();
                    return hr;
                }
            }
            data.pSample = output_sample_.get();
        }
        DWORD status = 0;
        hr = transform_->ProcessOutput(0, 1, &data, &status);
        if (data.pEvents != nullptr) {
            data.pEvents->Release();
        }
        if (hr == MF_E_TRANSFORM_NEED_MORE_INPUT) {
            return S_FALSE;
        }
        if (FAILED(hr)) {
            return hr;
        }
        if (provides_samples_) {
            result = com_ptr<IMFSample>(data.pSample); // ours now
        } else {
            result = output_sample_;
        }
        return S_OK;
    }

private:
    com_ptr<IMFTransform> transform_;
    std::string name_;
    bool provides_samples_ = false;
    DWORD output_size_ = 0;
    video_type input_;
    video_type output_;
    com_ptr<IMFSample> output_sample_;
};

} // namespace frame_service::mf
