// The frame channel: one writer, readers in real child processes, every byte of every frame
// checked against its sequence number.
#include <winmmf/frame_channel.hpp>
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/child.hpp"
#include "../child/frame_pattern.hpp"
#include "channel_fixtures.hpp"
#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
using child::exit_code_for;
using test::eventually;
using test::publish_pattern;
using test::report_mapping;

namespace {


} // namespace

TEST_CASE("a frame and all its metadata travel together", "[channel]")
{
    const std::string name = test::unique_name("meta");
    auto w = frame_writer::create(local(name), {.max_frame_size = 10000, .slots = 4});
    CHECK(w.created());
    CHECK(w.slot_count() == 4);
    CHECK(w.max_frame_size() == 10000);
    auto r = frame_reader::open(local(name));
    CHECK(r.max_frame_size() == 10000);

    std::vector<std::byte> frame(777);
    test::fill_frame(frame, 1);
    const frame_meta meta{.width = 1920, .height = 1080, .stride = 5760, .format = pixel_format::rgb24,
                          .timestamp = -42, .user_tag = 0xFEEDFACECAFEBEEFull};
    const auto before = frame_clock::now().time_since_epoch().count();
    CHECK(w.publish(frame, meta) == 1);

    std::vector<std::byte> out(10000);
    frame_info info = r.take(out, acquire_mode::try_once());
    CHECK(info.sequence == 1);
    CHECK(info.skipped == 0);
    CHECK(info.size == 777);
    CHECK(info.publish_time >= before);
    CHECK(info.publish_time <= frame_clock::now().time_since_epoch().count());
    CHECK(info.meta.width == 1920);
    CHECK(info.meta.height == 1080);
    CHECK(info.meta.stride == 5760);
    CHECK(info.meta.format == pixel_format::rgb24);
    CHECK(info.meta.timestamp == -42);
    CHECK(info.meta.user_tag == 0xFEEDFACECAFEBEEFull);
    CHECK(test::frame_matches(std::span(out.data(), info.size), 1));

    // Nothing newer: try_take says so without an error; take(try_once) as a timeout.
    std::error_code ec;
    CHECK_FALSE(r.try_take(out, info, ec));
    CHECK_FALSE(ec);
    r.take(out, acquire_mode::try_once(), ec);
    CHECK(ec == errc::timeout);
}

TEST_CASE("zero-copy frames: written in place, read in place, and overwriting is detected", "[channel]")
{
    const std::string name = test::unique_name("zero-copy");
    auto w = frame_writer::create(local(name), {.max_frame_size = 1 << 20, .slots = 3});
    auto r = frame_reader::open(local(name));

    writable_frame slot = w.begin_frame();
    REQUIRE(slot.bytes().size() == w.max_frame_size());
    CHECK(reinterpret_cast<std::uintptr_t>(slot.bytes().data()) % 4096 == 0);
    test::fill_frame(slot.bytes().first(5000), 1);
    std::error_code ec;
    CHECK_FALSE(r.try_acquire(ec)); // begun, not published: invisible
    CHECK(slot.publish(5000, test::pattern_meta(1)) == 1);
    CHECK_THROWS_AS(slot.publish(5000), std::system_error); // once only

    frame_view view = r.acquire(acquire_mode::try_once());
    REQUIRE(view);
    CHECK(view.info().sequence == 1);
    CHECK(view.bytes().size() == 5000);
    CHECK(test::frame_matches(view.bytes(), 1));
    CHECK(view.still_valid());

    // Two more frames use the other two slots; the third comes back to the view's slot.
    std::vector<std::byte> buffer(w.max_frame_size());
    publish_pattern(w, buffer);
    publish_pattern(w, buffer);
    CHECK(view.still_valid());
    writable_frame next = w.begin_frame(); // stamps the slot "being written" before any byte changes
    CHECK_FALSE(view.still_valid());
    next = writable_frame{}; // abandoned: never published
    CHECK(w.published() == 3);
    frame_info info;
    CHECK(r.try_take(buffer, info, ec));
    CHECK(info.sequence == 3);
    CHECK(info.skipped == 1);
    CHECK(r.frames_taken() == 2);
    CHECK(r.frames_skipped() == 1);
}

