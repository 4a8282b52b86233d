// Why a frame source failed, and what the service does about it: the error codes, the mapping
// from Media Foundation's HRESULTs for a lost, busy or forbidden camera, the choice of a camera
// from a selector, and the retry policy. Pure (no Windows dependency), unit-tested natively too
// (tests/unit/frame_service_device_tests.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace frame_service {

enum class source_errc : int {
    no_device = 1,       // no video capture device at all
    device_not_found,    // devices exist, none matches the selector
    device_ambiguous,    // the selector (part of a name) matches several devices
    device_lost,         // the device went away while in use (unplugged, driver reset)
    device_busy,         // another application holds the device
    access_denied,       // camera privacy: this app (or service) may not use the camera
    skipped_under_wine,  // MFCreateDeviceSource aborts the process under Wine: not called
    unsupported_format,  // the source cannot deliver the format asked for, even converted
    file_unreadable,     // the file does not exist, or no decoder handles it
    geometry_changed,    // the source changed its frame size mid-stream
    stride_unknown,      // a buffer whose length fits no layout of the frame
    media_foundation,    // any other Media Foundation failure (the HRESULT is logged)
};

class source_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "frame_source"; }
    std::string message(int value) const override
    {
        switch (static_cast<source_errc>(value)) {
        case source_errc::no_device:
            return "no video capture device is present";
        case source_errc::device_not_found:
            return "no video capture device matches the selector";
        case source_errc::device_ambiguous:
            return "several video capture devices match the selector; give an index or the full name";
        case source_errc::device_lost:
            return "the video capture device was lost (unplugged or reset)";
        case source_errc::device_busy:
            return "the video capture device is in use by another application";
        case source_errc::access_denied:
            return "access to the camera is denied: allow it in Settings > Privacy & security > Camera "
                   "(\"Let desktop apps access your camera\")";
        case source_errc::skipped_under_wine:
            return "not opening the device: this is Wine, whose MFCreateDeviceSource aborts the process";
        case source_errc::unsupported_format:
            return "the source cannot deliver the requested format";
        case source_errc::file_unreadable:
            return "the file cannot be opened or decoded";
        case source_errc::geometry_changed:
            return "the source changed its frame size or format mid-stream";
        case source_errc::stride_unknown:
            return "a buffer's length fits no row layout of the frame";
        case source_errc::media_foundation:
            return "Media Foundation failed";
        }
        return "unknown frame source error";
    }
};

inline const std::error_category& source_category() noexcept
{
    static const source_category_impl category;
    return category;
}

inline std::error_code make_error_code(source_errc e) noexcept { return {static_cast<int>(e), source_category()}; }

} // namespace frame_service

template <>
struct std::is_error_code_enum<frame_service::source_errc> : std::true_type {};

