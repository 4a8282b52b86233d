// The frame service's Media Foundation file source end to end under Wine: `frame_service run
// --source file:<clip>` publishes into a channel; this process (a reader in another process
// than the service) takes every frame and compares it with ffmpeg's decode of the frame with the
// same index - exactly where Media Foundation and ffmpeg agree (NV12 from H.264, YUY2 from raw
// YUY2), within a PSNR bound where they convert differently - and checks the frame count, the
// timestamps and the end of the stream, while frame_viewer follows the same channel and checks
// every frame's checksum. Then --snapshot images, the installed service, and the camera decisions
// under Wine. The clips are made at test time (tests/media/make-clips.sh).
#include "media_support.hpp"

#include "../../examples/frame_service/media_foundation.hpp"
#include "../../examples/frame_service/mf_source.hpp"
#include "../../examples/frame_service/scm.hpp"
#include "../../examples/frame_service/synthetic.hpp"

#include <winmmf/frame_channel.hpp>
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;

namespace {

std::wstring example(const wchar_t* program) { return test::executable_dir() + L"..\\examples\\" + program; }

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

struct finished {
    long code = -1;
    std::string out;
    std::string err;
};

finished run_to_end(test::captured_process p, std::chrono::milliseconds timeout = test::child_timeout)
{
    const std::optional<DWORD> code = p.wait(timeout);
    finished f{code ? static_cast<long>(*code) : -1, p.out(), p.err()};
    UNSCOPED_INFO("stdout: " << f.out);
    UNSCOPED_INFO("stderr: " << f.err);
    return f;
}

std::string unique_basename(const std::string& tag)
{
    return tag + std::to_string(::GetCurrentProcessId()) + "_" + test::unique_name("m").substr(12);
}

// A directory for one test's index file and images, removed with what it holds. Declared before
// the processes that write into it, so that they are gone first.
class scratch_dir {
public:
    scratch_dir()
    {
        std::wstring t = test::temp_file("mdir");
        t.resize(t.size() - 4);
        REQUIRE(::CreateDirectoryW(t.c_str(), nullptr));
        path_ = test::narrow(t);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(std::filesystem::path(test::widen(path_)), ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

constexpr std::int64_t frame_period = 333333; // 100 ns units at 30 fps

struct clip_case {
    std::string clip;          // in <build>/media
    std::string format;        // --format
    std::string reference;     // ffmpeg's decode, in <build>/media
    pixel_format pixels;       // what the channel carries
    std::uint32_t width, height;
    bool exact;                // byte for byte; else PSNR >= min_psnr
    double min_psnr;
    std::string stride_note = {}; // what the service must say about the buffers' rows
    std::string nv12_reference = {}; // bgra32: ffmpeg's NV12 of the clip, for a second opinion
};

struct run_result {
    std::uint64_t received = 0;
    std::uint64_t last_sequence = 0;
    std::uint64_t exact_frames = 0;
    double min_psnr = std::numeric_limits<double>::infinity();
    double min_psnr_601 = std::numeric_limits<double>::infinity(); // against to_bgra of ffmpeg's NV12
    int bias[3] = {0, 0, 0}; // mean B, G, R difference of the last frame, against ffmpeg's RGB
    bool end_of_stream = false;
};

// Publishes one clip and takes every frame of it.
run_result publish_and_compare(const clip_case& c)
{
    MEDIA_REQUIRE_CLIPS();
    const std::string basename = unique_basename("mf");
    const scratch_dir dir;
    const std::string index = dir.path() + "\\" + basename + ".txt";
    const auto frame_bytes = static_cast<std::size_t>(
        frame_service::frame_bytes(c.pixels, frame_service::min_stride(c.pixels, c.width), c.height));
    const media::reference ref(c.reference, frame_bytes);
    REQUIRE(ref.frames() == 60);

    // frame_viewer (a third process) follows the channel too and checks every frame's checksum.
    auto viewer = test::captured_process::start(example(L"frame_viewer.exe"), {"--index", index, "--wait", "120"});
    auto service = test::captured_process::start(
        example(L"frame_service.exe"), {"run", "--namespace", "local", "--basename", basename, "--index-dir", dir.path(),
                                        "--source", "file:" + media::path(c.clip), "--format", c.format});
    // Opened once the index lists it, as a client finds it.
    frame_reader reader;
    REQUIRE(test::eventually([&] {
        if (::GetFileAttributesW(test::widen(index).c_str()) == INVALID_FILE_ATTRIBUTES) {
            return !service.running();
        }
        std::error_code ec;
        reader = frame_reader::open(local(basename + "_0"), {.access = access_mode::read_only}, ec);
        return !ec || !service.running();
    }, 120s));
    REQUIRE(reader.is_open());
    std::optional<media::reference> nv12;
    if (!c.nv12_reference.empty()) {
        nv12.emplace(c.nv12_reference,
                     static_cast<std::size_t>(frame_service::frame_bytes(pixel_format::nv12, c.width, c.height)));
    }
    REQUIRE(reader.max_frame_size() >= frame_bytes);

    // Every frame is taken and kept first, compared afterwards: the reader keeps up with the
    // service's 30 fps even on a loaded machine.
    struct taken {
        frame_info info;
        std::vector<std::byte> bytes;
    };
    std::vector<taken> frames;
    frames.reserve(ref.frames());
    run_result r;
    for (;;) {
        std::error_code ec;
        taken t{{}, std::vector<std::byte>(reader.max_frame_size())};
        t.info = reader.take(t.bytes, acquire_mode::wait_for(60s), ec);
        if (ec == errc::end_of_stream) {
            r.end_of_stream = true;
            break;
        }
        INFO("take: " << ec.message());
        REQUIRE_FALSE(ec);
        REQUIRE(t.info.size <= t.bytes.size());
        t.bytes.resize(t.info.size);
        frames.push_back(std::move(t));
    }

    std::optional<std::int64_t> start;          // timestamp - index * period: the clip's first time
    std::optional<std::int64_t> last_timestamp; // strictly increasing
    for (const taken& t : frames) {
        const frame_info& info = t.info;
        ++r.received;
        REQUIRE(info.sequence > r.last_sequence);
        r.last_sequence = info.sequence;
        const std::size_t i = static_cast<std::size_t>(info.sequence - 1); // a fresh channel: sequence n is frame n-1
        CAPTURE(c.clip, c.format, i, info.meta.timestamp);
        REQUIRE(i < ref.frames());
        CHECK(info.size == frame_bytes);
        CHECK(info.meta.width == c.width);
        CHECK(info.meta.height == c.height);
        CHECK(info.meta.stride == frame_service::min_stride(c.pixels, c.width));
        CHECK(info.meta.format == c.pixels);
        const std::span<const std::byte> got(t.bytes);
        CHECK(info.meta.user_tag == frame_service::checksum(got));
        // Timestamps: the sample times in 100 ns, 333333 apart at 30 fps (whole milliseconds in
        // MKV, so within 1 ms of that), from the clip's first.
        const std::int64_t offset = info.meta.timestamp - static_cast<std::int64_t>(i) * frame_period;
        if (!start) {
            start = offset;
            CHECK(std::llabs(offset) <= 10000); // the clip's first frame is at time 0
        }
        CHECK(std::llabs(offset - *start) <= 10001);
        if (last_timestamp) {
            CHECK(info.meta.timestamp > *last_timestamp);
        }
        last_timestamp = info.meta.timestamp;
        const bool same = std::equal(got.begin(), got.end(), ref.frame(i).begin());
        if (same) {
            ++r.exact_frames;
        }
        if (c.exact) {
            CHECK(same);
        } else {
            const double p = media::psnr(got, ref.frame(i), c.pixels == pixel_format::bgra32);
            r.min_psnr = std::min(r.min_psnr, p);
            CHECK(p >= c.min_psnr);
            if (nv12) {
                std::vector<std::byte> ours(got.size());
                REQUIRE(frame_service::to_bgra(pixel_format::nv12, c.width, c.height, c.width, nv12->frame(i), ours));
                r.min_psnr_601 = std::min(r.min_psnr_601, media::psnr(got, ours, true));
                long long sums[3] = {0, 0, 0};
                const std::span<const std::byte> theirs = ref.frame(i);
                for (std::size_t b = 0; b < got.size(); ++b) {
                    if (b % 4 != 3) {
                        sums[b % 4] += std::to_integer<int>(got[b]) - std::to_integer<int>(theirs[b]);
                    }
                }
                for (int k = 0; k < 3; ++k) {
                    r.bias[k] = static_cast<int>(sums[k] / static_cast<long long>(got.size() / 4));
                }
            }
        }
    }
    const finished ran = run_to_end(std::move(service));
    CHECK(ran.code == 0);
    CHECK(contains(ran.out, "end of stream after 60 frame(s)"));
    if (!c.stride_note.empty()) {
        CHECK(contains(ran.out, c.stride_note));
    }
    const finished viewed = run_to_end(std::move(viewer));
    CHECK(viewed.code == 0);
    CHECK(contains(viewed.out, " 0 checksum failures"));
    CHECK(contains(viewed.out, "end of stream"));

    CHECK(r.end_of_stream);
    CHECK(r.last_sequence == 60); // every frame of the clip was published, then the end
    // The channel keeps the latest frame only (a slow reader skips, by design): paced at the
    // clip's 30 fps, this reader takes every frame, but a frame missed on a loaded machine is one
    // not compared rather than a failure, so this asks for most of them. The count is reported.
    CHECK(r.received >= 40);
    WARN(c.clip << " as " << c.format << ": " << r.received << " of 60 frames taken and compared, " << r.exact_frames
                << " exact" << (c.exact ? "" : ", min PSNR " + std::to_string(r.min_psnr) + " dB")
                << "; first timestamp " << start.value_or(-1)
                << (nv12 ? "; min PSNR " + std::to_string(r.min_psnr_601) + " dB against BT.601 of ffmpeg's NV12, mean B/G/R bias " +
                               std::to_string(r.bias[0]) + "/" + std::to_string(r.bias[1]) + "/" + std::to_string(r.bias[2])
                         : std::string()));
    return r;
}

} // namespace

TEST_CASE("media: NV12 from H.264 in MP4 matches ffmpeg exactly, frame by frame", "[media]")
{
    publish_and_compare({"h264_320x240.mp4", "nv12", "h264_320x240.mp4.nv12", pixel_format::nv12, 320, 240, true, 0,
                         "buffer rows 320 bytes apart (computed)"});
}

TEST_CASE("media: NV12 from H.264 with B-frames in MKV matches ffmpeg exactly", "[media]")
{
    publish_and_compare({"h264b_320x240.mkv", "nv12", "h264b_320x240.mkv.nv12", pixel_format::nv12, 320, 240, true, 0});
}

TEST_CASE("media: a 642-pixel-wide clip: rows 644 bytes apart, inferred from the buffer length, published tight",
          "[media][stride]")
{
    publish_and_compare({"h264_642x480.mp4", "nv12", "h264_642x480.mp4.nv12", pixel_format::nv12, 642, 480, true, 0,
                         "buffer rows 644 bytes apart (inferred from the buffer length), UV plane at byte 309120"});
}

TEST_CASE("media: YUY2 from raw YUY2 in AVI matches ffmpeg exactly", "[media]")
{
    publish_and_compare({"yuy2_320x240.avi", "yuy2", "yuy2_320x240.avi.yuy2", pixel_format::yuy2, 320, 240, true, 0,
                         "buffer rows 640 bytes apart (computed)"});
}

// Wine's converter (GStreamer's videoconvert behind the Video Processor MFT) upsamples the
// chroma otherwise than ffmpeg: at testsrc's sharp colour edges that costs ~28.7 dB, with no bias
// (same matrix, same range); a wrong matrix, range or row layout would be far below 25 dB.
TEST_CASE("media: RGB32 from H.264 through the application's converter, within a PSNR bound of ffmpeg's", "[media]")
{
    publish_and_compare({"h264_320x240.mp4", "rgb32", "h264_320x240.mp4.bgra", pixel_format::bgra32, 320, 240, false, 25,
                         "", "h264_320x240.mp4.nv12"});
}

TEST_CASE("media: YUY2 from H.264 (4:2:0 to 4:2:2 by the reader), within a PSNR bound of ffmpeg's", "[media]")
{
    publish_and_compare({"h264_320x240.mp4", "yuy2", "h264_320x240.mp4.yuy2", pixel_format::yuy2, 320, 240, false, 35});
}

TEST_CASE("media: --loop yes starts the file again with timestamps continuing; --pace fast does not wait",
          "[media][loop]")
{
    MEDIA_REQUIRE_CLIPS();
    const std::string basename = unique_basename("loop");
    const scratch_dir dir;
    const std::string index = dir.path() + "\\" + basename + ".txt";
    const auto frame_bytes = static_cast<std::size_t>(frame_service::frame_bytes(pixel_format::nv12, 320, 240));
    const media::reference ref(std::string("h264_320x240.mp4.nv12"), frame_bytes);
    auto service = test::captured_process::start(
        example(L"frame_service.exe"), {"run", "--namespace", "local", "--basename", basename, "--index-dir", dir.path(),
                                        "--source", "file:" + media::path("h264_320x240.mp4"), "--loop", "yes",
                                        "--pace", "fast", "--duration", "30"});
    frame_reader reader;
    REQUIRE(test::eventually([&] {
        if (::GetFileAttributesW(test::widen(index).c_str()) == INVALID_FILE_ATTRIBUTES) {
            return !service.running();
        }
        std::error_code ec;
        reader = frame_reader::open(local(basename + "_0"), {.access = access_mode::read_only}, ec);
        return !ec || !service.running();
    }, 120s));
    REQUIRE(reader.is_open());
    // As fast as it decodes, the reader sees some of the frames: each is compared by its
    // sequence number (frame (n - 1) mod 60 of pass (n - 1) / 60), until the fourth pass (from
    // sequence 181: more than 6 s, paced at 30 fps; the time is reported, not asserted).
    std::vector<std::byte> frame(reader.max_frame_size());
    std::uint64_t compared = 0;
    std::uint64_t pass = 0;
    const auto began = std::chrono::steady_clock::now();
    while (pass < 3) {
        std::error_code ec;
        const frame_info info = reader.take(frame, acquire_mode::wait_for(60s), ec);
        INFO("take: " << ec.message());
        REQUIRE_FALSE(ec);
        const std::size_t i = static_cast<std::size_t>((info.sequence - 1) % 60);
        pass = (info.sequence - 1) / 60;
        CAPTURE(info.sequence, i, pass, info.meta.timestamp);
        CHECK(std::equal(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(frame_bytes), ref.frame(i).begin()));
        // Pass p continues the timeline: 2 s (60 frames of 333333) later for each pass.
        CHECK(std::llabs(info.meta.timestamp - static_cast<std::int64_t>(info.sequence - 1) * frame_period) <= 10000);
        ++compared;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    service.kill();
    WARN("--loop yes --pace fast: " << compared << " frames compared, up to sequence " << reader.last_sequence()
                                    << " (pass " << (reader.last_sequence() - 1) / 60 << ") in " << seconds << " s");
}

TEST_CASE("media: frame_viewer --snapshot writes PNG and BMP of the frame it names", "[media][snapshot]")
{
    MEDIA_REQUIRE_CLIPS();
    const std::string basename = unique_basename("snap");
    const scratch_dir dir;
    const std::string index = dir.path() + "\\" + basename + ".txt";
    const auto nv12_bytes = static_cast<std::size_t>(frame_service::frame_bytes(pixel_format::nv12, 320, 240));
    const media::reference nv12(std::string("h264_320x240.mp4.nv12"), nv12_bytes);
    const media::reference rgb(std::string("h264_320x240.mp4.bgra"), std::size_t{320} * 240 * 4);
    auto service = test::captured_process::start(
        example(L"frame_service.exe"), {"run", "--namespace", "local", "--basename", basename, "--index-dir", dir.path(),
                                        "--source", "file:" + media::path("h264_320x240.mp4"), "--loop", "yes",
                                        "--duration", "60"});
    for (const std::string ext : {".png", ".bmp"}) {
        const std::string image = dir.path() + "\\snapshot" + ext;
        const finished snap = run_to_end(test::captured_process::start(
            example(L"frame_viewer.exe"), {"--index", index, "--wait", "120", "--snapshot", image}));
        REQUIRE(snap.code == 0);
        // "... frame #N (timestamp T, 320x240 nv12) written to ..."
        const auto at = snap.out.find("(timestamp ");
        REQUIRE(at != std::string::npos);
        const long long timestamp = std::stoll(snap.out.substr(at + 11));
        const std::size_t i = static_cast<std::size_t>((timestamp + frame_period / 2) / frame_period) % 60; // it loops
        CAPTURE(ext, timestamp, i);
        const media::bgr_image png = media::read_image(image);
        REQUIRE(png.width == 320);
        REQUIRE(png.height == 240);
        // Exactly the viewer's BT.601 conversion of ffmpeg's NV12 for that frame...
        std::vector<std::byte> expected(std::size_t{320} * 240 * 4);
        REQUIRE(frame_service::to_bgra(pixel_format::nv12, 320, 240, 320, nv12.frame(i), expected));
        CHECK(png.bgr == media::bgr_of(expected));
        // ... and close to ffmpeg's own RGB of it.
        const double p = media::psnr(png.bgr, media::bgr_of(rgb.frame(i)));
        CHECK(p >= 35);
        WARN("snapshot " << ext << " of frame " << i << ": equal to the reference NV12 converted; PSNR " << p
                         << " dB against ffmpeg's RGB");
    }
    service.kill();
}

TEST_CASE("media: the installed service publishes a file and stops at its end", "[media][scm]")
{
    MEDIA_REQUIRE_CLIPS();
    const std::string basename = unique_basename("msvc");
    const scratch_dir dir;
    const std::string name = "winmmf_test_" + basename;
    struct uninstall {
        std::string name;
        ~uninstall() { (void)frame_service::uninstall_service(test::widen(name)); }
    } cleanup{name};
    const finished installed = run_to_end(test::captured_process::start(
        example(L"frame_service.exe"), {"install", "--service-name", name, "--basename", basename, "--index-dir", dir.path(),
                                        "--source", "file:" + media::path("h264_320x240.mp4")}));
    REQUIRE(installed.code == 0);
    CHECK(contains(installed.out, "--source"));

    const SC_HANDLE scm = ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT);
    REQUIRE(scm != nullptr);
    const SC_HANDLE service = ::OpenServiceW(scm, test::widen(name).c_str(), SERVICE_START | SERVICE_QUERY_STATUS);
    ::CloseServiceHandle(scm);
    REQUIRE(service != nullptr);
    const std::wstring format_arg = L"--format";
    const std::wstring yuy2 = L"yuy2"; // a start argument on top of the install options
    const wchar_t* argv[] = {format_arg.c_str(), yuy2.c_str()};
    REQUIRE(::StartServiceW(service, 2, argv));

    frame_reader reader;
    REQUIRE(test::eventually([&] {
        std::error_code ec;
        reader = frame_reader::open(global(basename + "_0"), {.access = access_mode::read_only}, ec);
        return !ec;
    }, 120s));
    std::vector<std::byte> frame(reader.max_frame_size());
    std::uint64_t frames = 0;
    std::error_code ec;
    for (;;) {
        const frame_info info = reader.take(frame, acquire_mode::wait_for(60s), ec);
        if (ec) {
            break;
        }
        ++frames;
        CHECK(info.meta.format == pixel_format::yuy2);
        CHECK(info.meta.width == 320);
    }
    CHECK(ec == errc::end_of_stream);
    CHECK(frames > 0);
    CHECK(reader.last_sequence() == 60);
    SERVICE_STATUS status{};
    CHECK(test::eventually([&] { return ::QueryServiceStatus(service, &status) && status.dwCurrentState == SERVICE_STOPPED; }));
    CHECK(status.dwServiceSpecificExitCode == 0); // the end of the file is a clean end
    ::CloseServiceHandle(service);
}

TEST_CASE("media: under Wine no capture device is enumerated, and none is ever activated", "[media][camera]")
{
    // MFCreateDeviceSource (behind IMFActivate) aborts the process under Wine 8: the source
    // checks for Wine before it activates anything, and this test only enumerates.
    const frame_service::mf::runtime runtime;
    REQUIRE(SUCCEEDED(runtime.status()));
    frame_service::mf::device_list devices;
    REQUIRE(SUCCEEDED(frame_service::mf::enumerate_cameras(devices)));
    if (!frame_service::mf::running_under_wine()) {
        SKIP("not under Wine: " << devices.cameras.size() << " camera(s); device opening is for Windows");
    }
    CHECK(devices.cameras.empty());
    frame_service::mf_source camera({.spec = {frame_service::source_kind::camera, "0"}}, [](const std::string&) {});
    std::error_code ec;
    CHECK_FALSE(camera.open(nullptr, ec));
    CHECK(ec == frame_service::source_errc::no_device);
    CHECK(contains(camera.detail(), "found 0 video capture device(s)"));
    CHECK(frame_service::decide_retry(ec, 1, {}).retry); // a camera may be plugged in later
}