TEST_CASE("bad configurations and bad calls get their own errors", "[channel]")
{
    const std::string name = test::unique_name("config");
    std::error_code ec;
    frame_writer::create(local(name), {.max_frame_size = 0}, ec);
    CHECK(ec == errc::zero_size);
    frame_writer::create(local(name), {.max_frame_size = 100, .slots = 1}, ec);
    CHECK(ec == errc::invalid_slot_count);
    frame_writer::create(local(name), {.max_frame_size = 100, .slots = 65}, ec);
    CHECK(ec == errc::invalid_slot_count);
    frame_writer::create(local(name), {.max_frame_size = std::numeric_limits<std::size_t>::max()}, ec);
    CHECK(ec == errc::size_overflow);
    frame_reader::open(local(name), ec);
    CHECK(ec == errc::not_found);

    auto w = frame_writer::create(local(name), {.max_frame_size = 100});
    frame_writer::create(local(name), {.max_frame_size = 100}, ec);
    CHECK(ec == errc::already_exists);
    frame_writer::open_or_create(local(name), {.max_frame_size = 5000}, ec);
    CHECK(ec == errc::too_large);

    std::vector<std::byte> big(101);
    w.publish(big, {}, ec);
    CHECK(ec == errc::too_large);
    CHECK(w.published() == 0);
    auto slot = w.begin_frame();
    slot.publish(101, {}, ec);
    CHECK(ec == errc::too_large);
    CHECK(slot); // still open after a size it cannot take
    CHECK(slot.publish(100) == 1);

    auto r = frame_reader::open(local(name));
    std::vector<std::byte> small(99);
    frame_info info;
    CHECK_FALSE(r.try_take(small, info, ec));
    CHECK(ec == errc::buffer_too_small);
    CHECK(info.size == 100); // what it needs
    CHECK(r.frames_taken() == 0);
    std::vector<std::byte> enough(100);
    CHECK(r.try_take(enough, info, ec));
    CHECK(info.sequence == 1);

    frame_reader closed;
    closed.try_take(enough, info, ec);
    CHECK(ec == errc::not_open);
}

TEST_CASE("a second begin_frame abandons the first slot, which then publishes nothing", "[channel]")
{
    const std::string name = test::unique_name("abandon");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64});
    auto r = frame_reader::open(local(name));
    std::vector<std::byte> out(64);
    frame_info info;
    std::error_code ec;

    // Both slots share one buffer: the stale one must never publish what the new one half-wrote.
    writable_frame s1 = w.begin_frame();
    std::memset(s1.bytes().data(), 0x11, 64);
    writable_frame s2 = w.begin_frame();
    CHECK(s2.bytes().data() == s1.bytes().data());
    std::memset(s2.bytes().data(), 0x22, 32); // half-written
    CHECK(s1.publish(64, {}, ec) == 0);
    CHECK(ec == errc::frame_abandoned);
    CHECK_FALSE(s1); // spent
    CHECK(w.published() == 0);
    CHECK_FALSE(r.try_take(out, info, ec)); // nothing was published
    CHECK_FALSE(ec);
    std::memset(s2.bytes().data() + 32, 0x22, 32);
    CHECK(s2.publish(64) == 1);
    REQUIRE(r.try_take(out, info, ec));
    CHECK(out[63] == std::byte{0x22});

    // publish() of a copied frame abandons a slot begun before it, too; the throwing form says so.
    writable_frame s3 = w.begin_frame();
    std::vector<std::byte> frame(64, std::byte{0x33});
    CHECK(w.publish(frame) == 2);
    try {
        (void)s3.publish(64);
        FAIL("no exception");
    } catch (const std::system_error& e) {
        CHECK(e.code() == errc::frame_abandoned);
    }
    CHECK(w.published() == 2);
    REQUIRE(r.try_take(out, info, ec));
    CHECK(info.sequence == 2);
    CHECK(out[0] == std::byte{0x33});

    // A slot that was published cannot publish again.
    writable_frame s4 = w.begin_frame();
    writable_frame copy = std::move(s4);
    CHECK(copy.publish(8) == 3);
    CHECK(s4.publish(8, {}, ec) == 0);
    CHECK(ec == errc::not_open); // moved from
}

