// Single-process behaviour of basic_memory_mapped_file against the real Win32 API.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <array>
#include <cstring>
#include <string>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;

namespace {

std::vector<std::byte> bytes_of(std::string_view s)
{
    std::vector<std::byte> out(s.size());
    std::memcpy(out.data(), s.data(), s.size());
    return out;
}

std::string read_string(const memory_mapped_file& m, std::size_t offset, std::size_t length)
{
    std::string out(length, '\0');
    m.read(offset, std::as_writable_bytes(std::span(out)));
    return out;
}

} // namespace

TEST_CASE("create, write, open elsewhere and read back", "[mapping]")
{
    const std::string name = test::unique_name("basic");
    auto creator = memory_mapped_file::create(local(name), 100);
    CHECK(creator.is_open());
    CHECK(creator.created());
    CHECK(creator.size() == 100);
    CHECK(creator.capacity() == detail::system_memory_info().page_size - 4);
    CHECK(creator.writable());
    CHECK(creator.name().to_utf8() == "Local\\" + name);
    creator.write(10, bytes_of("hello"));

    auto opener = memory_mapped_file::open(local(name));
    CHECK_FALSE(opener.created());
    CHECK(opener.capacity() == creator.capacity());
    CHECK(opener.size() == opener.capacity()); // no expected size: the size comes from the kernel
    CHECK(read_string(opener, 10, 5) == "hello");
}

TEST_CASE("the lock word sits at offset 0 and user data at offset 4", "[mapping]")
{
    const std::string name = test::unique_name("layout");
    auto m = memory_mapped_file::create(local(name), 64);
    m.write(0, bytes_of("ABCD"));
    const HANDLE section = ::OpenFileMappingW(FILE_MAP_READ, FALSE, test::widen("Local\\" + name).c_str());
    REQUIRE(section != nullptr);
    const auto* raw = static_cast<const unsigned char*>(::MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0));
    REQUIRE(raw != nullptr);
    std::uint32_t word = 0;
    std::memcpy(&word, raw, 4);
    CHECK(word == 0); // initialised and free
    CHECK(std::memcmp(raw + 4, "ABCD", 4) == 0);
    {
        auto guard = m.lock_write();
        std::memcpy(&word, raw, 4);
        CHECK(word == 0x80000000u);
    }
    {
        auto g1 = m.lock_read();
        auto g2 = m.lock_read();
        std::memcpy(&word, raw, 4);
        CHECK(word == 2);
    }
    ::UnmapViewOfFile(raw);
    ::CloseHandle(section);
}

TEST_CASE("create refuses a taken name and leaves the existing mapping intact", "[mapping]")
{
    const std::string name = test::unique_name("exists");
    auto first = memory_mapped_file::create(local(name), 100);
    first.write(0, bytes_of("keep"));

    std::error_code ec;
    auto second = memory_mapped_file::create(local(name), 1 << 20, ec);
    CHECK(ec == errc::already_exists);
    CHECK_FALSE(second.is_open());
    CHECK(read_string(first, 0, 4) == "keep");
    CHECK(first.lock_policy().value() == 0);
    CHECK_THROWS_AS(memory_mapped_file::create(local(name), 100), std::system_error);

    // The refused create closed its handle: once `first` goes, the name is free again.
    first.close();
    auto third = memory_mapped_file::create(local(name), 100, ec);
    CHECK_FALSE(ec);
    CHECK(third.created());
}

TEST_CASE("open reports not_found, and the message names the namespace searched", "[mapping]")
{
    const std::string name = test::unique_name("missing");
    std::error_code ec;
    auto m = memory_mapped_file::open(local(name), ec);
    CHECK(ec == errc::not_found);
    CHECK_FALSE(m.is_open());
    try {
        (void)memory_mapped_file::open(global(name));
        FAIL("open of a missing mapping did not throw");
    } catch (const std::system_error& e) {
        CHECK(e.code() == errc::not_found);
        CHECK(std::string(e.what()).find("Global\\" + name) != std::string::npos);
    }
}

