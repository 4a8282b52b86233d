// Typed access: read<T>/write<T> copies that need no alignment, and guard::as<T>() in place,
// which refuses an offset misaligned for T. The WinMMF layout's data start 4 bytes into the
// view; a robust mapping's at 1024.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/child.hpp"
#include <test_support.hpp>

#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>

using namespace winmmf;

namespace {

struct telemetry {
    std::uint64_t sequence;
    double temperature;
    std::uint32_t flags;
    std::uint32_t spare;
};
static_assert(std::is_trivially_copyable_v<telemetry>);

struct alignas(64) cache_line {
    std::uint64_t words[8];
};

} // namespace

TEST_CASE("data alignment: 4 for the WinMMF layout, 1024 for robust mappings", "[typed]")
{
    static_assert(memory_mapped_file::data_alignment == 4);
    static_assert(basic_memory_mapped_file<no_lock>::data_alignment == 4);
    static_assert(robust_memory_mapped_file::data_alignment == 1024);

    auto compatible = memory_mapped_file::create(local(test::unique_name("typed-align-c")), 256);
    auto robust = robust_memory_mapped_file::create(local(test::unique_name("typed-align-r")), 256);
    CHECK(reinterpret_cast<std::uintptr_t>(compatible.lock_read().data()) % 8 == 4);
    CHECK(reinterpret_cast<std::uintptr_t>(robust.lock_read().data()) % 64 == 0);
}

TEST_CASE("read<T> and write<T> copy a value at any offset, and another process sees its bytes", "[typed][multiprocess]")
{
    const std::string name = test::unique_name("typed-copy");
    auto m = memory_mapped_file::create(local(name), 256);
    // Offset 1: misaligned for every type wider than a byte, and fine for a copy.
    m.write(1, std::uint64_t{0x1122334455667788});
    CHECK(m.read<std::uint64_t>(1) == 0x1122334455667788u);
    CHECK(test::run_child({"expect", "local", name, "1", "8877665544332211"}) == 0);

    const telemetry sample{.sequence = 7, .temperature = 21.5, .flags = 3, .spare = 0};
    std::error_code ec;
    m.write(16, sample, acquire_mode::try_once(), ec);
    REQUIRE_FALSE(ec);
    const telemetry back = m.read<telemetry>(16, ec);
    REQUIRE_FALSE(ec);
    CHECK(back.sequence == 7);
    CHECK(back.temperature == 21.5);
    CHECK(back.flags == 3);

    // A child writes; the parent reads the value.
    REQUIRE(test::run_child({"write", "local", name, "100", "efbeadde"}) == 0);
    CHECK(m.read<std::uint32_t>(100) == 0xdeadbeefu);

    // Bytes still go to the byte overloads (a span converts; it is not written as a T).
    const std::string text = "bytes";
    m.write(200, std::as_bytes(std::span(text)));
    CHECK(m.read<char>(200) == 'b');
}

TEST_CASE("read<T> and write<T> refuse a value past the end, and leave the data intact", "[typed]")
{
    auto m = memory_mapped_file::create(local(test::unique_name("typed-bounds")), 64);
    const std::size_t capacity = m.capacity();
    m.write(capacity - 8, std::uint64_t{42});
    std::error_code ec;
    m.write(capacity - 4, std::uint64_t{~0ull}, ec);
    CHECK(ec == errc::out_of_bounds);
    CHECK(m.read<std::uint64_t>(capacity - 8) == 42);
    (void)m.read<std::uint64_t>(capacity - 7, ec);
    CHECK(ec == errc::out_of_bounds);
    CHECK_THROWS_AS(m.read<std::uint64_t>(capacity), std::system_error);

    auto ro = memory_mapped_file::open(custom(m.name().full()), {.access = access_mode::read_only});
    ro.write(0, std::uint32_t{1}, ec);
    CHECK(ec == errc::read_only);
}

TEST_CASE("guard::as<T> gives the object in place, and refuses a misaligned offset with its own error", "[typed]")
{
    auto m = memory_mapped_file::create(local(test::unique_name("typed-as-c")), 256);
    {
        auto guard = m.lock_write();
        // The WinMMF layout: data at view + 4, so an 8-byte object needs an offset of 4 mod 8.
        std::error_code ec;
        CHECK(guard.as<std::uint64_t>(0, ec) == nullptr);
        CHECK(ec == errc::misaligned);
        CHECK(guard.as<telemetry>(8, ec) == nullptr);
        CHECK(ec == errc::misaligned);
        try {
            (void)guard.as<std::uint64_t>(0);
            FAIL("as<uint64_t>(0) did not throw");
        } catch (const std::system_error& e) {
            CHECK(e.code() == errc::misaligned);
            CHECK(std::string(e.what()).find("aligned") != std::string::npos);
        }
        std::uint64_t& counter = guard.as<std::uint64_t>(4);
        counter = 99;
        telemetry& t = guard.as<telemetry>(12);
        t.sequence = 5;
        // 4-byte objects fit at offset 0.
        guard.as<std::uint32_t>(0) = 0xabcdef01u;
        const auto words = guard.as_span<std::uint32_t>(64, 4);
        CHECK(words.size() == 4);
        words[3] = 7;
        CHECK(guard.as<cache_line>(0, ec) == nullptr);
        CHECK(ec == errc::misaligned);
        CHECK(guard.as<std::uint32_t>(m.capacity() - 2, ec) == nullptr);
        CHECK(ec == errc::out_of_bounds);
        CHECK(guard.as_span<std::uint32_t>(m.capacity() - 8, 3, ec).empty());
        CHECK(ec == errc::out_of_bounds);
    }
    CHECK(m.read<std::uint64_t>(4) == 99);
    CHECK(m.read<std::uint64_t>(12) == 5);
    CHECK(m.read<std::uint32_t>(0) == 0xabcdef01u);
    CHECK(m.read<std::uint32_t>(76) == 7);

    auto reader = m.lock_read();
    const auto& read_only = reader.as<std::uint64_t>(4);
    static_assert(std::is_const_v<std::remove_reference_t<decltype(read_only)>>);
    CHECK(read_only == 99);
}

TEST_CASE("guard::as<T> on a robust mapping: data 64-byte aligned, a cache-line struct at offset 0", "[typed]")
{
    auto m = robust_memory_mapped_file::create(local(test::unique_name("typed-as-r")), 4096);
    auto guard = m.lock_write();
    cache_line& line = guard.as<cache_line>(0);
    line.words[7] = 1234;
    CHECK(guard.as<std::uint64_t>(56) == 1234);
    std::error_code ec;
    CHECK(guard.as<cache_line>(32, ec) == nullptr);
    CHECK(ec == errc::misaligned);
    guard.unlock();
    // A released guard gives nothing.
    CHECK(guard.as<std::uint64_t>(0, ec) == nullptr);
    CHECK(ec == errc::lock_violation);
}