TEST_CASE("only one writer at a time; a new writer continues the sequence", "[channel][multiprocess]")
{
    const std::string name = test::unique_name("one-writer");
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
    std::vector<std::byte> buffer(4096);
    publish_pattern(w, buffer);
    publish_pattern(w, buffer);
    std::error_code ec;
    frame_writer::open(local(name), ec);
    CHECK(ec == errc::channel_has_writer);
    CHECK(test::run_child({"frame-open-writer", "local", name}) == exit_code_for(errc::channel_has_writer));

    auto r = frame_reader::open(local(name));
    CHECK(r.writer_state() == writer_status::active);
    w.close();
    CHECK_FALSE(w.is_open());
    CHECK(r.writer_state() == writer_status::closed);
    w.publish(buffer, {}, ec);
    CHECK(ec == errc::not_open);
    // The closed writer still holds the channel: a reader that opens it now gets the newest
    // frame, then the end of the stream.
    CHECK(w.name().to_utf8() == "Local\\" + name);
    report_mapping late("one-writer-late");
    CHECK(test::run_child({"frame-read", "local", name, "copy", "0", "60000", "0", late.name}) == 0);
    CHECK(late.get().taken == 1);
    CHECK(late.get().last == 2);
    CHECK(late.get().end_error == static_cast<std::uint64_t>(errc::end_of_stream));
    auto w2 = frame_writer::open(local(name));
    CHECK(r.writer_state() == writer_status::active);
    CHECK(publish_pattern(w2, buffer) == 3);
    CHECK(test::run_child({"frame-take", "local", name, "60000"}) == 0);
}

TEST_CASE("readers in other processes never see a torn frame", "[channel][multiprocess][torn]")
{
    // Two slots, a writer that never pauses and readers that poll (so that publishing costs
    // the writer no system call): the writer laps the readers constantly, so copies and
    // in-place reads race it all the time. Every frame taken must be exactly one
    // frame: bytes, size and metadata all derived from one sequence number.
    const std::string name = test::unique_name("torn");
    auto w = frame_writer::create(local(name), {.max_frame_size = 256 * 1024, .slots = 2});
    report_mapping copy1("torn-r1"), copy2("torn-r2"), view1("torn-r3"), view2("torn-r4");
    std::vector<test::child_process> readers;
    readers.push_back(test::child_process::start(L"winmmf_child.exe", {"frame-read", "local", name, "copy-spin", "1000", "60000", "0", copy1.name}));
    readers.push_back(test::child_process::start(L"winmmf_child.exe", {"frame-read", "local", name, "copy-spin", "1000", "60000", "0", copy2.name}));
    readers.push_back(test::child_process::start(L"winmmf_child.exe", {"frame-read", "local", name, "view-spin", "1000", "60000", "0", view1.name}));
    readers.push_back(test::child_process::start(L"winmmf_child.exe", {"frame-read", "local", name, "view-spin-halt", "300", "60000", "0", view2.name}));

    std::atomic<bool> stop{false};
    std::thread writer([&] {
        std::vector<std::byte> buffer(w.max_frame_size());
        while (!stop) {
            publish_pattern(w, buffer);
        }
    });
    for (auto& r : readers) {
        CHECK(r.wait(std::chrono::minutes(5)) == 0u);
    }
    stop = true;
    writer.join();
    for (const report_mapping* m : {&copy1, &copy2, &view1, &view2}) {
        const test::reader_report r = m->get();
        CAPTURE(m->name, r.taken, r.skipped, r.invalidated, r.first, r.last, w.published());
        CAPTURE(r.overwritten, r.retries);
        CHECK(r.torn == 0);
        CHECK(r.taken == (m == &view2 ? 300u : 1000u));
        CHECK(r.taken + r.skipped == r.last - r.baseline);
    }
}