TEST_CASE("Local and Global are different namespaces", "[mapping]")
{
    const std::string name = test::unique_name("scopes");
    auto in_local = memory_mapped_file::create(local(name), 100);
    std::error_code ec;
    (void)memory_mapped_file::open(global(name), ec);
    CHECK(ec == errc::not_found);
    auto in_global = memory_mapped_file::create(global(name), 100, ec);
    CHECK_FALSE(ec);
    in_local.write(0, bytes_of("L"));
    in_global.write(0, bytes_of("G"));
    CHECK(read_string(memory_mapped_file::open(local(name)), 0, 1) == "L");
    CHECK(read_string(memory_mapped_file::open(global(name)), 0, 1) == "G");
}

TEST_CASE("open_or_create says which one happened", "[mapping]")
{
    const std::string name = test::unique_name("ooc");
    auto a = memory_mapped_file::open_or_create(local(name), 5000);
    CHECK(a.created());
    CHECK(a.size() == 5000);
    CHECK(a.capacity() == 2 * detail::system_memory_info().page_size - 4);
    a.write(0, bytes_of("first"));

    auto b = memory_mapped_file::open_or_create(local(name), 5000);
    CHECK_FALSE(b.created());
    CHECK(b.size() == 5000);
    CHECK(b.capacity() == a.capacity());
    CHECK(read_string(b, 0, 5) == "first"); // the opener did not re-initialise anything

    std::error_code ec;
    auto c = memory_mapped_file::open_or_create(local(name), 1 << 20, ec);
    CHECK(ec == errc::too_large);
    CHECK_FALSE(c.is_open());
}

TEST_CASE("an expected size larger than the mapping is refused", "[mapping]")
{
    const std::string name = test::unique_name("expected");
    auto m = memory_mapped_file::create(local(name), 100);
    std::error_code ec;
    auto fits = memory_mapped_file::open(local(name), open_options{.expected_size = m.capacity()}, ec);
    CHECK_FALSE(ec);
    CHECK(fits.size() == m.capacity());
    auto too_big = memory_mapped_file::open(local(name), open_options{.expected_size = m.capacity() + 1}, ec);
    CHECK(ec == errc::too_large);
    CHECK_FALSE(too_big.is_open());
}

TEST_CASE("a read-only view refuses writes and write locks with an error", "[mapping]")
{
    const std::string name = test::unique_name("ro");
    auto owner = memory_mapped_file::create(local(name), 100);
    owner.write(0, bytes_of("data"));
    auto ro = memory_mapped_file::open(local(name), open_options{.access = access_mode::read_only});
    CHECK_FALSE(ro.writable());

    std::error_code ec;
    ro.write(0, bytes_of("XXXX"), ec);
    CHECK(ec == errc::read_only);
    auto w = ro.lock_write(ec);
    CHECK(ec == errc::read_only);
    CHECK_FALSE(w);
    // The shared lock would have to write the lock word, which this view cannot do.
    auto r = ro.lock_read(ec);
    CHECK(ec == errc::read_only);
    CHECK_FALSE(r);
    CHECK_THROWS_AS(ro.write(0, bytes_of("X")), std::system_error);

    const auto raw = ro.unsynchronized_bytes();
    CHECK(std::memcmp(raw.data(), "data", 4) == 0);
    CHECK(owner.lock_policy().value() == 0);

    // With no_lock nothing is written to the header, so reading needs no write access.
    auto ro_nolock = basic_memory_mapped_file<no_lock>::open(local(name), open_options{.access = access_mode::read_only});
    std::array<std::byte, 4> out{};
    ro_nolock.read(0, out, ec);
    CHECK_FALSE(ec);
    CHECK(std::memcmp(out.data(), "data", 4) == 0);
    ro_nolock.write(0, out, ec);
    CHECK(ec == errc::read_only);
}

