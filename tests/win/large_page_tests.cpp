// Large pages: the size is rounded to GetLargePageMinimum(), the section is created with
// SEC_COMMIT | SEC_LARGE_PAGES (read back from the kernel with NtQuerySection) and mapped with
// FILE_MAP_LARGE_PAGES, and the whole capacity is usable - and not one byte more.
//
// Wine grants SEC_LARGE_PAGES without SeLockMemoryPrivilege, which its default token does not
// hold; Windows refuses it (ERROR_PRIVILEGE_NOT_HELD). So under Wine the large-page path runs
// for real, while the refusal and the fallback are decided by pure functions tested in
// tests/unit/win32_rules_tests.cpp and, through the Windows-side helper, below. On a Windows
// account without the privilege, `required` must fail with errc::large_page_privilege_missing,
// which the tests check before skipping the rest.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "../child/child.hpp"
#include <test_support.hpp>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

using namespace winmmf;
using child::exit_code_for;

namespace {

std::size_t large_page() { return ::GetLargePageMinimum(); }
std::size_t small_page() { return detail::system_memory_info().page_size; }

// SectionBasicInformation: what the kernel recorded about the section (the allocation
// attributes it was created with, and its size).
struct section_basic_information {
    void* base;
    ULONG attributes;
    LARGE_INTEGER size;
};

std::optional<section_basic_information> query_section(HANDLE section)
{
    using nt_query_section = LONG(WINAPI*)(HANDLE, int, void*, SIZE_T, SIZE_T*);
    const FARPROC proc = ::GetProcAddress(::GetModuleHandleW(L"ntdll.dll"), "NtQuerySection");
    if (proc == nullptr) {
        return std::nullopt;
    }
    const auto query = reinterpret_cast<nt_query_section>(reinterpret_cast<void (*)()>(proc));
    section_basic_information info{};
    SIZE_T returned = 0;
    if (query(section, 0 /* SectionBasicInformation */, &info, sizeof info, &returned) != 0) {
        return std::nullopt;
    }
    return info;
}

std::size_t region_size(const void* address)
{
    MEMORY_BASIC_INFORMATION info{};
    REQUIRE(::VirtualQuery(address, &info, sizeof info) != 0);
    return info.RegionSize;
}

bool lock_memory_enabled()
{
    return query_privilege(lock_memory_privilege_name) == privilege_state::enabled;
}

// Creates with large pages in `mode`; skips the test (after checking the error) when Windows
// refuses `required` because the account lacks the privilege.
memory_mapped_file create_large(const std::string& name, std::size_t size, large_page_mode mode)
{
    if (large_page() == 0) {
        SKIP("GetLargePageMinimum() is 0: no large pages on this system");
    }
    std::error_code ec;
    auto m = memory_mapped_file::create(local(name), size, {.large_pages = mode}, ec);
    if (mode == large_page_mode::required && ec == errc::large_page_privilege_missing) {
        CHECK_FALSE(lock_memory_enabled());
        SKIP("this account does not hold SeLockMemoryPrivilege (\"Lock pages in memory\")");
    }
    REQUIRE_FALSE(ec);
    return m;
}

std::string hex(const std::vector<std::byte>& bytes) { return test::to_hex(bytes.data(), bytes.size()); }

std::vector<std::byte> pattern(std::size_t n, unsigned seed)
{
    std::vector<std::byte> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<std::byte>((i * 131 + seed) & 0xFF);
    }
    return out;
}

} // namespace

