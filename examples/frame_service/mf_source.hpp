// The Media Foundation frame source: a camera (`--source camera:<index|name|symbolic link>`) or a
// video file (`--source file:<path>`), read with a synchronous IMFSourceReader - the same route
// for both: an IMFMediaSource (the device's IMFActivate, or IMFSourceResolver for a file), then
// MFCreateSourceReaderFromMediaSource. (Synchronous on purpose: releasing an asynchronous reader
// with a read pending deadlocks under Wine, and a synchronous read ends within a frame.)
//
// Output: NV12, YUY2 or RGB32 (BGRA). The reader is asked for the format first; where it cannot
// deliver it (RGB32 from YUV under Wine), it delivers NV12 or YUY2 and a converter
// (media_foundation.hpp) makes the rest in the application. Frames are published without row
// padding, whatever the buffers held (copy_sample). Timestamps: the sample times, in 100 ns
// units - the device's presentation clock for a camera, the position in the file for a file
// (plus the length of the earlier passes when it loops).
#pragma once

#include "frame_source.hpp"
#include "media_foundation.hpp"
#include "options.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace frame_service {

struct mf_source_options {
    source_spec spec;                                      // camera or file
    winmmf::pixel_format format = winmmf::pixel_format::nv12;
    std::uint32_t width = 0, height = 0;                   // a camera's preferred size; 0: none
    std::uint32_t fps = 0;                                 // camera: preferred; file: pace; 0: the source's
    bool pace_fast = false;                                // file: as fast as possible
    bool loop = false;                                     // file: start again at the end
};

class mf_source final : public frame_source {
public:
    mf_source(mf_source_options o, std::function<void(const std::string&)> info)
        : o_(std::move(o)), info_(std::move(info))
    {
    }
    ~mf_source() override { close(); }

    std::string description() const override
    {
        std::string d = o_.spec.to_string();
        if (!device_name_.empty()) {
            d += " (" + device_name_ + ")";
        }
        return d;
    }
    std::string kind() const override { return o_.spec.kind == source_kind::camera ? "camera" : "file"; }
    frame_format format() const override { return format_; }
    // The HRESULT and the call behind the last error, for the log.
    std::string detail() const { return detail_; }

    bool open(HANDLE, std::error_code& ec) override
    {
        close();
        ec.clear();
        detail_.clear();
        if (FAILED(runtime_.status())) {
            return fail(ec, source_errc::media_foundation, "MFStartup", runtime_.status());
        }
        mf::com_ptr<IMFMediaSource> source;
        if (o_.spec.kind == source_kind::camera ? !open_camera(source, ec) : !open_file(source, ec)) {
            return false;
        }
        mf::com_ptr<IMFAttributes> attributes;
        HRESULT hr = ::MFCreateAttributes(attributes.put(), 2);
        // On Windows this lets the reader itself convert YUV to RGB32; where it still cannot,
        // the converter does.
        if (SUCCEEDED(hr)) hr = attributes->SetUINT32(MF_SOURCE_READER_ENABLE_VIDEO_PROCESSING, TRUE);
        if (SUCCEEDED(hr)) hr = ::MFCreateSourceReaderFromMediaSource(source.get(), attributes.get(), reader_.put());
        if (FAILED(hr)) {
            return fail_hr(ec, "MFCreateSourceReaderFromMediaSource", hr);
        }
        source_ = source;
        const DWORD video = static_cast<DWORD>(MF_SOURCE_READER_FIRST_VIDEO_STREAM);
        (void)reader_->SetStreamSelection(static_cast<DWORD>(MF_SOURCE_READER_ALL_STREAMS), FALSE);
        hr = reader_->SetStreamSelection(video, TRUE);
        if (FAILED(hr)) {
            return fail(ec, source_errc::unsupported_format, "SetStreamSelection (no video stream)", hr);
        }
        if (o_.spec.kind == source_kind::camera && !choose_camera_format(ec)) {
            return false;
        }
        if (!negotiate(ec)) {
            return false;
        }
        const frame_format f{type_.width, type_.height, min_stride(o_.format, type_.width), o_.format};
        if (opened_once_ && f != format_) {
            close();
            return fail(ec, source_errc::geometry_changed, "reopening", S_OK);
        }
        format_ = f;
        opened_once_ = true;
        info_(description() + ": " + std::to_string(type_.width) + "x" + std::to_string(type_.height) + " " +
              mf::subtype_name(type_.subtype) + " at " + fps_text(type_.fps()) + " fps from the reader" +
              (converter_ ? ", converted to " + std::string(to_string(o_.format)) + " by the " + converter_.name()
                          : std::string()));
        return true;
    }