TEST_CASE("reads and writes are bounded by capacity, with no wrap-around", "[mapping]")
{
    const std::string name = test::unique_name("bounds");
    auto m = memory_mapped_file::create(local(name), 100);
    const std::size_t cap = m.capacity();
    std::vector<std::byte> block(cap, std::byte{0x5A});
    std::error_code ec;
    m.write(0, block, ec);
    CHECK_FALSE(ec);
    m.write(cap - 1, std::span(block).first(1), ec);
    CHECK_FALSE(ec);
    m.write(cap, std::span(block).first(1), ec);
    CHECK(ec == errc::out_of_bounds);
    m.write(1, block, ec);
    CHECK(ec == errc::out_of_bounds);
    m.write(SIZE_MAX, std::span(block).first(2), ec);
    CHECK(ec == errc::out_of_bounds);
    std::array<std::byte, 2> two{};
    m.read(SIZE_MAX - 1, two, ec);
    CHECK(ec == errc::out_of_bounds);
    m.read(cap, std::span<std::byte>{}, ec);
    CHECK_FALSE(ec); // an empty read at the very end is in bounds
    CHECK(m.lock_policy().value() == 0); // refused calls never touched the lock
    std::vector<std::byte> check(cap);
    m.read(0, check);
    CHECK(check == block);
}

TEST_CASE("guards give spans over the whole capacity and release on destruction", "[mapping]")
{
    const std::string name = test::unique_name("guards");
    auto m = memory_mapped_file::create(local(name), 100);
    {
        write_guard w = m.lock_write();
        REQUIRE(w);
        CHECK(w.bytes().size() == m.capacity());
        std::memcpy(w.data(), "span", 4);
        std::error_code ec;
        auto r = m.try_lock_read(ec);
        CHECK(ec == errc::write_locked);
        auto w2 = m.try_lock_write(ec);
        CHECK(ec == errc::write_locked);
    }
    {
        read_guard r1 = m.lock_read();
        read_guard r2 = m.try_lock_read();
        CHECK(std::memcmp(r2.data(), "span", 4) == 0);
        CHECK(m.lock_policy().value() == 2);
        std::error_code ec;
        auto w = m.try_lock_write(ec);
        CHECK(ec == errc::read_locked);
        read_guard moved = std::move(r1);
        CHECK_FALSE(r1);
        CHECK(moved);
        CHECK(m.lock_policy().value() == 2);
        r1.unlock(ec);
        CHECK(ec == errc::lock_violation); // unlocking a moved-from guard is refused
        moved.unlock(ec);
        CHECK_FALSE(ec);
        CHECK(m.lock_policy().value() == 1);
    }
    CHECK(m.lock_policy().value() == 0);
}

TEST_CASE("a guard stays valid when its mapping object is moved", "[mapping]")
{
    const std::string name = test::unique_name("moveguard");
    auto m = memory_mapped_file::create(local(name), 100);
    write_guard w = m.lock_write();
    memory_mapped_file moved = std::move(m);
    std::memcpy(w.data(), "ok", 2);
    w.unlock();
    CHECK(moved.lock_policy().value() == 0);
    CHECK(read_string(moved, 0, 2) == "ok");
}

TEST_CASE("timeouts and explicit modes on a held lock", "[mapping]")
{
    const std::string name = test::unique_name("modes");
    auto m = memory_mapped_file::create(local(name), 100);
    auto other = memory_mapped_file::open(local(name));
    auto held = m.lock_write();
    std::error_code ec;
    auto a = other.lock_write(acquire_mode::wait_for(30ms), ec);
    CHECK(ec == errc::timeout);
    auto b = other.lock_read(acquire_mode::spin(1000), ec);
    CHECK(ec == errc::max_tries_reached);
    other.set_default_acquire(acquire_mode::try_once());
    std::array<std::byte, 1> one{};
    other.read(0, one, ec);
    CHECK(ec == errc::write_locked);
    CHECK_THROWS_AS(other.lock_read(), std::system_error);
    held.unlock();
    auto c = other.lock_write(acquire_mode::spin_forever(), ec);
    CHECK_FALSE(ec);
    CHECK(c);
}

TEST_CASE("use after close and after move is an error, not a crash", "[mapping]")
{
    const std::string name = test::unique_name("closed");
    auto m = memory_mapped_file::create(local(name), 100);
    memory_mapped_file moved_to = std::move(m);
    std::error_code ec;
    std::array<std::byte, 1> one{};
    m.read(0, one, ec);
    CHECK(ec == errc::not_open);
    m.write(0, one, ec);
    CHECK(ec == errc::not_open);
    auto g = m.lock_write(ec);
    CHECK(ec == errc::not_open);
    CHECK(m.unsynchronized_bytes().empty());

    moved_to.close();
    CHECK_FALSE(moved_to.is_open());
    moved_to.read(0, one, ec);
    CHECK(ec == errc::not_open);
    CHECK_THROWS_AS(moved_to.write(0, one), std::system_error);
    moved_to.close(ec); // closing twice is fine
    CHECK_FALSE(ec);

    // Closed for good: the name is gone once the last handle is.
    (void)memory_mapped_file::open(local(name), ec);
    CHECK(ec == errc::not_found);
}

