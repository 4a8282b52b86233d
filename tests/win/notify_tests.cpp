// Cross-process notification: real child processes blocked on real named events.
#include <winmmf/frame_channel.hpp>
#include <winmmf/notification.hpp>
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/child.hpp"
#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
using winmmf::test::eventually;
using child::exit_code_for;

namespace {


} // namespace

TEST_CASE("a notify with nobody waiting signals nobody and bumps the sequence", "[notify]")
{
    const std::string name = test::unique_name("notify-idle");
    auto n = notification::create(local(name));
    CHECK(n.created());
    CHECK(n.sequence() == 0);
    CHECK(n.waiting() == 0);
    CHECK(n.notify() == 0); // the "no system call" path: no waiter bit, no event touched
    CHECK(n.notify() == 0);
    CHECK(n.sequence() == 2);

    auto other = notification::open(local(name));
    CHECK_FALSE(other.created());
    CHECK(other.sequence() == 2);
}

TEST_CASE("wait returns at once when the sequence already moved", "[notify]")
{
    auto n = notification::create(local(test::unique_name("notify-moved")));
    const std::uint64_t seen = n.sequence();
    n.notify();
    std::error_code ec;
    CHECK(n.wait(seen, acquire_mode::wait_for(60s), ec) == seen + 1);
    CHECK_FALSE(ec);
    CHECK(n.wait(seen, acquire_mode::try_once()) == seen + 1);
}

TEST_CASE("a wait with nothing happening ends with timeout, max_tries_reached or try_once", "[notify]")
{
    auto n = notification::create(local(test::unique_name("notify-timeout")));
    std::error_code ec;
    CHECK(n.wait(0, acquire_mode::wait_for(30ms), ec) == 0);
    CHECK(ec == errc::timeout);
    CHECK(n.waiting() == 0); // the waiter withdrew
    n.wait(0, acquire_mode::try_once(), ec);
    CHECK(ec == errc::timeout);
    n.wait(0, acquire_mode::spin(1000), ec);
    CHECK(ec == errc::max_tries_reached);
    CHECK_THROWS_AS(n.wait(0, acquire_mode::wait_for(1ms)), std::system_error);
}

TEST_CASE("a waiter in another process times out cleanly", "[notify][multiprocess]")
{
    const std::string name = test::unique_name("notify-child-timeout");
    auto n = notification::create(local(name));
    CHECK(test::run_child({"notify-wait", "local", name, "0", "100"}) == exit_code_for(errc::timeout));
    CHECK(n.waiting() == 0);
    CHECK(n.notify() == 0);
}

TEST_CASE("a cancel from another thread ends a wait", "[notify]")
{
    const std::string name = test::unique_name("notify-cancel");
    auto n = notification::create(local(name));
    cancel_token cancel;
    std::error_code ec;
    std::atomic<bool> done{false};
    std::thread waiter([&] {
        n.wait(n.sequence(), acquire_mode::wait_for(std::chrono::hours(1)).with_cancel(cancel), ec);
        done = true;
    });
    REQUIRE(eventually([&] { return n.waiting() >= 1; }));
    CHECK_FALSE(done);
    cancel.cancel();
    waiter.join();
    CHECK(ec == errc::cancelled);
    // A cancelled token stops the next wait at once, until reset.
    n.wait(n.sequence(), acquire_mode::wait_for(std::chrono::hours(1)).with_cancel(cancel), ec);
    CHECK(ec == errc::cancelled);
    cancel.reset();
    n.wait(n.sequence(), acquire_mode::wait_for(10ms).with_cancel(cancel), ec);
    CHECK(ec == errc::timeout);
}

TEST_CASE("several processes blocked on one notification all wake for one notify", "[notify][multiprocess]")
{
    const std::string name = test::unique_name("notify-all");
    auto n = notification::create(local(name));
    constexpr int waiters = 4;
    std::vector<test::child_process> children;
    for (int i = 0; i < waiters; ++i) {
        children.push_back(test::child_process::start(L"winmmf_child.exe", {"notify-wait", "local", name, "0", "120000"}));
    }
    // Every child is announced, so every one is (about to be) asleep in the kernel.
    REQUIRE(eventually([&] { return n.waiting() == waiters; }));
    CHECK(n.notify() == waiters);
    for (auto& c : children) {
        CHECK(c.wait(test::child_timeout) == 0u);
    }
    CHECK(n.waiting() == 0);
    CHECK(n.notify() == 0);
}

TEST_CASE("a notify from another process wakes a waiter here", "[notify][multiprocess]")
{
    const std::string name = test::unique_name("notify-from-child");
    auto n = notification::create(local(name));
    std::error_code ec;
    std::uint64_t got = 0;
    std::thread waiter([&] { got = n.wait(0, acquire_mode::wait_for(120s), ec); });
    REQUIRE(eventually([&] { return n.waiting() == 1; }));
    CHECK(test::run_child({"notify-notify", "local", name, "1"}) == 0);
    waiter.join();
    CHECK_FALSE(ec);
    CHECK(got == 1);
}

TEST_CASE("two threads waiting on one object both wake", "[notify]")
{
    auto n = notification::create(local(test::unique_name("notify-two-threads")));
    std::error_code ec1, ec2;
    std::thread a([&] { n.wait(0, acquire_mode::wait_for(120s), ec1); });
    std::thread b([&] { n.wait(0, acquire_mode::wait_for(120s), ec2); });
    REQUIRE(eventually([&] { return n.waiting() == 2; }));
    CHECK(n.notify() == 2);
    a.join();
    b.join();
    CHECK_FALSE(ec1);
    CHECK_FALSE(ec2);
}