    void close() noexcept override
    {
        converter_ = {};
        reader_.reset(); // shuts the media source down (it was not created with DISCONNECT_MEDIASOURCE_ON_SHUTDOWN)
        source_.reset();
        if (activate_) {
            (void)activate_->ShutdownObject();
            activate_.reset();
        }
    }

    frame_status next_frame(HANDLE stop, std::span<std::byte> out, std::int64_t& timestamp,
                            std::error_code& ec) override
    {
        ec.clear();
        for (;;) {
            if (::WaitForSingleObject(stop, 0) == WAIT_OBJECT_0) {
                return frame_status::stopped;
            }
            DWORD flags = 0;
            LONGLONG time = 0;
            mf::com_ptr<IMFSample> sample;
            const HRESULT hr = reader_->ReadSample(static_cast<DWORD>(MF_SOURCE_READER_FIRST_VIDEO_STREAM), 0, nullptr,
                                                   &flags, &time, sample.put());
            if (FAILED(hr)) {
                fail_hr(ec, "ReadSample", hr);
                return frame_status::failed;
            }
            if ((flags & MF_SOURCE_READERF_ERROR) != 0) {
                fail(ec, source_errc::media_foundation, "ReadSample (stream error)", hr);
                return frame_status::failed;
            }
            if ((flags & MF_SOURCE_READERF_CURRENTMEDIATYPECHANGED) != 0 && !type_changed(ec)) {
                return frame_status::failed;
            }
            if ((flags & MF_SOURCE_READERF_ENDOFSTREAM) != 0) {
                if (o_.spec.kind == source_kind::file && o_.loop && frames_ != 0) {
                    if (!rewind(ec)) {
                        return frame_status::failed;
                    }
                    continue;
                }
                return frame_status::end_of_stream;
            }
            if (!sample) {
                continue; // a stream tick: a gap in a live stream
            }
            LONGLONG duration = 0;
            (void)sample->GetSampleDuration(&duration);
            if (!deliver(sample.get(), time, duration, out, ec)) {
                if (ec) {
                    return frame_status::failed;
                }
                continue; // the converter wants more input first
            }
            last_time_ = time;
            last_duration_ = duration;
            timestamp = time + loop_offset_;
            ++frames_;
            if (!pace(stop, timestamp)) {
                return frame_status::stopped;
            }
            return frame_status::frame;
        }
    }

private:
    static std::string fps_text(double fps)
    {
        char text[32];
        std::snprintf(text, sizeof text, "%.3g", fps);
        return text;
    }

    bool fail(std::error_code& ec, source_errc e, const std::string& call, HRESULT hr)
    {
        ec = e;
        detail_ = call + (FAILED(hr) ? " failed with " + mf::hresult_text(hr) : std::string());
        return false;
    }

    bool fail_hr(std::error_code& ec, const std::string& call, HRESULT hr)
    {
        const std::uint32_t bits = mf::hresult_bits(hr);
        return fail(ec, o_.spec.kind == source_kind::camera ? classify_device_hresult(bits) : classify_file_hresult(bits),
                    call, hr);
    }

    bool open_camera(mf::com_ptr<IMFMediaSource>& source, std::error_code& ec)
    {
        mf::device_list devices;
        const HRESULT hr = mf::enumerate_cameras(devices);
        if (FAILED(hr)) {
            return fail_hr(ec, "MFEnumDeviceSources", hr);
        }
        const camera_choice choice = choose_camera(o_.spec.target, devices.cameras);
        if (choice.error != source_errc{}) {
            return fail(ec, choice.error,
                        "MFEnumDeviceSources found " + std::to_string(devices.cameras.size()) + " video capture device(s)",
                        S_OK);
        }
        device_name_ = devices.cameras[choice.index].name;
        if (mf::running_under_wine()) {
            return fail(ec, source_errc::skipped_under_wine, "IMFActivate::ActivateObject not called", S_OK);
        }
        activate_ = devices.activates[choice.index];
        const HRESULT activated = activate_->ActivateObject(__uuidof(IMFMediaSource), source.put_void());
        if (FAILED(activated)) {
            activate_.reset();
            return fail_hr(ec, "IMFActivate::ActivateObject", activated);
        }
        return true;
    }