TEST_CASE("large pages: rounded, created and mapped with the large-page flags, fully usable", "[large_pages]")
{
    const large_page_mode mode = GENERATE(large_page_mode::required, large_page_mode::preferred);
    CAPTURE(static_cast<int>(mode));
    const std::string name = test::unique_name("large");
    auto m = create_large(name, 100, mode);
    CHECK(m.created());
    CHECK(m.size() == 100);

    if (!m.large_pages()) {
        // Only `preferred` may end up here: on Windows, without the privilege.
        REQUIRE(mode == large_page_mode::preferred);
        CHECK(m.large_page_fallback() == errc::large_page_privilege_missing);
        CHECK_FALSE(lock_memory_enabled());
        CHECK(m.section_size() == small_page()); // normal rounding again
        CHECK(m.capacity() == small_page() - 4);
    } else {
        CHECK_FALSE(m.large_page_fallback()); // did not fall back: nothing to report
        CHECK(m.section_size() == large_page());
        CHECK(m.capacity() == large_page() - 4);
        const auto info = query_section(m.native_handle());
        if (info) {
            CHECK((info->attributes & SEC_LARGE_PAGES) != 0);
            CHECK((info->attributes & SEC_COMMIT) != 0);
            CHECK(static_cast<std::uint64_t>(info->size.QuadPart) == m.section_size());
        } else {
            WARN("NtQuerySection unavailable: the section's attributes were not read back");
        }
        CHECK(region_size(m.unsynchronized_bytes().data()) >= large_page());
    }

    // The view is usable end to end: write every byte of the capacity, read it all back.
    const auto data = pattern(m.capacity(), 7);
    m.write(0, data);
    std::vector<std::byte> back(m.capacity());
    m.read(0, back);
    CHECK(back == data);
    CHECK(m.lock_policy().value() == 0);
}

TEST_CASE("writes reach exactly capacity(): the last byte is writable, the next is refused",
          "[large_pages][multiprocess]")
{
    // The seed allocated more than it was asked for and never said so. capacity() says so, and
    // is the exact boundary, for normal and for large pages, in this process and in another.
    const large_page_mode mode = GENERATE(large_page_mode::off, large_page_mode::required);
    CAPTURE(static_cast<int>(mode));
    const std::string name = test::unique_name("boundary");
    auto m = mode == large_page_mode::off ? memory_mapped_file::create(local(name), 100)
                                          : create_large(name, 100, mode);
    const std::size_t capacity = m.capacity();
    CHECK(capacity > m.size());
    CHECK(capacity == m.section_size() - 4);

    const auto tail = pattern(8, 3);
    m.write(capacity - 8, tail); // the last eight bytes
    std::error_code ec;
    const std::byte one[2] = {std::byte{0xEE}, std::byte{0xEE}};
    m.write(capacity, std::span(one, 1), ec); // one past the end
    CHECK(ec == errc::out_of_bounds);
    m.write(capacity - 1, std::span(one, 2), ec); // straddling the end
    CHECK(ec == errc::out_of_bounds);
    std::byte out[1];
    m.read(capacity, out, ec);
    CHECK(ec == errc::out_of_bounds);

    // Refusals changed nothing, and another process sees the same boundary.
    std::vector<std::byte> back(8);
    m.read(capacity - 8, back);
    CHECK(back == tail);
    CHECK(m.lock_policy().value() == 0);
    CHECK(test::run_child({"expect", "local", name, std::to_string(capacity - 8), hex(tail)}) == 0);
    CHECK(test::run_child({"write", "local", name, std::to_string(capacity - 1), "a5"}) == 0);
    CHECK(test::run_child({"write", "local", name, std::to_string(capacity), "a5"}) ==
          exit_code_for(errc::out_of_bounds));
    std::byte last[1];
    m.read(capacity - 1, last);
    CHECK(last[0] == std::byte{0xA5});

    // A guard's span is the capacity too.
    auto guard = m.lock_write();
    CHECK(guard.size() == capacity);
}