TEST_CASE("a slow reader skips frames and counts every one it skipped", "[channel][multiprocess][slow]")
{
    const std::string name = test::unique_name("slow");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64 * 1024, .slots = 3});
    report_mapping report("slow-report");
    auto reader = test::child_process::start(L"winmmf_child.exe",
                                             {"frame-read", "local", name, "copy", "0", "60000", "20", report.name});
    // The reader joined before the first frame and is blocked waiting for it.
    REQUIRE(eventually([&] { return w.waiting() == 1; }));
    constexpr std::uint64_t frames = 300;
    std::vector<std::byte> buffer(w.max_frame_size());
    for (std::uint64_t i = 0; i < frames; ++i) {
        publish_pattern(w, buffer);
        ::Sleep(1);
    }
    w.close(); // the reader takes the newest frame, then sees the end of the stream
    CHECK(reader.wait(std::chrono::minutes(5)) == 0u);
    const test::reader_report r = report.get();
    CAPTURE(r.taken, r.skipped, r.first, r.last, r.first_skipped);
    CHECK(r.torn == 0);
    CHECK(r.baseline == 0);
    CHECK(r.last == frames);                    // it got the last frame before the end
    CHECK(r.taken + r.skipped == frames);       // exact: every frame delivered or counted
    CHECK(r.skipped > 0);                       // 20 ms per frame against ~1 ms per frame
    CHECK(r.first_skipped == r.first - 1);
    CHECK(r.end_error == static_cast<std::uint64_t>(errc::end_of_stream));
}

TEST_CASE("a reader joining late starts at the newest frame", "[channel][multiprocess]")
{
    const std::string name = test::unique_name("late");
    auto w = frame_writer::create(local(name), {.max_frame_size = 8192});
    std::vector<std::byte> buffer(w.max_frame_size());
    for (int i = 0; i < 10; ++i) {
        publish_pattern(w, buffer);
    }
    report_mapping report("late-report");
    auto reader = test::child_process::start(L"winmmf_child.exe",
                                             {"frame-read", "local", name, "copy", "0", "60000", "0", report.name});
    // It takes frame 10 at once, then blocks for the next one.
    REQUIRE(eventually([&] { return w.waiting() == 1; }));
    for (int i = 0; i < 5; ++i) {
        publish_pattern(w, buffer);
    }
    w.close();
    CHECK(reader.wait(std::chrono::minutes(2)) == 0u);
    const test::reader_report r = report.get();
    CAPTURE(r.taken, r.skipped, r.first, r.last);
    CHECK(r.baseline == 9);
    CHECK(r.first == 10);
    CHECK(r.first_skipped == 0);
    CHECK(r.last == 15);
    CHECK(r.taken + r.skipped == 6);
    CHECK(r.end_error == static_cast<std::uint64_t>(errc::end_of_stream));
}

TEST_CASE("a reader waiting for a frame times out, and is woken by the end of the stream", "[channel][multiprocess]")
{
    const std::string name = test::unique_name("timeout");
    auto w = frame_writer::create(local(name), {.max_frame_size = 1024});
    CHECK(test::run_child({"frame-take", "local", name, "100"}) == exit_code_for(errc::timeout));
    CHECK(w.waiting() == 0);

    auto reader = test::child_process::start(L"winmmf_child.exe", {"frame-take", "local", name, "120000"});
    REQUIRE(eventually([&] { return w.waiting() == 1; }));
    auto keep = frame_reader::open(local(name)); // keeps the mapping alive for the child
    w.close();
    CHECK(reader.wait(std::chrono::minutes(2)) == static_cast<DWORD>(exit_code_for(errc::end_of_stream)));
}