    bool open_file(mf::com_ptr<IMFMediaSource>& source, std::error_code& ec)
    {
        mf::com_ptr<IMFSourceResolver> resolver;
        HRESULT hr = ::MFCreateSourceResolver(resolver.put());
        MF_OBJECT_TYPE type = MF_OBJECT_INVALID;
        mf::com_ptr<IUnknown> object;
        // An absolute path: the resolver takes it as a file: URL.
        std::wstring path = widen(o_.spec.target);
        wchar_t full[MAX_PATH * 4];
        const DWORD n = ::GetFullPathNameW(path.c_str(), static_cast<DWORD>(std::size(full)), full, nullptr);
        if (n > 0 && n < std::size(full)) {
            path.assign(full, n);
        }
        if (::GetFileAttributesW(path.c_str()) == INVALID_FILE_ATTRIBUTES) {
            return fail(ec, source_errc::file_unreadable, "GetFileAttributesW(" + narrow(path) + ")",
                        HRESULT_FROM_WIN32(::GetLastError()));
        }
        if (SUCCEEDED(hr)) {
            hr = resolver->CreateObjectFromURL(path.c_str(), MF_RESOLUTION_MEDIASOURCE | MF_RESOLUTION_READ, nullptr,
                                               &type, object.put());
        }
        if (FAILED(hr)) {
            return fail_hr(ec, "IMFSourceResolver::CreateObjectFromURL", hr);
        }
        source = object.as<IMFMediaSource>();
        if (!source) {
            return fail(ec, source_errc::file_unreadable, "CreateObjectFromURL returned no media source", E_NOINTERFACE);
        }
        return true;
    }

    // A camera: one of its native types, unchanged (what camera code does), by preference.
    bool choose_camera_format(std::error_code& ec)
    {
        const DWORD video = static_cast<DWORD>(MF_SOURCE_READER_FIRST_VIDEO_STREAM);
        std::vector<native_format> formats;
        std::vector<mf::com_ptr<IMFMediaType>> types;
        for (DWORD i = 0;; ++i) {
            mf::com_ptr<IMFMediaType> t;
            if (FAILED(reader_->GetNativeMediaType(video, i, t.put()))) {
                break;
            }
            const mf::video_type v = mf::describe(t.get());
            formats.push_back({v.width, v.height, v.fps(), v.subtype.Data1});
            types.push_back(t);
        }
        const auto chosen = choose_native_format(formats, {o_.width, o_.height, static_cast<double>(o_.fps),
                                                           mf::subtype_of(o_.format).Data1});
        if (!chosen) {
            return fail(ec, source_errc::unsupported_format, "GetNativeMediaType (the device lists no format)", S_OK);
        }
        const HRESULT hr = reader_->SetCurrentMediaType(video, nullptr, types[*chosen].get());
        if (FAILED(hr)) {
            return fail_hr(ec, "SetCurrentMediaType (native)", hr);
        }
        return true;
    }

    HRESULT ask_reader(winmmf::pixel_format f)
    {
        mf::com_ptr<IMFMediaType> t;
        HRESULT hr = mf::make_video_type(mf::subtype_of(f), 0, 0, 0, 0, t);
        if (SUCCEEDED(hr)) {
            hr = reader_->SetCurrentMediaType(static_cast<DWORD>(MF_SOURCE_READER_FIRST_VIDEO_STREAM), nullptr, t.get());
        }
        return hr;
    }

    bool read_type(std::error_code& ec)
    {
        mf::com_ptr<IMFMediaType> current;
        const HRESULT hr = reader_->GetCurrentMediaType(static_cast<DWORD>(MF_SOURCE_READER_FIRST_VIDEO_STREAM),
                                                        current.put());
        if (FAILED(hr)) {
            return fail_hr(ec, "GetCurrentMediaType", hr);
        }
        type_ = mf::describe(current.get());
        if (type_.width == 0 || type_.height == 0 || mf::format_of(type_.subtype) == winmmf::pixel_format::unknown) {
            return fail(ec, source_errc::unsupported_format, "GetCurrentMediaType (no frame size or subtype)", S_OK);
        }
        return true;
    }

    // The output format from the reader, else an intermediate one from the reader and the rest
    // from the converter.
    bool negotiate(std::error_code& ec)
    {
        HRESULT hr = ask_reader(o_.format);
        if (SUCCEEDED(hr)) {
            return read_type(ec);
        }
        const HRESULT direct = hr;
        for (const winmmf::pixel_format via : {winmmf::pixel_format::nv12, winmmf::pixel_format::yuy2,
                                               winmmf::pixel_format::bgra32}) {
            if (via == o_.format || FAILED(ask_reader(via))) {
                continue;
            }
            if (!read_type(ec)) {
                return false;
            }
            hr = converter_.create(via, o_.format, type_.width, type_.height, type_.fps_num, type_.fps_den);
            if (SUCCEEDED(hr)) {
                staging_.resize(static_cast<std::size_t>(frame_bytes(via, min_stride(via, type_.width), type_.height)));
                return true;
            }
        }
        return fail(ec, source_errc::unsupported_format,
                    "SetCurrentMediaType(" + std::string(to_string(o_.format)) + ") failed with " +
                        mf::hresult_text(direct) + ", and no converter could make it",
                    hr);
    }