TEST_CASE("a waiter that dies while waiting is reclaimed", "[notify][multiprocess]")
{
    const std::string name = test::unique_name("notify-dead");
    auto n = notification::create(local(name));
    auto child = test::child_process::start(L"winmmf_child.exe", {"notify-wait", "local", name, "0", "120000"});
    REQUIRE(eventually([&] { return n.waiting() == 1; }));
    child.kill();
    // Its bit is still set (it could not withdraw), but its event died with it: nobody is
    // woken, and reclaiming the slot clears the bit.
    CHECK(n.waiting() == 1);
    CHECK(n.notify() == 0);
    CHECK(n.reclaim_abandoned_waiters() == 1);
    CHECK(n.waiting() == 0);
    CHECK(n.reclaim_abandoned_waiters() == 0);

    // The slot is usable again.
    std::error_code ec;
    std::thread waiter([&] { n.wait(n.sequence(), acquire_mode::wait_for(120s), ec); });
    REQUIRE(eventually([&] { return n.waiting() == 1; }));
    CHECK(n.notify() == 1);
    waiter.join();
    CHECK_FALSE(ec);
}

TEST_CASE("the 65th simultaneous waiter is refused with too_many_waiters", "[notify]")
{
    const std::string name = test::unique_name("notify-full");
    auto n = notification::create(local(name));
    cancel_token cancel;
    std::vector<notification> objects;
    std::vector<std::thread> threads;
    std::vector<std::error_code> errors(protocol::max_waiters);
    for (std::uint32_t i = 0; i < protocol::max_waiters; ++i) {
        objects.push_back(notification::open(local(name)));
    }
    for (std::uint32_t i = 0; i < protocol::max_waiters; ++i) {
        threads.emplace_back([&, i] { objects[i].wait(0, acquire_mode::wait_for(120s).with_cancel(cancel), errors[i]); });
    }
    REQUIRE(eventually([&] { return n.waiting() == protocol::max_waiters; }));
    std::error_code ec;
    n.wait(0, acquire_mode::wait_for(120s), ec);
    CHECK(ec == errc::too_many_waiters);
    cancel.cancel();
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& e : errors) {
        CHECK(e == errc::cancelled);
    }
    CHECK(n.waiting() == 0);
}

TEST_CASE("notifications, channels and WinMMF mappings are never mistaken for each other", "[notify][layout]")
{
    const std::string plain = test::unique_name("plain");
    auto mapping = memory_mapped_file::create(local(plain), 4096);
    std::error_code ec;
    auto n1 = notification::open(local(plain), ec);
    CHECK(ec == errc::wrong_layout);
    CHECK_FALSE(n1.is_open());
    auto r1 = frame_reader::open(local(plain), ec);
    CHECK(ec == errc::wrong_layout);
    auto w1 = frame_writer::open(local(plain), ec);
    CHECK(ec == errc::wrong_layout);
    CHECK(mapping.lock_policy().value() == 0); // untouched

    const std::string notify_name = test::unique_name("a-notification");
    auto n = notification::create(local(notify_name));
    auto m2 = memory_mapped_file::open(local(notify_name), ec);
    CHECK(ec == errc::wrong_lock_policy);
    auto r2 = frame_reader::open(local(notify_name), ec);
    CHECK(ec == errc::wrong_layout);

    const std::string channel_name = test::unique_name("a-channel");
    auto w = frame_writer::create(local(channel_name), {.max_frame_size = 1000});
    auto m3 = memory_mapped_file::open(local(channel_name), ec);
    CHECK(ec == errc::wrong_lock_policy);
    auto m4 = basic_memory_mapped_file<no_lock>::open(local(channel_name), ec);
    CHECK(ec == errc::wrong_lock_policy);
    auto n3 = notification::open(local(channel_name), ec);
    CHECK(ec == errc::wrong_layout);
    // A WinMMF peer (written from the protocol, without winmmf) sees an uninitialized lock.
    CHECK(test::run_peer({"try-read", "Local\\" + channel_name, "100"}) == 40);
    CHECK(test::run_peer({"try-write", "Local\\" + channel_name, "100"}) == 40);
}

TEST_CASE("a name without room for its events' names is refused up front", "[notify]")
{
    std::error_code ec;
    const std::string long_name(max_name_length - 6 - 10, 'n'); // fits a mapping, not its events
    auto n = notification::create(local(long_name), ec);
    CHECK(ec == errc::name_too_long);
    auto w = frame_writer::create(local(long_name), {.max_frame_size = 100}, ec);
    CHECK(ec == errc::name_too_long);
    auto m = memory_mapped_file::create(local(long_name), 100, ec);
    CHECK_FALSE(ec); // the name itself is fine for a plain mapping
}

TEST_CASE("name_for derives the notification of a mapping", "[notify]")
{
    const std::string name = test::unique_name("with-notify");
    auto m = memory_mapped_file::create(local(name), 100);
    const object_name derived = notification::name_for(m.name());
    CHECK(derived.to_utf8() == "Local\\" + name + ".notify");
    auto n = notification::create(custom(derived.full()));
    CHECK(n.name() == derived);
}
