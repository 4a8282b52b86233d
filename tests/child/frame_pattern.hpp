// Frames whose every byte derives from their sequence number, so that a reader can tell a
// complete frame from a torn one (bytes of two frames) without any other information.
#pragma once

#include <winmmf/protocol/frame.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace winmmf::test {

inline std::uint64_t pattern_word(std::uint64_t sequence, std::uint64_t index)
{
    return (sequence * 0x9E3779B97F4A7C15ull) ^ (index * 0xD6E8FEB86659FD93ull) ^ index;
}

inline void fill_frame(std::span<std::byte> out, std::uint64_t sequence)
{
    std::size_t i = 0;
    for (; i + 8 <= out.size(); i += 8) {
        const std::uint64_t w = pattern_word(sequence, i / 8);
        std::memcpy(out.data() + i, &w, 8);
    }
    if (i < out.size()) {
        const std::uint64_t w = pattern_word(sequence, i / 8);
        std::memcpy(out.data() + i, &w, out.size() - i);
    }
}

// True if `part` is exactly frame `sequence` from its word `first_word` on.
inline bool frame_matches_from(std::span<const std::byte> part, std::uint64_t sequence, std::size_t first_word)
{
    std::size_t i = 0;
    for (; i + 8 <= part.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, part.data() + i, 8);
        if (w != pattern_word(sequence, first_word + i / 8)) {
            return false;
        }
    }
    if (i < part.size()) {
        const std::uint64_t w = pattern_word(sequence, first_word + i / 8);
        return std::memcmp(part.data() + i, &w, part.size() - i) == 0;
    }
    return true;
}

// True if `frame` is exactly frame `sequence`.
inline bool frame_matches(std::span<const std::byte> frame, std::uint64_t sequence)
{
    return frame_matches_from(frame, sequence, 0);
}

// Metadata derived from the sequence too, so that a frame's pixels and its metadata can be
// checked against each other.
inline frame_meta pattern_meta(std::uint64_t sequence)
{
    frame_meta m;
    m.width = static_cast<std::uint32_t>(sequence % 4096);
    m.height = static_cast<std::uint32_t>((sequence * 7) % 4096);
    m.stride = static_cast<std::uint32_t>(sequence % 65536);
    m.format = static_cast<pixel_format>(sequence % 9);
    m.timestamp = static_cast<std::int64_t>(sequence * 1000);
    m.user_tag = ~sequence;
    return m;
}

inline bool meta_matches(const frame_meta& m, std::uint64_t sequence)
{
    const frame_meta e = pattern_meta(sequence);
    return m.width == e.width && m.height == e.height && m.stride == e.stride &&
           m.format == e.format && m.timestamp == e.timestamp && m.user_tag == e.user_tag;
}

// Frame sizes vary with the sequence (so that a torn size is caught too), between half the
// maximum and the maximum.
inline std::size_t pattern_size(std::uint64_t sequence, std::size_t max_size)
{
    return max_size / 2 + static_cast<std::size_t>(sequence * 2654435761u % (max_size / 2 + 1));
}

// What a child reader reports back through a small mapping the parent created.
struct reader_report {
    std::uint64_t taken = 0;
    std::uint64_t skipped = 0;
    std::uint64_t first = 0;     // sequence of the first frame taken
    std::uint64_t last = 0;      // sequence of the last frame taken
    std::uint64_t baseline = 0;  // newest sequence at open(), less one (0 if none)
    std::uint64_t torn = 0;      // frames whose bytes or metadata did not match their sequence
    std::uint64_t invalidated = 0; // zero-copy frames the writer overwrote during the check
    std::uint64_t first_skipped = 0;
    std::uint64_t end_error = 0; // the winmmf errc that ended the loop (0: count reached)
    std::uint64_t overwritten = 0; // takes that failed with frame_overwritten (lapped 16 times)
    std::uint64_t retries = 0;     // reads the writer spoiled (frame_reader::retries())
};

} // namespace winmmf::test