    bool type_changed(std::error_code& ec)
    {
        const mf::video_type before = converter_ ? converter_.input_type() : type_;
        if (!read_type(ec)) {
            return false;
        }
        if (type_.width != before.width || type_.height != before.height || type_.subtype != before.subtype) {
            return fail(ec, source_errc::geometry_changed, "MF_SOURCE_READERF_CURRENTMEDIATYPECHANGED", S_OK);
        }
        return true;
    }

    // False with `ec` clear: the converter holds the frame back.
    bool deliver(IMFSample* sample, LONGLONG time, LONGLONG duration, std::span<std::byte> out, std::error_code& ec)
    {
        if (!converter_) {
            const mf::copy_result r = mf::copy_sample(sample, type_, out, format_.stride);
            note_layout(r);
            ec = r.ec;
            if (ec) {
                detail_ = "copying a " + std::to_string(type_.width) + "x" + std::to_string(type_.height) + " sample";
            }
            return !ec;
        }
        const mf::copy_result r =
            mf::copy_sample(sample, type_, staging_, min_stride(mf::format_of(type_.subtype), type_.width));
        note_layout(r);
        if ((ec = r.ec)) {
            detail_ = "copying a sample for the converter";
            return false;
        }
        mf::com_ptr<IMFSample> converted;
        const HRESULT hr = converter_.convert(staging_, time, duration, converted);
        if (FAILED(hr)) {
            fail(ec, source_errc::media_foundation, converter_.name() + " ProcessInput/ProcessOutput", hr);
            return false;
        }
        if (hr == S_FALSE) {
            return false;
        }
        const mf::copy_result c = mf::copy_sample(converted.get(), converter_.output_type(), out, format_.stride);
        if ((ec = c.ec)) {
            detail_ = "copying the converter's output";
            return false;
        }
        return true;
    }

    void note_layout(const mf::copy_result& r)
    {
        if (!r.ec && !layout_noted_) {
            layout_noted_ = true;
            info_(description() + ": buffer rows " + std::to_string(r.layout.stride) + " bytes apart (" +
                  std::string(to_string(r.layout.origin)) + ")" +
                  (r.layout.bottom_up ? ", bottom-up" : "") +
                  (r.layout.plane1_offset != 0 ? ", UV plane at byte " + std::to_string(r.layout.plane1_offset) : ""));
        }
    }

    bool rewind(std::error_code& ec)
    {
        PROPVARIANT position;
        ::PropVariantInit(&position);
        position.vt = VT_I8;
        position.hVal.QuadPart = 0;
        const HRESULT hr = reader_->SetCurrentPosition(GUID_NULL, position);
        ::PropVariantClear(&position);
        if (FAILED(hr)) {
            return fail_hr(ec, "SetCurrentPosition(0) to loop", hr);
        }
        // The next pass continues the timeline: the last frame's time plus its duration.
        const LONGLONG step = last_duration_ > 0 ? last_duration_
                                                 : (type_.fps_num != 0 ? 10'000'000LL * type_.fps_den / type_.fps_num : 0);
        loop_offset_ += last_time_ + step;
        return true;
    }

    // A file is shown at its own rate (its timestamps, or --fps), from the first frame on.
    bool pace(HANDLE stop, std::int64_t timestamp)
    {
        using namespace std::chrono;
        if (o_.spec.kind != source_kind::file || o_.pace_fast) {
            return ::WaitForSingleObject(stop, 0) != WAIT_OBJECT_0;
        }
        const auto now = steady_clock::now();
        if (frames_ == 1) {
            start_ = now;
            first_time_ = timestamp;
        }
        const auto offset = o_.fps != 0 ? duration_cast<steady_clock::duration>(duration<double>(
                                              static_cast<double>(frames_ - 1) / o_.fps))
                                        : duration_cast<steady_clock::duration>(duration<std::int64_t, std::ratio<1, 10'000'000>>(
                                              timestamp - first_time_));
        const auto wait = duration_cast<milliseconds>(start_ + offset - now).count();
        return ::WaitForSingleObject(stop, static_cast<DWORD>(wait > 0 ? wait : 0)) != WAIT_OBJECT_0;
    }

    mf_source_options o_;
    std::function<void(const std::string&)> info_;
    mf::runtime runtime_;
    mf::com_ptr<IMFActivate> activate_;
    mf::com_ptr<IMFMediaSource> source_;
    mf::com_ptr<IMFSourceReader> reader_;
    mf::converter converter_;
    std::vector<std::byte> staging_;
    mf::video_type type_;
    frame_format format_;
    bool opened_once_ = false;
    bool layout_noted_ = false;
    std::string device_name_;
    std::string detail_;
    std::uint64_t frames_ = 0;
    LONGLONG last_time_ = 0;
    LONGLONG last_duration_ = 0;
    LONGLONG loop_offset_ = 0;
    std::int64_t first_time_ = 0;
    std::chrono::steady_clock::time_point start_{};
};

} // namespace frame_service