TEST_CASE("invalid names and sizes are refused before any kernel object is made", "[mapping]")
{
    std::error_code ec;
    (void)memory_mapped_file::create(local(""), 100, ec);
    CHECK(ec == errc::empty_name);
    (void)memory_mapped_file::create(local("a\\b"), 100, ec);
    CHECK(ec == errc::name_contains_backslash);
    (void)memory_mapped_file::create(local("bad\xff"), 100, ec);
    CHECK(ec == errc::invalid_utf8);
    (void)memory_mapped_file::create(local(std::string(300, 'n')), 100, ec);
    CHECK(ec == errc::name_too_long);
    const std::string name = test::unique_name("size");
    (void)memory_mapped_file::create(local(name), 0, ec);
    CHECK(ec == errc::zero_size);
    (void)memory_mapped_file::create(local(name), SIZE_MAX, ec);
    CHECK(ec == errc::size_overflow);
    (void)memory_mapped_file::open(local(name), ec);
    CHECK(ec == errc::not_found); // nothing was left behind
}

TEST_CASE("Win32 failures keep their GetLastError value in the system category", "[mapping]")
{
    std::error_code ec;
    (void)memory_mapped_file::create(custom("Bogus\\" + test::unique_name("ns")), 100, ec);
    CHECK(ec.category() == std::system_category());
    CHECK(ec.value() == ERROR_PATH_NOT_FOUND);

    // A name taken by another kind of kernel object.
    const std::string name = test::unique_name("event");
    const HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, test::widen("Local\\" + name).c_str());
    REQUIRE(event != nullptr);
    (void)memory_mapped_file::create(local(name), 100, ec);
    CHECK(ec.category() == std::system_category());
    CHECK(ec.value() == ERROR_INVALID_HANDLE);
    ::CloseHandle(event);
}

TEST_CASE("UTF-8 and UTF-16 spellings reach the same kernel object", "[mapping]")
{
    const std::string base = test::unique_name("utf");
    const std::string utf8 = base + "-kam\xc3\xa9ra-\xf0\x9f\x93\xb7";
    auto m = memory_mapped_file::create(local(utf8), 100);
    m.write(0, bytes_of("u"));
    const std::wstring utf16 = test::widen(utf8);
    auto w = memory_mapped_file::open(local(std::wstring_view(utf16)));
    CHECK(read_string(w, 0, 1) == "u");
    CHECK(w.name().to_utf8() == "Local\\" + utf8);
}

TEST_CASE("a mapping made without winmmf is opened with its kernel size", "[mapping]")
{
    const std::string name = test::unique_name("foreign");
    const HANDLE section = ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, 5000,
                                                test::widen("Local\\" + name).c_str());
    REQUIRE(section != nullptr);
    auto m = memory_mapped_file::open(local(name)); // zero-filled: a free WinMMF word
    CHECK(m.capacity() == 2 * detail::system_memory_info().page_size - 4);
    CHECK(m.lock_policy().value() == 0);
    ::CloseHandle(section);
}

TEST_CASE("an impossible lock word is reported when opening and when locking", "[mapping]")
{
    const std::string name = test::unique_name("corrupt");
    auto m = basic_memory_mapped_file<no_lock>::create(local(name), 100);
    auto raw = m.lock_write();
    const std::uint32_t corrupt = 0x80000005u;
    std::memcpy(raw.data() - 4, &corrupt, 4);

    std::error_code ec;
    auto opened = memory_mapped_file::open(local(name), ec);
    CHECK(ec == errc::corrupt_lock_word);
    CHECK_FALSE(opened.is_open());

    const std::uint32_t foreign = 0xFF524F42u;
    std::memcpy(raw.data() - 4, &foreign, 4);
    (void)memory_mapped_file::open(local(name), ec);
    CHECK(ec == errc::wrong_lock_policy);
}
