#include <winmmf/protocol/page.hpp>

#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <limits>

using namespace winmmf;

TEST_CASE("round_up rounds to powers of two and refuses to overflow", "[page]")
{
    STATIC_CHECK(protocol::round_up(0, 4096) == 0u);
    STATIC_CHECK(protocol::round_up(1, 4096) == 4096u);
    STATIC_CHECK(protocol::round_up(4096, 4096) == 4096u);
    STATIC_CHECK(protocol::round_up(4097, 4096) == 8192u);
    STATIC_CHECK_FALSE(protocol::round_up(1, 0).has_value());
    STATIC_CHECK_FALSE(protocol::round_up(1, 3000).has_value());
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    STATIC_CHECK_FALSE(protocol::round_up(max, 4096).has_value());
    STATIC_CHECK_FALSE(protocol::round_up(max - 4094, 4096).has_value());
    STATIC_CHECK(protocol::round_up(max - 4095, 4096) == max - 4095);
}

TEST_CASE("the 4-byte header lives inside the page rounding", "[page]")
{
    protocol::mapping_layout l;
    REQUIRE(protocol::compute_layout(100, 4, 4096, l) == errc{});
    CHECK(l.section_size == 4096);
    CHECK(l.section_size == 4096);
    CHECK(l.size == 100);
    CHECK(l.capacity == 4092);

    REQUIRE(protocol::compute_layout(4092, 4, 4096, l) == errc{});
    CHECK(l.section_size == 4096); // exactly fits: no extra page
    CHECK(l.capacity == 4092);

    REQUIRE(protocol::compute_layout(4093, 4, 4096, l) == errc{});
    CHECK(l.section_size == 8192); // one byte more needs a second page
    CHECK(l.capacity == 8188);

    REQUIRE(protocol::compute_layout(6220800, 4, 4096, l) == errc{});
    CHECK(l.section_size == 6221824);
    CHECK(l.capacity >= 6220800);

    REQUIRE(protocol::compute_layout(1, 4, 2 * 1024 * 1024, l) == errc{}); // large pages
    CHECK(l.section_size == 2 * 1024 * 1024);
}

TEST_CASE("bad sizes fail with a specific error and an empty layout", "[page]")
{
    protocol::mapping_layout l;
    CHECK(protocol::compute_layout(0, 4, 4096, l) == errc::zero_size);
    CHECK(l.section_size == 0);
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    CHECK(protocol::compute_layout(max, 4, 4096, l) == errc::size_overflow);
    CHECK(protocol::compute_layout(max - 3, 4, 4096, l) == errc::size_overflow);
    CHECK(protocol::compute_layout(std::numeric_limits<std::size_t>::max(), 4, 4096, l) == errc::size_overflow);
    CHECK(l.capacity == 0);
}

TEST_CASE("a 32-bit process cannot map a view past its address space", "[page]")
{
    constexpr std::uint64_t limit32 = 0xFFFFFFFFu;
    protocol::mapping_layout l;
    CHECK(protocol::compute_layout(0xFFFFFFFFu - 4, 4, 4096, l, limit32) == errc::size_overflow);
    CHECK(protocol::compute_layout(0xFFFFF000u - 4, 4, 4096, l, limit32) == errc{});
    CHECK(l.section_size == 0xFFFFF000u);
    CHECK(protocol::compute_layout(0xFFFFF000u - 3, 4, 4096, l, limit32) == errc::size_overflow);
}

TEST_CASE("existing mappings: measured size, expected size and foreign sections", "[page]")
{
    protocol::mapping_layout l;
    REQUIRE(protocol::existing_layout(8192, 4, 0, l) == errc{});
    CHECK(l.capacity == 8188);
    CHECK(l.size == 8188);
    REQUIRE(protocol::existing_layout(8192, 4, 5000, l) == errc{});
    CHECK(l.size == 5000);
    CHECK(protocol::existing_layout(8192, 4, 8188, l) == errc{});
    CHECK(protocol::existing_layout(8192, 4, 8189, l) == errc::too_large);
    CHECK(protocol::existing_layout(4, 4, 0, l) == errc::not_winmmf_mapping);
}

TEST_CASE("bounds checks never wrap around", "[page]")
{
    STATIC_CHECK(protocol::in_bounds(0, 4092, 4092));
    STATIC_CHECK(protocol::in_bounds(4092, 0, 4092));
    STATIC_CHECK_FALSE(protocol::in_bounds(4093, 0, 4092));
    STATIC_CHECK_FALSE(protocol::in_bounds(1, 4092, 4092));
    constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
    STATIC_CHECK_FALSE(protocol::in_bounds(max, 2, 4092));
    STATIC_CHECK_FALSE(protocol::in_bounds(2, max, 4092));
    STATIC_CHECK_FALSE(protocol::in_bounds(max, max, 4092));
}
