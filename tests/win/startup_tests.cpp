// Reader-first start-up (open with {.wait = ...}) and a mapping's change notification
// (wait_for_change): readers in other processes, started before their writer, real sections
// and events under Wine.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/child.hpp"
#include "../child/frame_pattern.hpp"
#include "channel_fixtures.hpp"
#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
using test::eventually;

namespace {

// A reader process started before its object: it must still be waiting after a while.
test::child_process start_early_reader(const std::string& kind, const std::string& name)
{
    auto reader = test::child_process::start(L"winmmf_child.exe", {"open-wait", kind, "local", name, "60000"});
    ::Sleep(300);
    REQUIRE_FALSE(reader.wait(0ms).has_value());
    return reader;
}

} // namespace

TEST_CASE("reader-first: a mapping opened in another process before it exists is opened once it does",
          "[startup][multiprocess]")
{
    const std::string name = test::unique_name("rf-map");
    auto reader = start_early_reader("mapping", name);
    auto m = memory_mapped_file::create(local(name), 64);
    m.write(0, std::uint32_t{77});
    CHECK(reader.wait() == 0u);
}

TEST_CASE("reader-first: a notification and a frame reader wait for their creator the same way",
          "[startup][multiprocess][channel]")
{
    const std::string name = test::unique_name("rf-more");
    auto waiter = start_early_reader("notification", name + "-n");
    auto taker = start_early_reader("frame", name + "-f");
    auto n = notification::create(local(name + "-n"));
    auto w = frame_writer::create(local(name + "-f"), {.max_frame_size = 4096});
    // Both are open (or about to be) and wait: for the next change, for the first frame.
    REQUIRE(eventually([&] { return (n.waiting() == 1 && w.waiting() == 1) || waiter.wait(0ms) || taker.wait(0ms); }));
    n.notify();
    std::vector<std::byte> frame(4096);
    test::publish_pattern(w, frame);
    CHECK(waiter.wait() == 0u);
    CHECK(taker.wait() == 0u);
}

TEST_CASE("reader-first: the wait is bounded, cancellable, and off by default", "[startup]")
{
    const std::string name = test::unique_name("rf-bound");
    std::error_code ec;
    // The default: one look, not_found at once, as ever.
    (void)memory_mapped_file::open(local(name), ec);
    CHECK(ec == errc::not_found);
    // A bounded wait for something that never comes ends at its bound with the same answer.
    auto start = std::chrono::steady_clock::now();
    (void)memory_mapped_file::open(local(name), {.wait = acquire_mode::wait_for(300ms)}, ec);
    CHECK(ec == errc::not_found);
    CHECK(std::chrono::steady_clock::now() - start >= 300ms);
    start = std::chrono::steady_clock::now();
    (void)frame_reader::open(local(name), {.wait = acquire_mode::wait_for(200ms)}, ec);
    CHECK(ec == errc::not_found);
    (void)notification::open(local(name), {.wait = acquire_mode::wait_for(200ms)}, ec);
    CHECK(ec == errc::not_found);
    CHECK(std::chrono::steady_clock::now() - start >= 400ms);
    // spin(n): n looks.
    (void)memory_mapped_file::open(local(name), {.wait = acquire_mode::spin(3)}, ec);
    CHECK(ec == errc::not_found);
    // A cancel from another thread ends a long wait early.
    cancel_token cancel;
    std::thread canceller([&] {
        ::Sleep(200);
        cancel.cancel();
    });
    start = std::chrono::steady_clock::now();
    (void)memory_mapped_file::open(local(name), {.wait = acquire_mode::wait_for(60s).with_cancel(cancel)}, ec);
    canceller.join();
    CHECK(ec == errc::cancelled);
    CHECK(std::chrono::steady_clock::now() - start < 30s);
    // Errors that waiting cannot change come at once: another layout under the name.
    auto robust = robust_memory_mapped_file::create(local(name + "-r"), 64);
    start = std::chrono::steady_clock::now();
    (void)memory_mapped_file::open(local(name + "-r"), {.wait = acquire_mode::wait_for(30s)}, ec);
    CHECK(ec == errc::wrong_lock_policy);
    CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("reader-first: a WinMMF-layout mapping whose creator has not published yet is waited for",
          "[startup][compat]")
{
    // What a WinMMF creator leaves between its two stores: the word says "uninitialized".
    const std::string name = test::unique_name("rf-uninit");
    const std::wstring wide = L"Local\\" + std::wstring(name.begin(), name.end());
    const detail::unique_handle section(
        ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, 4096, wide.c_str()));
    REQUIRE(section);
    const detail::unique_view raw(::MapViewOfFile(section.get(), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0));
    REQUIRE(raw);
    std::atomic_ref<std::uint32_t> word(*reinterpret_cast<std::uint32_t*>(raw.get()));
    word.store(protocol::lock_word::uninitialized_value);
    std::error_code ec;
    // Without a wait, the mapping opens as it is (a WinMMF peer's state is accepted)...
    CHECK(memory_mapped_file::open(local(name), ec).is_open());
    CHECK_FALSE(ec);
    // ...asked to wait for the creator, the open waits for the publish, and reports it missing.
    auto start = std::chrono::steady_clock::now();
    (void)memory_mapped_file::open(local(name), {.wait = acquire_mode::wait_for(300ms)}, ec);
    CHECK(ec == errc::uninitialized);
    CHECK(std::chrono::steady_clock::now() - start >= 300ms);
    std::thread creator([&] {
        ::Sleep(200);
        word.store(0); // WinMMF's publish: unlocked, no readers
    });
    auto m = memory_mapped_file::open(local(name), {.wait = acquire_mode::wait_for(30s)}, ec);
    creator.join();
    CHECK_FALSE(ec);
    CHECK(m.is_open());
}

