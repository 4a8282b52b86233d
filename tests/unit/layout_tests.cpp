// The bytes in shared memory are the same for a 32-bit and a 64-bit process, a C++ and a Rust
// one. The static_asserts fail the build (x64, i686 and native) if any field changes width,
// alignment or meaning; nothing stored in a mapping is a pointer or a size_t.
//
// The core stores exactly one thing in the mapping: the 4-byte WinMMF lock word at offset 0.
// User data follows at offset 4.
#include <winmmf/lock.hpp>
#include <winmmf/protocol/lock_word.hpp>

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

using namespace winmmf;

// ---- the lock word: a little-endian u32 at offset 0 ------------------------------------------
static_assert(std::is_same_v<protocol::lock_word::word_type, std::uint32_t>);
static_assert(sizeof(protocol::lock_word::word_type) == 4 && alignof(protocol::lock_word::word_type) == 4);
static_assert(std::atomic_ref<protocol::lock_word::word_type>::required_alignment == 4,
              "the lock word sits at offset 0 of a page-aligned view; 4-byte alignment suffices");
static_assert(std::atomic_ref<protocol::lock_word::word_type>::is_always_lock_free);
static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian, as on every Windows target");

// The protocol constants are part of the wire format (WinMMF's masks).
static_assert(protocol::lock_word::initialize_mask == 0xFF000000u);
static_assert(protocol::lock_word::write_lock_mask == 0x80000000u);
static_assert(protocol::lock_word::read_lock_mask == 0x00FFFFFFu);
static_assert(protocol::lock_word::unused_mask == 0x7F000000u);
static_assert(protocol::lock_word::robust_layout_marker == 0xFF524F42u);
static_assert(protocol::lock_word::channel_layout_marker == 0xFF43484Eu);

// ---- the header every policy puts before user data ---------------------------------------------
static_assert(compatible_lock::header_size == 4);
static_assert(no_lock::header_size == 4, "no_lock keeps user data at the same offset");
static_assert(std::is_same_v<std::remove_cv_t<decltype(compatible_lock::header_size)>, std::size_t>);

TEST_CASE("the lock word's bytes, as another process (or a 32-bit one) sees them", "[layout]")
{
    // A view is page-aligned and starts with the word; an aligned buffer stands in for it.
    alignas(8) std::byte view[64] = {};
    const auto bytes = [&] {
        unsigned char b[4];
        std::memcpy(b, view, 4);
        return (std::uint32_t{b[0]}) | (std::uint32_t{b[1]} << 8) | (std::uint32_t{b[2]} << 16) |
               (std::uint32_t{b[3]} << 24);
    };
    std::error_code ec;
    compatible_lock lock = compatible_lock::initialize(view, ec);
    REQUIRE_FALSE(ec);
    CHECK(bytes() == 0); // initialised and free: 00 00 00 00

    REQUIRE(lock.lock(acquire_mode::try_once(), ec));
    const auto* raw = reinterpret_cast<const unsigned char*>(view);
    CHECK(raw[0] == 0x00);
    CHECK(raw[3] == 0x80); // the writer bit is the top bit of the last byte: little-endian
    lock.unlock(ec);
    REQUIRE_FALSE(ec);

    REQUIRE(lock.lock_shared(acquire_mode::try_once(), ec));
    REQUIRE(lock.lock_shared(acquire_mode::try_once(), ec));
    CHECK(raw[0] == 2); // two readers: the count is in the low bytes
    CHECK(raw[3] == 0);
    lock.unlock_shared(ec);
    lock.unlock_shared(ec);
    CHECK(bytes() == 0);

    // The header is the first 4 bytes and nothing else: user data at offset 4 is untouched.
    view[4] = std::byte{0x5A};
    REQUIRE(lock.lock(acquire_mode::try_once(), ec));
    lock.unlock(ec);
    CHECK(view[4] == std::byte{0x5A});
}
