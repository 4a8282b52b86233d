// Real child processes opening the same mapping by name, in Local\ and in Global\.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "../child/child.hpp"
#include <test_support.hpp>

#include <cstring>
#include <string>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
using child::exit_code_for;

namespace {

name_ref in_scope(const std::string& scope, const std::string& name)
{
    return test::parse_name(scope, name);
}

std::string hex(std::string_view s) { return test::to_hex(s.data(), s.size()); }

} // namespace

TEST_CASE("content travels both ways between processes", "[multiprocess]")
{
    const std::string scope = GENERATE("local", "global");
    const std::string name = test::unique_name("both-ways-" + scope);
    auto m = memory_mapped_file::create(in_scope(scope, name), 4096);
    const std::string from_parent = "written by the parent";
    m.write(0, std::as_bytes(std::span(from_parent)));

    CHECK(test::run_child({"expect", scope, name, "0", hex(from_parent)}) == 0);
    CHECK(test::run_child({"expect", scope, name, "0", hex("something else")}) == child::exit_mismatch);

    const std::string from_child = "written by the child";
    REQUIRE(test::run_child({"write", scope, name, "100", hex(from_child)}) == 0);
    std::string back(from_child.size(), '\0');
    m.read(100, std::as_writable_bytes(std::span(back)));
    CHECK(back == from_child);
}

TEST_CASE("a mapping created by a child is opened by the parent", "[multiprocess]")
{
    const std::string scope = GENERATE("local", "global");
    const std::string name = test::unique_name("child-creates-" + scope);
    auto ready = test::named_event::create(name + "-ready");
    auto release = test::named_event::create(name + "-release");
    auto child = test::child_process::start(
        L"winmmf_child.exe", {"create-hold", scope, name, "6000", hex("from the creator"),
                              name + "-ready", name + "-release"});
    REQUIRE(ready.wait_or_exit(child.handle()));

    auto m = memory_mapped_file::open(in_scope(scope, name));
    CHECK_FALSE(m.created());
    CHECK(m.capacity() == 2 * detail::system_memory_info().page_size - 4); // size from the kernel
    std::string got(16, '\0');
    m.read(0, std::as_writable_bytes(std::span(got)));
    CHECK(got == "from the creator");

    release.set();
    CHECK(child.wait(test::child_timeout) == 0u);
}

TEST_CASE("readers share the lock across processes; a writer waits for them", "[multiprocess]")
{
    const std::string scope = GENERATE("local", "global");
    const std::string name = test::unique_name("shared-" + scope);
    auto m = memory_mapped_file::create(in_scope(scope, name), 100);
    auto ready = test::named_event::create(name + "-ready");
    auto release = test::named_event::create(name + "-release");

    auto parent_read = m.lock_read();
    auto reader = test::child_process::start(L"winmmf_child.exe",
                                             {"hold-read", scope, name, name + "-ready", name + "-release"});
    REQUIRE(ready.wait_or_exit(reader.handle())); // the child got a read lock while we hold one
    CHECK(m.lock_policy().value() == 2);

    // A third process, and this one, are refused the write lock while readers hold it.
    CHECK(test::run_child({"try-write", scope, name}) == exit_code_for(errc::read_locked));
    std::error_code ec;
    auto w = m.try_lock_write(ec);
    CHECK(ec == errc::read_locked);
    // ...but a further reader is welcome.
    CHECK(test::run_child({"try-read", scope, name}) == 0);

    parent_read.unlock();
    release.set();
    CHECK(reader.wait(test::child_timeout) == 0u);
    CHECK(m.lock_policy().value() == 0);
    CHECK(test::run_child({"try-write", scope, name}) == 0);
}

TEST_CASE("a writer in another process excludes readers and writers", "[multiprocess]")
{
    const std::string scope = GENERATE("local", "global");
    const std::string name = test::unique_name("exclusive-" + scope);
    auto m = memory_mapped_file::create(in_scope(scope, name), 100);
    auto ready = test::named_event::create(name + "-ready");
    auto release = test::named_event::create(name + "-release");

    auto writer = test::child_process::start(L"winmmf_child.exe",
                                             {"hold-write", scope, name, name + "-ready", name + "-release"});
    REQUIRE(ready.wait_or_exit(writer.handle()));
    CHECK(m.lock_policy().value() == 0x80000000u);

    std::error_code ec;
    auto r = m.try_lock_read(ec);
    CHECK(ec == errc::write_locked);
    auto w = m.lock_write(acquire_mode::wait_for(50ms), ec);
    CHECK(ec == errc::timeout);
    CHECK(test::run_child({"try-read", scope, name}) == exit_code_for(errc::write_locked));
    CHECK(test::run_child({"try-write", scope, name}) == exit_code_for(errc::write_locked));

    // A waiting reader gets in as soon as the writer lets go.
    release.set();
    auto after = m.lock_read(acquire_mode::wait_for(60s), ec);
    CHECK_FALSE(ec);
    CHECK(writer.wait(test::child_timeout) == 0u);
}

TEST_CASE("a read-only child cannot write, and the data stays as it was", "[multiprocess]")
{
    const std::string scope = GENERATE("local", "global");
    const std::string name = test::unique_name("ro-" + scope);
    auto m = memory_mapped_file::create(in_scope(scope, name), 100);
    const std::string original = "original";
    m.write(0, std::as_bytes(std::span(original)));

    CHECK(test::run_child({"readonly-write", scope, name, "0", hex("CLOBBER!")}) ==
          exit_code_for(errc::read_only));
    CHECK(test::run_child({"expect", scope, name, "0", hex(original), "read-only"}) == 0);
    std::string after(original.size(), '\0');
    m.read(0, std::as_writable_bytes(std::span(after)));
    CHECK(after == original);
    CHECK(m.lock_policy().value() == 0);
}

TEST_CASE("four processes x 100,000 locked increments give an exact count", "[multiprocess][contention]")
{
    const std::string scope = GENERATE("local", "global");
    const std::string name = test::unique_name("counter-" + scope);
    constexpr int processes = 4;
    constexpr unsigned long per_process = 100000;
    auto m = memory_mapped_file::create(in_scope(scope, name), sizeof(std::uint64_t));
    auto start = test::named_event::create(name + "-start");

    std::vector<test::child_process> children;
    for (int i = 0; i < processes; ++i) {
        children.push_back(test::child_process::start(
            L"winmmf_child.exe", {"increment", scope, name, std::to_string(per_process), name + "-start"}));
    }
    start.set(); // all start together, so they really contend
    for (auto& c : children) {
        CHECK(c.wait(std::chrono::minutes(10)) == 0u);
    }
    std::uint64_t total = 0;
    m.read(0, std::as_writable_bytes(std::span(&total, 1)));
    CHECK(total == processes * per_process);
    CHECK(m.lock_policy().value() == 0);
}
