// What the frame channel tests share: publishing the test pattern, and the mapping a child
// reader reports into.
#pragma once

#include <winmmf/frame_channel.hpp>
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/frame_pattern.hpp"
#include <test_support.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace winmmf::test {

// Publishes the next frame of the pattern (its size varies with the sequence number).
inline std::uint64_t publish_pattern(frame_writer& w, std::vector<std::byte>& buffer)
{
    const std::uint64_t s = w.published() + 1;
    const std::size_t size = pattern_size(s, w.max_frame_size());
    fill_frame(std::span(buffer.data(), size), s);
    std::error_code ec;
    const std::uint64_t published = w.publish(std::span(buffer.data(), size), pattern_meta(s), ec);
    REQUIRE_FALSE(ec);
    REQUIRE(published == s);
    return s;
}

// A child reader's report mapping.
struct report_mapping {
    explicit report_mapping(const std::string& tag)
        : name(unique_name(tag)), mapping(memory_mapped_file::create(local(name), sizeof(reader_report)))
    {
    }
    reader_report get() const
    {
        reader_report r;
        mapping.read(0, std::as_writable_bytes(std::span(&r, 1)));
        return r;
    }
    std::string name;
    memory_mapped_file mapping;
};

} // namespace winmmf::test