TEST_CASE("an opener of a large-page mapping maps it with FILE_MAP_LARGE_PAGES when asked", "[large_pages]")
{
    const std::string name = test::unique_name("large-open");
    auto creator = create_large(name, 3 * 1024 * 1024, large_page_mode::required);
    REQUIRE(creator.large_pages());
    CHECK(creator.section_size() == 2 * large_page());
    const auto data = pattern(64, 11);
    creator.write(creator.capacity() - data.size(), data);

    for (const large_page_mode mode : {large_page_mode::off, large_page_mode::required, large_page_mode::preferred}) {
        CAPTURE(static_cast<int>(mode));
        auto opener = memory_mapped_file::open(local(name), {.large_pages = mode});
        CHECK(opener.capacity() == creator.capacity());
        CHECK(opener.large_pages() == (mode != large_page_mode::off));
        CHECK_FALSE(opener.large_page_fallback());
        std::vector<std::byte> back(data.size());
        opener.read(opener.capacity() - data.size(), back);
        CHECK(back == data);
    }
    // A reader in another process, without any large-page option, sees the same bytes.
    CHECK(test::run_child({"expect", "local", name, std::to_string(creator.capacity() - data.size()), hex(data)}) == 0);
}

TEST_CASE("preferred, on a section without large pages, still opens", "[large_pages]")
{
    const std::string name = test::unique_name("small-open");
    auto creator = memory_mapped_file::create(local(name), 100);
    const auto data = pattern(16, 5);
    creator.write(0, data);
    auto opener = memory_mapped_file::open(local(name), {.large_pages = large_page_mode::preferred});
    REQUIRE(opener.is_open());
    std::vector<std::byte> back(data.size());
    opener.read(0, back);
    CHECK(back == data);
    // Windows 10 1703+ may refuse FILE_MAP_LARGE_PAGES here (then large_page_fallback() says
    // why); Wine and older Windows accept the flag for any section.
    CHECK(opener.large_pages() == !opener.large_page_fallback());
}

TEST_CASE("the fallback decision, through the Windows-side helper", "[large_pages]")
{
    detail::large_page_plan plan;
    REQUIRE_FALSE(detail::plan_large_pages(large_page_mode::off, plan));
    CHECK_FALSE(plan.large);
    CHECK(plan.page_size == small_page());

    if (large_page() == 0) {
        CHECK(detail::plan_large_pages(large_page_mode::required, plan) ==
              std::error_code(ERROR_NOT_SUPPORTED, std::system_category()));
        REQUIRE_FALSE(detail::plan_large_pages(large_page_mode::preferred, plan));
        CHECK_FALSE(plan.large);
        CHECK(plan.fallback == std::error_code(ERROR_NOT_SUPPORTED, std::system_category()));
        return;
    }
    REQUIRE_FALSE(detail::plan_large_pages(large_page_mode::preferred, plan));
    CHECK(plan.large);
    CHECK(plan.page_size == large_page());

    // The kernel refuses SEC_LARGE_PAGES for want of the privilege: preferred falls back and says
    // why; required does not.
    detail::large_page_plan refused = plan;
    CHECK(detail::fall_back_from_large_pages(large_page_mode::preferred, ERROR_PRIVILEGE_NOT_HELD, refused));
    CHECK_FALSE(refused.large);
    CHECK(refused.page_size == small_page());
    CHECK(refused.fallback == errc::large_page_privilege_missing);

    refused = plan;
    CHECK(detail::fall_back_from_large_pages(large_page_mode::preferred, ERROR_NO_SYSTEM_RESOURCES, refused));
    CHECK(refused.fallback == std::error_code(ERROR_NO_SYSTEM_RESOURCES, std::system_category()));

    refused = plan;
    CHECK_FALSE(detail::fall_back_from_large_pages(large_page_mode::required, ERROR_PRIVILEGE_NOT_HELD, refused));
    CHECK(refused.large);
    CHECK_FALSE(detail::fall_back_from_large_pages(large_page_mode::preferred, ERROR_ACCESS_DENIED, refused));
    CHECK(refused.large);
    CHECK(detail::create_error(object_name(local("x")), ERROR_PRIVILEGE_NOT_HELD, true) ==
          errc::large_page_privilege_missing);
    CHECK(detail::create_error(object_name(local("x")), ERROR_PRIVILEGE_NOT_HELD, false) ==
          std::error_code(ERROR_PRIVILEGE_NOT_HELD, std::system_category()));
}
