// winmmf against a WinMMF peer that follows the protocol by hand (tests/peer): each side sees
// the other's locks, and data written by one is read by the other.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <cstring>
#include <string>
#include <vector>

using namespace winmmf;

namespace {

// The peer's exit codes for a refused lock (see raw_winmmf_peer.cpp).
constexpr long peer_write_locked = 41;
constexpr long peer_read_locked = 42;
constexpr long peer_mismatch = 10;

std::string hex(std::string_view s) { return test::to_hex(s.data(), s.size()); }

} // namespace

TEST_CASE("the peer reads what winmmf wrote, and winmmf reads what the peer wrote", "[peer]")
{
    const std::string name = test::unique_name("peer-data");
    const std::string full = "Local\\" + name;
    auto m = memory_mapped_file::create(local(name), 1000);
    const std::string ours = "from winmmf";
    m.write(0, std::as_bytes(std::span(ours)));
    CHECK(test::run_peer({"expect", full, "1000", hex(ours)}) == 0);
    CHECK(test::run_peer({"expect", full, "1000", hex("not this")}) == peer_mismatch);

    const std::string theirs = "from the raw peer";
    REQUIRE(test::run_peer({"write", full, "1000", hex(theirs)}) == 0);
    std::string got(theirs.size(), '\0');
    m.read(0, std::as_writable_bytes(std::span(got)));
    CHECK(got == theirs);
    CHECK(m.lock_policy().value() == 0);
}

TEST_CASE("winmmf opens a mapping the peer created with WinMMF's size + 4 layout", "[peer]")
{
    const std::string name = test::unique_name("peer-creates");
    auto ready = test::named_event::create(name + "-ready");
    auto release = test::named_event::create(name + "-release");
    auto peer = test::child_process::start(L"winmmf_raw_peer.exe",
                                           {"create-hold", "Local\\" + name, "5000", hex("peer made me"),
                                            name + "-ready", name + "-release"});
    REQUIRE(ready.wait_or_exit(peer.handle()));

    auto m = memory_mapped_file::open(local(name), open_options{.expected_size = 5000});
    CHECK(m.size() == 5000);
    CHECK(m.capacity() >= 5000);
    std::string got(12, '\0');
    m.read(0, std::as_writable_bytes(std::span(got)));
    CHECK(got == "peer made me");
    release.set();
    CHECK(peer.wait(test::child_timeout) == 0u);
}

TEST_CASE("the peer sees winmmf's locks", "[peer]")
{
    const std::string name = test::unique_name("peer-sees");
    const std::string full = "Local\\" + name;
    auto m = memory_mapped_file::create(local(name), 64);
    {
        auto w = m.lock_write();
        CHECK(test::run_peer({"try-read", full, "64"}) == peer_write_locked);
        CHECK(test::run_peer({"try-write", full, "64"}) == peer_write_locked);
    }
    {
        auto r = m.lock_read();
        CHECK(test::run_peer({"try-write", full, "64"}) == peer_read_locked);
        CHECK(test::run_peer({"try-read", full, "64"}) == 0); // shared with us
        CHECK(m.lock_policy().value() == 1);                  // and released again
    }
    CHECK(test::run_peer({"try-write", full, "64"}) == 0);
}

TEST_CASE("winmmf sees the peer's locks", "[peer]")
{
    const std::string name = test::unique_name("peer-holds");
    const std::string full = "Local\\" + name;
    auto m = memory_mapped_file::create(local(name), 64);
    for (const std::string mode : {"hold-write", "hold-read"}) {
        auto ready = test::named_event::create(name + mode + "-ready");
        auto release = test::named_event::create(name + mode + "-release");
        auto peer = test::child_process::start(
            L"winmmf_raw_peer.exe", {mode, full, "64", name + mode + "-ready", name + mode + "-release"});
        REQUIRE(ready.wait_or_exit(peer.handle()));
        std::error_code ec;
        if (mode == "hold-write") {
            CHECK(m.lock_policy().value() == 0x80000000u);
            auto r = m.try_lock_read(ec);
            CHECK(ec == errc::write_locked);
        } else {
            CHECK(m.lock_policy().value() == 1);
            auto r = m.try_lock_read(ec);
            CHECK_FALSE(ec); // readers share across implementations
            r.unlock();
        }
        auto w = m.try_lock_write(ec);
        CHECK(ec == (mode == "hold-write" ? errc::write_locked : errc::read_locked));
        release.set();
        CHECK(peer.wait(test::child_timeout) == 0u);
        CHECK(m.lock_policy().value() == 0);
    }
}

TEST_CASE("winmmf processes and raw peers increment one counter exactly", "[peer][contention]")
{
    const std::string name = test::unique_name("peer-counter");
    const std::string full = "Local\\" + name;
    constexpr unsigned long per_process = 50000;
    auto m = memory_mapped_file::create(local(name), 64);
    auto start = test::named_event::create(name + "-start");
    std::vector<test::child_process> procs;
    for (int i = 0; i < 2; ++i) {
        procs.push_back(test::child_process::start(
            L"winmmf_child.exe", {"increment", "local", name, std::to_string(per_process), name + "-start"}));
        procs.push_back(test::child_process::start(
            L"winmmf_raw_peer.exe", {"increment", full, "64", std::to_string(per_process), name + "-start"}));
    }
    start.set();
    for (auto& p : procs) {
        CHECK(p.wait(std::chrono::minutes(10)) == 0u);
    }
    std::uint64_t total = 0;
    m.read(0, std::as_writable_bytes(std::span(&total, 1)));
    CHECK(total == 4 * per_process);
}
