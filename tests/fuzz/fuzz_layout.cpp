// libFuzzer target: size rounding and the mapping layout (page.hpp).
//
// Input: requested size, header size, page size exponent (or a raw, possibly non-power-of-two
// page size), address-space limit, and an offset/length/capacity triple. Every result is
// compared with the same arithmetic done in 128 bits, where nothing can overflow.
#include <winmmf/protocol/page.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

using namespace winmmf;
using u128 = unsigned __int128;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "fuzz_layout: %s\n", what);
    std::abort();
}

class reader {
public:
    reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    std::uint64_t u64()
    {
        std::uint64_t v = 0;
        const std::size_t n = size_ - pos_ < 8 ? size_ - pos_ : 8;
        std::memcpy(&v, data_ + pos_, n);
        pos_ += n;
        return v;
    }
    std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

constexpr u128 max64 = std::numeric_limits<std::uint64_t>::max();

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    reader in(data, size);
    const std::uint8_t shape = in.u8();
    // Sizes near the edges are where the bugs are: bias the raw values towards them.
    std::uint64_t requested = in.u64();
    if (shape & 1) {
        requested = std::numeric_limits<std::uint64_t>::max() - (requested & 0xFFFFF);
    }
    const std::uint64_t header = (shape & 2) ? in.u64() : in.u64() % 4096;
    const std::uint8_t page_byte = in.u8();
    const std::uint64_t page = (shape & 4) ? in.u64() : std::uint64_t{1} << (page_byte % 64);
    const std::uint64_t limit = (shape & 8) ? in.u64() : std::numeric_limits<std::size_t>::max();

    // ---- protocol::compute_layout ----
    protocol::mapping_layout out;
    const errc e = protocol::compute_layout(requested, header, page, out, limit);
    errc expected{};
    u128 section = 0;
    const u128 total = u128{requested} + header;
    const bool power_of_two = page != 0 && (page & (page - 1)) == 0;
    if (requested == 0) {
        expected = errc::zero_size;
    } else if (total > max64 || !power_of_two) {
        expected = errc::size_overflow;
    } else {
        section = (total + page - 1) / page * page;
        if (section > max64 || section > limit || section > std::numeric_limits<std::size_t>::max()) {
            expected = errc::size_overflow;
        }
    }
    if (e != expected) {
        fail("compute_layout verdict differs");
    }
    if (e == errc{}) {
        if (out.section_size != section || out.size != requested ||
            u128{out.capacity} + header != section || out.capacity < requested || section % page != 0 ||
            section - total >= page) {
            fail("compute_layout result differs");
        }
    } else if (out.section_size != 0 || out.capacity != 0) {
        fail("compute_layout left a partial result");
    }

    // ---- protocol::round_up ----
    const std::uint64_t value = in.u64();
    const auto rounded = protocol::round_up(value, page);
    if (!power_of_two || (u128{value} + page - 1) / page * page > max64) {
        if (rounded) {
            fail("round_up accepted what overflows");
        }
    } else if (!rounded || *rounded != (u128{value} + page - 1) / page * page) {
        fail("round_up result differs");
    }

    // ---- protocol::existing_layout ----
    const auto view = static_cast<std::size_t>(in.u64());
    const auto hsize = static_cast<std::size_t>(in.u64() % 8192);
    const auto expected_size = static_cast<std::size_t>((shape & 16) ? in.u64() : in.u64() % 65536);
    protocol::mapping_layout existing;
    const errc x = protocol::existing_layout(view, hsize, expected_size, existing);
    const errc want = view <= hsize                            ? errc::not_winmmf_mapping
                      : u128{expected_size} > u128{view} - hsize ? errc::too_large
                                                                 : errc{};
    if (x != want) {
        fail("existing_layout verdict differs");
    }
    if (x == errc{} && (existing.capacity != view - hsize ||
                        existing.size != (expected_size != 0 ? expected_size : view - hsize))) {
        fail("existing_layout result differs");
    }

    // ---- protocol::in_bounds ----
    const auto offset = static_cast<std::size_t>(in.u64());
    const auto length = static_cast<std::size_t>(in.u64());
    const auto capacity = static_cast<std::size_t>(in.u64());
    if (protocol::in_bounds(offset, length, capacity) != (u128{offset} + length <= capacity)) {
        fail("in_bounds differs");
    }
    return 0;
}