namespace frame_service {

// HRESULTs by value (mferror.h, winerror.h), so that this header needs no Windows header.
namespace hresult {
inline constexpr std::uint32_t access_denied = 0x80070005;            // E_ACCESSDENIED
inline constexpr std::uint32_t sharing_violation = 0x80070020;        // HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION)
inline constexpr std::uint32_t busy = 0x800700AA;                     // HRESULT_FROM_WIN32(ERROR_BUSY)
inline constexpr std::uint32_t device_not_connected = 0x8007048F;     // HRESULT_FROM_WIN32(ERROR_DEVICE_NOT_CONNECTED)
inline constexpr std::uint32_t device_removed = 0x80070651;           // HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED)
inline constexpr std::uint32_t gen_failure = 0x8007001F;              // HRESULT_FROM_WIN32(ERROR_GEN_FAILURE)
inline constexpr std::uint32_t file_not_found = 0x80070002;           // HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)
inline constexpr std::uint32_t path_not_found = 0x80070003;           // HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND)
inline constexpr std::uint32_t video_device_invalidated = 0xC00D3EA2; // MF_E_VIDEO_RECORDING_DEVICE_INVALIDATED
inline constexpr std::uint32_t video_device_preempted = 0xC00D3EA3;   // MF_E_VIDEO_RECORDING_DEVICE_PREEMPTED
inline constexpr std::uint32_t hw_mft_failed_start = 0xC00D3704;      // MF_E_HW_MFT_FAILED_START_STREAMING
inline constexpr std::uint32_t mf_shutdown = 0xC00D3E85;              // MF_E_SHUTDOWN
inline constexpr std::uint32_t no_capture_devices = 0xC00DABE0;       // MF_E_NO_CAPTURE_DEVICES_AVAILABLE
inline constexpr std::uint32_t unsupported_bytestream = 0xC00D36C4;   // MF_E_UNSUPPORTED_BYTESTREAM_TYPE
inline constexpr std::uint32_t invalid_media_type = 0xC00D36B4;       // MF_E_INVALIDMEDIATYPE
inline constexpr std::uint32_t topo_codec_not_found = 0xC00D5212;     // MF_E_TOPO_CODEC_NOT_FOUND
} // namespace hresult

// What a failed call on a capture device means. Documented: MF_E_VIDEO_RECORDING_DEVICE_INVALIDATED
// (the device was removed or its driver reset), MF_E_VIDEO_RECORDING_DEVICE_PREEMPTED (another
// application took it over), E_ACCESSDENIED from activation or ReadSample (camera privacy),
// MF_E_HW_MFT_FAILED_START_STREAMING (the device would not start: usually held by another
// application). The Win32 codes are what USB stacks report for a removed or shared device.
constexpr source_errc classify_device_hresult(std::uint32_t hr) noexcept
{
    switch (hr) {
    case hresult::access_denied:
        return source_errc::access_denied;
    case hresult::video_device_invalidated:
    case hresult::device_not_connected:
    case hresult::device_removed:
    case hresult::gen_failure:
    case hresult::mf_shutdown:
        return source_errc::device_lost;
    case hresult::video_device_preempted:
    case hresult::hw_mft_failed_start:
    case hresult::sharing_violation:
    case hresult::busy:
        return source_errc::device_busy;
    case hresult::no_capture_devices:
        return source_errc::no_device;
    case hresult::invalid_media_type:
    case hresult::topo_codec_not_found:
        return source_errc::unsupported_format;
    default:
        return source_errc::media_foundation;
    }
}

// The same for a file: a missing file or a container no decoder reads.
constexpr source_errc classify_file_hresult(std::uint32_t hr) noexcept
{
    switch (hr) {
    case hresult::file_not_found:
    case hresult::path_not_found:
    case hresult::access_denied:
    case hresult::unsupported_bytestream:
        return source_errc::file_unreadable;
    case hresult::invalid_media_type:
    case hresult::topo_codec_not_found:
        return source_errc::unsupported_format;
    default:
        return source_errc::media_foundation;
    }
}

// ---- Choosing a camera --------------------------------------------------------------------

struct camera_info {
    std::string name;          // MF_DEVSOURCE_ATTRIBUTE_FRIENDLY_NAME
    std::string symbolic_link; // MF_DEVSOURCE_ATTRIBUTE_SOURCE_TYPE_VIDCAP_SYMBOLIC_LINK
};

struct camera_choice {
    std::size_t index = 0;
    source_errc error{}; // 0: found
};

namespace detail {
constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
inline bool iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}
inline bool icontains(std::string_view text, std::string_view part)
{
    for (std::size_t i = 0; part.size() <= text.size() && i <= text.size() - part.size(); ++i) {
        if (iequals(text.substr(i, part.size()), part)) {
            return true;
        }
    }
    return false;
}
} // namespace detail

// `camera:<selector>`: a decimal index in enumeration order; a symbolic link (\\?\...) exactly,
// case-insensitively; a friendly name exactly, case-insensitively; else a part of one name.
inline camera_choice choose_camera(std::string_view selector, const std::vector<camera_info>& cameras)
{
    if (cameras.empty()) {
        return {0, source_errc::no_device};
    }
    if (!selector.empty() && selector.find_first_not_of("0123456789") == std::string_view::npos) {
        std::size_t index = 0;
        for (char c : selector) {
            index = index * 10 + static_cast<std::size_t>(c - '0');
            if (index >= cameras.size()) {
                return {0, source_errc::device_not_found};
            }
        }
        return {index, {}};
    }
    for (std::size_t i = 0; i < cameras.size(); ++i) {
        if (detail::iequals(cameras[i].symbolic_link, selector) || detail::iequals(cameras[i].name, selector)) {
            return {i, {}};
        }
    }
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < cameras.size(); ++i) {
        if (!selector.empty() && detail::icontains(cameras[i].name, selector)) {
            if (found) {
                return {0, source_errc::device_ambiguous};
            }
            found = i;
        }
    }
    return found ? camera_choice{*found, {}} : camera_choice{0, source_errc::device_not_found};
}

// ---- Choosing a native format -------------------------------------------------------------

// One native media type of a camera, as the service scores it.
struct native_format {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    double fps = 0;
    std::uint32_t fourcc = 0; // 'NV12', 'YUY2', 'MJPG', ... (little-endian, as MFVideoFormat_* Data1)
};

