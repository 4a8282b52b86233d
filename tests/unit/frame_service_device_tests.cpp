// The frame service's device decisions (examples/frame_service/source_errors.hpp) are pure, so
// they are tested here, natively too: what a capture device's HRESULT means (lost, busy, camera
// privacy), which camera a selector picks, which native format is opened, and when the service
// retries.
#include "../../examples/frame_service/source_errors.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace frame_service;
using namespace std::chrono_literals;

TEST_CASE("frame_service devices: HRESULTs of a lost, busy or forbidden camera", "[frame_service][devices]")
{
    CHECK(classify_device_hresult(0x80070005) == source_errc::access_denied); // E_ACCESSDENIED: camera privacy
    CHECK(classify_device_hresult(0xC00D3EA2) == source_errc::device_lost);   // MF_E_VIDEO_RECORDING_DEVICE_INVALIDATED
    CHECK(classify_device_hresult(0x8007048F) == source_errc::device_lost);   // ERROR_DEVICE_NOT_CONNECTED
    CHECK(classify_device_hresult(0x80070651) == source_errc::device_lost);   // ERROR_DEVICE_REMOVED
    CHECK(classify_device_hresult(0xC00D3E85) == source_errc::device_lost);   // MF_E_SHUTDOWN
    CHECK(classify_device_hresult(0xC00D3EA3) == source_errc::device_busy);   // MF_E_VIDEO_RECORDING_DEVICE_PREEMPTED
    CHECK(classify_device_hresult(0xC00D3704) == source_errc::device_busy);   // MF_E_HW_MFT_FAILED_START_STREAMING
    CHECK(classify_device_hresult(0x80070020) == source_errc::device_busy);   // ERROR_SHARING_VIOLATION
    CHECK(classify_device_hresult(0xC00DABE0) == source_errc::no_device);     // MF_E_NO_CAPTURE_DEVICES_AVAILABLE
    CHECK(classify_device_hresult(0xC00D5212) == source_errc::unsupported_format);
    CHECK(classify_device_hresult(0x80004005) == source_errc::media_foundation); // E_FAIL: nothing more specific
    CHECK(classify_file_hresult(0x80070002) == source_errc::file_unreadable);
    CHECK(classify_file_hresult(0xC00D36C4) == source_errc::file_unreadable);
    CHECK(classify_file_hresult(0x80004005) == source_errc::media_foundation);

    const std::error_code ec = source_errc::access_denied;
    CHECK(std::string(ec.category().name()) == "frame_source");
    CHECK(ec.message().find("Privacy") != std::string::npos);
    CHECK(std::error_code(source_errc::skipped_under_wine).message().find("MFCreateDeviceSource") != std::string::npos);
}

TEST_CASE("frame_service devices: a camera by index, symbolic link, name or part of one", "[frame_service][devices]")
{
    const std::vector<camera_info> cameras = {
        {"Integrated Camera", "\\\\?\\usb#vid_04f2&pid_b6dd#0001"},
        {"Logitech BRIO", "\\\\?\\usb#vid_046d&pid_085e#0002"},
        {"Logitech C920", "\\\\?\\usb#vid_046d&pid_082d#0003"},
    };
    CHECK(choose_camera("0", cameras).index == 0);
    CHECK(choose_camera("2", cameras).index == 2);
    CHECK(choose_camera("3", cameras).error == source_errc::device_not_found);
    CHECK(choose_camera("99999999999999999999", cameras).error == source_errc::device_not_found);
    CHECK(choose_camera("logitech brio", cameras).index == 1);       // the name, any case
    CHECK(choose_camera("\\\\?\\USB#VID_046D&PID_082D#0003", cameras).index == 2);
    CHECK(choose_camera("C920", cameras).index == 2);                // a part of one name
    CHECK(choose_camera("Logitech", cameras).error == source_errc::device_ambiguous);
    CHECK(choose_camera("Webcam", cameras).error == source_errc::device_not_found);
    CHECK(choose_camera("0", {}).error == source_errc::no_device);   // what Wine enumerates
    CHECK(choose_camera("", cameras).error == source_errc::device_not_found);
}

