// Where frames come from. The service publishes whatever a frame_source gives it; a source
// paces itself (a camera delivers at its own rate; a file at its frame rate unless told to hurry;
// the synthetic source waits for its next due time), and every wait ends early when the stop
// event is signalled.
#pragma once

#include "win.hpp"
#include "pixel_formats.hpp"

#include <winmmf/frame_types.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

namespace frame_service {

struct frame_format {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint32_t stride = 0; // bytes per row (NV12: of both planes)
    winmmf::pixel_format format = winmmf::pixel_format::unknown;
    std::size_t frame_size() const { return static_cast<std::size_t>(frame_bytes(format, stride, height)); }
    friend bool operator==(const frame_format&, const frame_format&) = default;
};

enum class frame_status : std::uint8_t {
    frame,         // `out` holds the next frame
    stopped,       // the stop event was signalled
    end_of_stream, // the source has no more frames (the end of a file that does not loop)
    failed,        // `ec` says why; the service may reopen the source (source_errors.hpp)
};

class frame_source {
public:
    virtual ~frame_source() = default;
    virtual std::string description() const = 0;
    // What the index file says the source is: "synthetic", "file" or "camera".
    virtual std::string kind() const = 0;
    // Opens the source - again after a failure - waiting at most until `stop`. format() is
    // valid once it succeeded.
    virtual bool open(HANDLE /*stop*/, std::error_code& ec)
    {
        ec.clear();
        return true;
    }
    virtual void close() noexcept {}
    virtual frame_format format() const = 0;
    // Waits for the next frame and writes it to `out` (format().frame_size() bytes), with its
    // capture time in `timestamp` (the source's clock; see the source).
    virtual frame_status next_frame(HANDLE stop, std::span<std::byte> out, std::int64_t& timestamp,
                                    std::error_code& ec) = 0;
};

} // namespace frame_service