constexpr std::uint32_t fourcc(char a, char b, char c, char d) noexcept
{
    return static_cast<std::uint32_t>(static_cast<unsigned char>(a)) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b)) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(c)) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(d)) << 24;
}

struct format_preference {
    std::uint32_t width = 0; // 0: no preference (the largest wins)
    std::uint32_t height = 0;
    double fps = 0;          // 0: no preference (the fastest wins, up to 60)
    std::uint32_t fourcc = 0; // the output format's subtype: no conversion at all is best
};

// Picks the native type to open a camera with: the requested size first (exact, else the
// smallest that covers it, else the largest), then the frame rate (exact, else the nearest above,
// else the fastest), then a subtype that needs no conversion (the output format, then NV12, YUY2,
// MJPG, anything else). Returns the index into `formats`, nullopt when it is empty.
inline std::optional<std::size_t> choose_native_format(const std::vector<native_format>& formats,
                                                       const format_preference& want)
{
    const auto size_rank = [&](const native_format& f) -> std::uint64_t {
        const std::uint64_t area = std::uint64_t{f.width} * f.height;
        if (want.width == 0) {
            return (1ull << 40) - area; // larger is better
        }
        if (f.width == want.width && f.height == want.height) {
            return 0;
        }
        if (f.width >= want.width && f.height >= want.height) {
            return 1 + area; // the smallest that covers it
        }
        return (1ull << 41) - area; // else the largest
    };
    const auto fps_rank = [&](const native_format& f) -> double {
        const double target = want.fps > 0 ? want.fps : 60;
        if (f.fps == target) {
            return 0;
        }
        return f.fps > target ? f.fps - target : 1000 + (target - f.fps);
    };
    const auto subtype_rank = [&](const native_format& f) -> int {
        if (want.fourcc != 0 && f.fourcc == want.fourcc) {
            return 0;
        }
        if (f.fourcc == fourcc('N', 'V', '1', '2')) {
            return 1;
        }
        if (f.fourcc == fourcc('Y', 'U', 'Y', '2')) {
            return 2;
        }
        if (f.fourcc == fourcc('M', 'J', 'P', 'G')) {
            return 3;
        }
        return 4;
    };
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < formats.size(); ++i) {
        if (!best) {
            best = i;
            continue;
        }
        const native_format& a = formats[i];
        const native_format& b = formats[*best];
        const auto ka = size_rank(a), kb = size_rank(b);
        if (ka != kb) {
            if (ka < kb) {
                best = i;
            }
            continue;
        }
        const double fa = fps_rank(a), fb = fps_rank(b);
        if (fa != fb) {
            if (fa < fb) {
                best = i;
            }
            continue;
        }
        if (subtype_rank(a) < subtype_rank(b)) {
            best = i;
        }
    }
    return best;
}

// ---- The retry policy ---------------------------------------------------------------------

struct retry_policy {
    unsigned max_attempts = 0; // retries after the first failure; 0 = for ever
    std::chrono::milliseconds first_delay{1000};
    std::chrono::milliseconds max_delay{30000};
};

struct retry_decision {
    bool retry = false;
    std::chrono::milliseconds delay{0};
};

// Whether a condition can clear up by itself: a camera plugged in (none, or not the one asked
// for), given back (busy) or back after a reset (lost). Denied access needs the user to change a
// setting, and a bad format or file stays bad: those fail at once.
constexpr bool is_retriable(source_errc e) noexcept
{
    switch (e) {
    case source_errc::no_device:
    case source_errc::device_not_found:
    case source_errc::device_lost:
    case source_errc::device_busy:
        return true;
    default:
        return false;
    }
}

// After the `failures`-th failure in a row (1 for the first): retry after 1 s, 2 s, 4 s, ...
// capped at max_delay, until max_attempts retries were made.
inline retry_decision decide_retry(const std::error_code& ec, unsigned failures, const retry_policy& p) noexcept
{
    if (ec.category() != source_category() || !is_retriable(static_cast<source_errc>(ec.value())) || failures == 0 ||
        (p.max_attempts != 0 && failures > p.max_attempts)) {
        return {false, std::chrono::milliseconds{0}};
    }
    std::chrono::milliseconds delay = p.first_delay;
    for (unsigned i = 1; i < failures && delay < p.max_delay; ++i) {
        delay *= 2;
    }
    return {true, delay < p.max_delay ? delay : p.max_delay};
}

} // namespace frame_service
