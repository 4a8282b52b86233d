// The synthetic frame source: a moving test pattern that differs per source, and the checksum
// that travels with every frame (in frame_meta::user_tag) so a client can prove it never saw a
// torn or stale frame.
#pragma once

#include "frame_source.hpp"

#include <winmmf/frame_clock.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace frame_service {

// 64-bit multiply-xorshift over 8-byte words (the tail byte-wise). Fast enough for 1080p at
// 60 fps on one core; strong enough to catch a frame mixed from two writes.
inline std::uint64_t checksum(std::span<const std::byte> data)
{
    constexpr std::uint64_t k = 0x9E3779B97F4A7C15ull;
    std::uint64_t h = 0xCBF29CE484222325ull ^ data.size();
    std::size_t i = 0;
    for (; i + 8 <= data.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, data.data() + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    for (; i < data.size(); ++i) {
        h = (h ^ static_cast<std::uint8_t>(data[i])) * k;
    }
    return h ^ (h >> 32);
}

// Frame n of source s is row-shifted copies of one gradient line: cheap to produce (a memcpy
// per row), visibly moving in a viewer, and different for every (source, n). The first 8
// bytes carry the sequence number, so a frame delivered under the wrong sequence is caught.
class synthetic_source final : public frame_source {
public:
    synthetic_source(unsigned index, unsigned width, unsigned height, winmmf::pixel_format format, unsigned fps)
        : index_(index), format_{width, height, min_stride(format, width), format},
          period_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(1.0 / fps))),
          line_(2 * std::size_t{format_.stride})
    {
        for (std::size_t i = 0; i < line_.size(); ++i) {
            line_[i] = static_cast<std::byte>((i * 7 + index * 53) & 0xFF);
        }
    }

    std::string description() const override { return "synthetic source " + std::to_string(index_); }
    std::string kind() const override { return "synthetic"; }
    frame_format format() const override { return format_; }

    // The timestamp is the frame_clock time at which the frame was rendered, in nanoseconds.
    frame_status next_frame(HANDLE stop, std::span<std::byte> out, std::int64_t& timestamp,
                            std::error_code& ec) override
    {
        using namespace std::chrono;
        ec.clear();
        const auto now = steady_clock::now();
        if (sequence_ == 0) {
            start_ = now;
        }
        const auto due = start_ + period_ * static_cast<long long>(sequence_);
        const auto wait = duration_cast<milliseconds>(due - now);
        if (::WaitForSingleObject(stop, static_cast<DWORD>(wait.count() > 0 ? wait.count() : 0)) == WAIT_OBJECT_0) {
            return frame_status::stopped;
        }
        render(++sequence_, out);
        timestamp = winmmf::frame_clock::now().time_since_epoch().count();
        return frame_status::frame;
    }

    void render(std::uint64_t sequence, std::span<std::byte> out) const
    {
        const std::size_t row = format_.stride;
        const std::size_t pixel = format_.format == winmmf::pixel_format::nv12 ? 1 : winmmf::bytes_per_pixel(format_.format);
        const std::size_t rows = static_cast<std::size_t>(frame_rows(format_.format, format_.height));
        for (std::size_t y = 0; y < rows; ++y) {
            // The remainder is below the width, so it fits a size_t on 32-bit builds too.
            const auto column = static_cast<std::size_t>((sequence * 4 + y) % format_.width);
            const std::size_t shift = column * pixel;
            std::memcpy(out.data() + y * row, line_.data() + shift, row);
        }
        std::memcpy(out.data(), &sequence, sizeof sequence);
    }

private:
    unsigned index_;
    frame_format format_;
    std::chrono::steady_clock::duration period_;
    std::chrono::steady_clock::time_point start_{};
    std::uint64_t sequence_ = 0;
    std::vector<std::byte> line_;
};

} // namespace frame_service