TEST_CASE("several readers blocked on a channel all wake for one frame", "[channel][multiprocess]")
{
    const std::string name = test::unique_name("wake-all");
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
    std::vector<test::child_process> readers;
    for (int i = 0; i < 3; ++i) {
        readers.push_back(test::child_process::start(L"winmmf_child.exe", {"frame-take", "local", name, "120000"}));
    }
    REQUIRE(eventually([&] { return w.waiting() == 3; }));
    std::vector<std::byte> buffer(4096);
    publish_pattern(w, buffer);
    for (auto& r : readers) {
        CHECK(r.wait(std::chrono::minutes(2)) == 0u);
    }
}

TEST_CASE("a cancel from another thread ends a take on a channel written by another process", "[channel][multiprocess]")
{
    const std::string name = test::unique_name("cancel");
    auto ready = test::named_event::create(name + "-ready");
    auto writer = test::child_process::start(L"winmmf_child.exe", {"frame-writer", "local", name, "4096", "3", name + "-ready"});
    REQUIRE(ready.wait_or_exit(writer.handle()));
    auto r = frame_reader::open(local(name));
    std::vector<std::byte> buffer(r.max_frame_size());
    frame_info info = r.take(buffer, acquire_mode::try_once());
    CHECK(info.sequence == 3);

    cancel_token cancel;
    std::error_code ec;
    std::thread waiter([&] { r.take(buffer, acquire_mode::wait_for(std::chrono::hours(1)).with_cancel(cancel), ec); });
    auto observer = frame_reader::open(local(name));
    REQUIRE(eventually([&] { return observer.waiting() == 1; }));
    cancel.cancel();
    waiter.join();
    CHECK(ec == errc::cancelled);
    CHECK(r.writer_state() == writer_status::active);
}

TEST_CASE("a writer that dies surfaces as writer_gone, and a new writer takes over", "[channel][multiprocess]")
{
    const std::string name = test::unique_name("writer-dies");
    auto ready = test::named_event::create(name + "-ready");
    auto writer = test::child_process::start(L"winmmf_child.exe", {"frame-writer", "local", name, "4096", "5", name + "-ready"});
    REQUIRE(ready.wait_or_exit(writer.handle()));
    auto r = frame_reader::open(local(name));
    std::vector<std::byte> buffer(r.max_frame_size());
    CHECK(r.take(buffer, acquire_mode::try_once()).sequence == 5);
    CHECK(r.writer_state() == writer_status::active);

    std::error_code ec;
    std::thread waiter([&] { r.take(buffer, acquire_mode::wait_for(std::chrono::minutes(2)), ec); });
    writer.kill();
    waiter.join();
    CHECK(ec == errc::writer_gone);
    CHECK(r.writer_state() == writer_status::gone);

    // The role is reclaimed from the dead process; sequences continue.
    auto w2 = frame_writer::open(local(name));
    CHECK(publish_pattern(w2, buffer) == 6);
    frame_info info = r.take(buffer, acquire_mode::wait_for(60s));
    CHECK(info.sequence == 6);
    CHECK(info.skipped == 0);
    CHECK(test::frame_matches(std::span(buffer.data(), info.size), 6));
}

TEST_CASE("a read-only reader polls and blocks; the frames stay out of its reach", "[channel]")
{
    // Read-only frames no longer mean polling only: a blocking wait announces itself in the
    // notification sibling, not in the frames (channel_notify_tests.cpp has the cases where
    // the sibling refuses it too).
    const std::string name = test::unique_name("read-only");
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
    auto r = frame_reader::open(local(name), reader_options{.access = access_mode::read_only});
    std::vector<std::byte> buffer(4096);
    publish_pattern(w, buffer);
    frame_info info;
    std::error_code ec;
    CHECK(r.try_take(buffer, info, ec));
    CHECK(info.sequence == 1);
    CHECK(r.can_wait());
    r.take(buffer, acquire_mode::wait_for(20ms), ec);
    CHECK(ec == errc::timeout);
    r.take(buffer, acquire_mode::spin(100), ec);
    CHECK(ec == errc::max_tries_reached);
    publish_pattern(w, buffer);
    CHECK(r.take(buffer, acquire_mode::wait_for(60s)).sequence == 2);
}