TEST_CASE("frame_service devices: the native format by size, then rate, then subtype", "[frame_service][devices]")
{
    const std::uint32_t nv12 = fourcc('N', 'V', '1', '2');
    const std::uint32_t yuy2 = fourcc('Y', 'U', 'Y', '2');
    const std::uint32_t mjpg = fourcc('M', 'J', 'P', 'G');
    CHECK(nv12 == 0x3231564E); // MFVideoFormat_NV12's Data1
    const std::vector<native_format> formats = {
        {640, 480, 30, yuy2},  {1280, 720, 30, mjpg}, {1280, 720, 30, nv12}, {1280, 720, 10, yuy2},
        {1920, 1080, 30, mjpg}, {1920, 1080, 5, yuy2}, {320, 240, 60, yuy2},
    };
    CHECK(choose_native_format(formats, {1280, 720, 30, nv12}) == 2u);     // exact, no conversion
    CHECK(choose_native_format(formats, {1280, 720, 30, fourcc('R', 'G', 'B', '3')}) == 2u); // NV12 before MJPG
    CHECK(choose_native_format(formats, {1280, 720, 10, 0}) == 3u);        // the rate asked for
    CHECK(choose_native_format(formats, {1920, 1080, 30, 0}) == 4u);       // 30 fps MJPG beats 5 fps YUY2
    CHECK(choose_native_format(formats, {800, 600, 30, 0}) == 2u);         // the smallest that covers it
    CHECK(choose_native_format(formats, {4096, 2160, 30, 0}) == 4u);       // none covers it: the largest
    CHECK(choose_native_format(formats, {0, 0, 0, 0}) == 4u);              // no preference: largest, fastest
    CHECK_FALSE(choose_native_format({}, {}).has_value());
}

TEST_CASE("frame_service devices: the retry policy", "[frame_service][devices]")
{
    const retry_policy forever{};
    // What may clear up by itself is retried, 1 s, 2 s, 4 s ... up to 30 s.
    for (const source_errc e : {source_errc::no_device, source_errc::device_not_found, source_errc::device_lost,
                                source_errc::device_busy}) {
        CAPTURE(static_cast<int>(e));
        CHECK(decide_retry(e, 1, forever).retry);
        CHECK(decide_retry(e, 1, forever).delay == 1s);
        CHECK(decide_retry(e, 2, forever).delay == 2s);
        CHECK(decide_retry(e, 3, forever).delay == 4s);
        CHECK(decide_retry(e, 6, forever).delay == 30s);
        CHECK(decide_retry(e, 1000000, forever).delay == 30s);
    }
    // What needs a person, or never changes, is not.
    for (const source_errc e : {source_errc::access_denied, source_errc::skipped_under_wine,
                                source_errc::unsupported_format, source_errc::file_unreadable,
                                source_errc::device_ambiguous, source_errc::media_foundation,
                                source_errc::geometry_changed, source_errc::stride_unknown}) {
        CAPTURE(static_cast<int>(e));
        CHECK_FALSE(decide_retry(e, 1, forever).retry);
    }
    CHECK_FALSE(decide_retry(std::make_error_code(std::errc::timed_out), 1, forever).retry); // not ours
    // A bounded policy: `max_attempts` retries, then it gives up.
    const retry_policy twice{.max_attempts = 2};
    CHECK(decide_retry(source_errc::no_device, 1, twice).retry);
    CHECK(decide_retry(source_errc::no_device, 2, twice).retry);
    CHECK_FALSE(decide_retry(source_errc::no_device, 3, twice).retry);
    CHECK_FALSE(decide_retry(source_errc::no_device, 0, twice).retry);
}