TEST_CASE("change waits: write() and a released write guard wake a waiter in another process",
          "[startup][notify][multiprocess]")
{
    const std::string name = test::unique_name("chg");
    auto m = memory_mapped_file::create(local(name), 64, {.change_notification = true});
    CHECK(m.has_change_notification());
    for (int round = 0; round < 2; ++round) {
        auto ready = test::named_event::create(name + "-ready" + std::to_string(round));
        auto waiter = test::child_process::start(
            L"winmmf_child.exe", {"wait-change", "local", name, "60000", name + "-ready" + std::to_string(round)});
        REQUIRE(ready.wait_or_exit(waiter.handle()));
        REQUIRE(eventually([&] { return m.change_notification()->waiting() == 1 || waiter.wait(0ms); }));
        const std::uint64_t before = m.change_sequence();
        if (round == 0) {
            m.write(0, std::uint32_t{5});
        } else {
            auto guard = m.lock_write();
            guard.as<std::uint32_t>(0) = 6;
        } // the release signals
        CHECK(m.change_sequence() == before + 1);
        CHECK(waiter.wait() == 0u);
    }
    // A read does not signal; the lock's own traffic is not a change.
    const std::uint64_t now = m.change_sequence();
    (void)m.read<std::uint32_t>(0);
    { auto guard = m.lock_read(); }
    CHECK(m.change_sequence() == now);
}

TEST_CASE("change waits: bounded, and a specific error without the notification", "[startup][notify]")
{
    const std::string name = test::unique_name("chg-b");
    auto m = memory_mapped_file::create(local(name), 64, {.change_notification = true});
    auto other = memory_mapped_file::open(local(name), {.change_notification = true});
    const std::uint64_t seen = other.change_sequence();
    std::error_code ec;
    const auto start = std::chrono::steady_clock::now();
    CHECK(other.wait_for_change(seen, acquire_mode::wait_for(200ms), ec) == seen);
    CHECK(ec == errc::timeout);
    CHECK(std::chrono::steady_clock::now() - start >= 200ms);
    m.write(0, std::uint32_t{1});
    CHECK(other.wait_for_change(seen, acquire_mode::try_once()) == seen + 1);
    // Moved, the mapping keeps its notification, and its guards still signal.
    memory_mapped_file moved = std::move(other);
    { auto guard = moved.lock_write(); }
    CHECK(m.change_sequence() == seen + 2);
    // Without asking for it, there is none.
    auto plain = memory_mapped_file::open(local(name));
    CHECK_FALSE(plain.has_change_notification());
    (void)plain.wait_for_change(0, acquire_mode::try_once(), ec);
    CHECK(ec == errc::no_change_notification);
    CHECK_THROWS_AS(plain.wait_for_change(0, acquire_mode::try_once()), std::system_error);
    // A mapping created without one cannot be opened with one: nobody would signal it.
    auto bare = memory_mapped_file::create(local(name + "-bare"), 64);
    (void)memory_mapped_file::open(local(name + "-bare"), {.change_notification = true}, ec);
    CHECK(ec == errc::not_found);
}
