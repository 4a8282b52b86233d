// The frame channel's notification sibling ("<channel>#<nonce>"): secured apart from the frames,
// so that a reader who may only read the frames can still sleep until the next one, and
// robust against whatever somebody who may write it puts there. Real child processes, real
// descriptors: Wine checks a DACL when a named object is opened, so the refusals are real.
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

const std::error_code access_denied(ERROR_ACCESS_DENIED, std::system_category());

bool running_as_system()
{
    std::error_code ec;
    return detail::token_user_sid(ec) == local_system_sid;
}

// "D:P(A;;<rights>;;;<this account>)": only this account, and only these rights.
security_descriptor only_me(const std::string& rights)
{
    std::error_code ec;
    const std::string sid = detail::token_user_sid(ec);
    REQUIRE_FALSE(ec);
    return security_descriptor::from_sddl("D:P(A;;" + rights + ";;;" + sid + ")");
}


// A reader that opens `name` read-only now cannot sleep, and says why (`why`, also what its
// blocking take reports at once, frame or not); polling still takes the next frame.
void check_polls_only(const name_ref& name, frame_writer& w, const std::error_code& why)
{
    std::error_code ec;
    auto r = frame_reader::open(name, {.access = access_mode::read_only}, ec);
    REQUIRE_FALSE(ec);
    CHECK_FALSE(r.can_wait());
    CHECK(r.wait_refusal() == why);
    std::vector<std::byte> buffer(w.max_frame_size());
    r.take(buffer, acquire_mode::wait_for(10s), ec);
    CHECK(ec == why);
    const std::uint64_t next = publish_pattern(w, buffer);
    frame_info info;
    CHECK(r.try_take(buffer, info, ec));
    CHECK(info.sequence == next);
}

} // namespace

TEST_CASE("a reader with read-only frames sleeps on the channel's notification", "[channel][notify]")
{
    const std::string name = test::unique_name("ro-sleeps");
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
    auto r = frame_reader::open(local(name), reader_options{.access = access_mode::read_only});
    CHECK(r.can_wait());
    std::vector<std::byte> out(4096);
    std::error_code ec;
    frame_info info;
    std::thread taker([&] { info = r.take(out, acquire_mode::wait_for(120s), ec); });
    REQUIRE(eventually([&] { return w.waiting() == 1; }));
    CHECK(r.waiting() == 1);
    std::vector<std::byte> buffer(4096);
    publish_pattern(w, buffer);
    taker.join();
    CHECK_FALSE(ec);
    CHECK(info.sequence == 1);
    CHECK(test::frame_matches(std::span(out.data(), info.size), 1));
    CHECK(w.waiting() == 0);

    // The sibling is a mapping of its own, next to the channel, under the writer's nonce.
    CHECK(r.notification_name() == w.notification_name());
    CHECK(w.notification_name().full().size() == w.name().full().size() + 17);
    auto sibling = basic_memory_mapped_file<no_lock>::open(custom(w.notification_name().full()),
                                                           {.access = access_mode::read_only}, ec);
    CHECK(ec == errc::wrong_lock_policy); // it is there, and it is not a data mapping
}

TEST_CASE("service to user: read-only frames, a writable notification; the user sleeps until the next frame",
          "[channel][notify][security][multiprocess]")
{
    // The frames grant this account read access only (a service's frames, to a user); the
    // notification grants it read and write. The child is that user.
    const std::string name = test::unique_name("svc-sleep");
    const auto frames_sd = only_me("GR");
    const auto notify_sd = only_me("GRGW");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64 * 1024, .security_attributes = frames_sd.attributes(), .notification_security_attributes = notify_sd.attributes()});

    // Here, too: the frames refuse read-write, and a read-only reader may sleep.
    std::error_code ec;
    auto refused = frame_reader::open(local(name), ec);
    CHECK(ec == access_denied);
    CHECK_FALSE(refused.is_open());
    auto local_reader = frame_reader::open(local(name), {.access = access_mode::read_only});
    CHECK(local_reader.can_wait());

    auto child = test::child_process::start(L"winmmf_child.exe", {"frame-secured-take", "local", name, "120000", "sleep"});
    // The child announced itself: it is asleep (or about to be) in the kernel, with no frame.
    REQUIRE(eventually([&] { return w.waiting() == 1 || child.wait(0ms).has_value(); }));
    REQUIRE_FALSE(child.wait(0ms).has_value());
    CHECK(w.published() == 0);
    std::vector<std::byte> buffer(w.max_frame_size());
    publish_pattern(w, buffer);
    CHECK(child.wait(test::child_timeout) == 0u);
    CHECK(w.waiting() == 0);
}

TEST_CASE("service to user: a read-only notification too; blocking takes are read_only, polling works",
          "[channel][notify][security][multiprocess]")
{
    const std::string name = test::unique_name("svc-poll");
    const auto frames_sd = only_me("GR");
    const auto notify_sd = only_me("GR");
    auto w = frame_writer::create(local(name), {.max_frame_size = 8192, .security_attributes = frames_sd.attributes(), .notification_security_attributes = notify_sd.attributes()});
    std::vector<std::byte> buffer(w.max_frame_size());
    publish_pattern(w, buffer);
    CHECK(test::run_child({"frame-secured-take", "local", name, "60000", "poll"}) == 0);

    auto r = frame_reader::open(local(name), {.access = access_mode::read_only});
    CHECK_FALSE(r.can_wait());
    std::error_code ec;
    r.take(buffer, acquire_mode::wait_for(10s), ec);
    CHECK(ec == errc::read_only);
    frame_info info;
    CHECK(r.try_take(buffer, info, ec));
    CHECK(info.sequence == 1);
    CHECK(r.waiting() == 0); // it may read the sibling: it sees who waits

    // A notification this account may not even read: the same, and nobody is seen waiting.
    if (running_as_system()) {
        SKIP("the rest needs a descriptor that shuts this account out; SYSTEM is let in");
    }
    const std::string hidden = test::unique_name("svc-hidden");
    const auto system_only = security_descriptor::from_sddl("D:P(A;;GA;;;SY)");
    auto w2 = frame_writer::create(local(hidden), {.max_frame_size = 8192, .security_attributes = frames_sd.attributes(), .notification_security_attributes = system_only.attributes()});
    auto r2 = frame_reader::open(local(hidden), {.access = access_mode::read_only});
    CHECK_FALSE(r2.can_wait());
    r2.take(buffer, acquire_mode::wait_for(10s), ec);
    CHECK(ec == errc::read_only);
    publish_pattern(w2, buffer);
    CHECK(r2.take(buffer, acquire_mode::spin_forever()).sequence == 1);
}

TEST_CASE("garbage in the notification sibling never hangs or fails the writer, nor other readers' waits",
          "[channel][notify][multiprocess]")
{
    const std::string name = test::unique_name("garbage");
    auto w = frame_writer::create(local(name), {.max_frame_size = 64 * 1024, .slots = 3});
    std::vector<std::byte> buffer(w.max_frame_size());
    publish_pattern(w, buffer);

    // A reader in another process takes every frame it can until the end of the stream, each
    // take a blocking one; the garbage may delay its wake-ups, never corrupt its frames.
    report_mapping report("garbage-report");
    auto reader = test::child_process::start(L"winmmf_child.exe",
                                             {"frame-read", "local", name, "copy", "0", "60000", "0", report.name});
    // And one here, with short bounded waits: each ends with a frame or a timeout, nothing else.
    std::atomic<bool> stop{false};
    std::atomic<int> frames_here{0}, timeouts_here{0}, other_errors_here{0};
    std::error_code other_error;
    std::thread local_reader([&] {
        std::error_code open_ec;
        auto r = frame_reader::open(local(name), {.access = access_mode::read_only}, open_ec);
        if (open_ec) {
            other_error = open_ec;
            ++other_errors_here;
            return;
        }
        std::vector<std::byte> out(r.max_frame_size());
        while (!stop) {
            std::error_code ec;
            const frame_info info = r.take(out, acquire_mode::wait_for(50ms), ec);
            if (!ec && test::frame_matches(std::span(out.data(), info.size), info.sequence)) {
                ++frames_here;
            } else if (ec == errc::timeout) {
                ++timeouts_here;
            } else {
                other_error = ec;
                ++other_errors_here;
            }
        }
    });

    auto scribbler = test::child_process::start(L"winmmf_child.exe", {"notify-garbage", "local", name, "3000", "waiters"});
    std::uint64_t during = 0;
    while (!scribbler.wait(0ms).has_value()) {
        publish_pattern(w, buffer); // requires no error: the garbage is not the writer's failure
        ++during;
        ::Sleep(1);
    }
    CHECK(scribbler.wait(0ms) == 0u);
    CAPTURE(during);
    CHECK(during > 0);

    // The garbage stays: every bit set, claim words random. Publishing still works, costs at
    // most one open and one signal per bit, and a new reader in another process still gets
    // its frame.
    CHECK(w.waiting() == protocol::max_waiters);
    auto late = test::child_process::start(L"winmmf_child.exe", {"frame-take", "local", name, "60000"});
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    while (!late.wait(0ms).has_value() && std::chrono::steady_clock::now() < give_up) {
        publish_pattern(w, buffer);
        ::Sleep(5);
    }
    CHECK(late.wait(test::child_timeout) == 0u);

    stop = true;
    local_reader.join();
    CAPTURE(other_error.message());
    CHECK(other_errors_here == 0);
    CHECK(frames_here > 0);

    w.close(); // the child reader takes the newest frame, then sees the end of the stream
    CHECK(reader.wait(test::child_timeout) == 0u);
    const test::reader_report r = report.get();
    CAPTURE(r.taken, r.skipped, r.first, r.last, r.baseline, w.published());
    CHECK(r.torn == 0);
    CHECK(r.last == w.published());
    CHECK(r.taken + r.skipped == r.last - r.baseline);
    CHECK(r.end_error == static_cast<std::uint64_t>(errc::end_of_stream));
}

TEST_CASE("a sibling whose header was overwritten costs the wake-ups, never the frames", "[channel][notify][multiprocess]")
{
    for (const char* what : {"marker", "version"}) {
        CAPTURE(what);
        const errc expected = std::string(what) == "marker" ? errc::wrong_layout : errc::unsupported_layout_version;
        const std::string name = test::unique_name("bad-header");
        auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
        auto before = frame_reader::open(local(name)); // opened while the sibling was sound
        REQUIRE(test::run_child({"notify-garbage", "local", name, "0", what}) == 0);

        // A reader opening now still gets the frames; it cannot sleep, and says why.
        check_polls_only(local(name), w, make_error_code(expected));
        std::vector<std::byte> buffer(4096);

        // The writer publishes on, and so does one taking over the channel (with a sibling of
        // its own, which the reader that opened before follows); that reader takes the frames.
        w.close();
        w = frame_writer::open(local(name));
        CHECK(publish_pattern(w, buffer) == 2);
        CHECK(before.take(buffer, acquire_mode::wait_for(60s)).sequence == 2);
        CHECK(test::frame_matches(std::span(buffer.data(), test::pattern_size(2, 4096)), 2));
    }
}

TEST_CASE("names a co-tenant could guess are not the channel's: squatting them changes nothing", "[channel][notify]")
{
    // Before version 3 the sibling was "<channel>#notify" and the writer's liveness event
    // "<channel>#writer0.1": anybody could take them first. They mean nothing now.
    const std::string name = test::unique_name("guessable");
    const detail::unique_handle event(
        ::CreateEventW(nullptr, TRUE, FALSE, test::widen("Local\\" + name + "#notify").c_str()));
    const detail::unique_handle liveness(
        ::CreateEventW(nullptr, TRUE, FALSE, test::widen("Local\\" + name + "#writer0.1").c_str()));
    REQUIRE(event);
    REQUIRE(liveness);
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
    CHECK(w.is_open());
    auto r = frame_reader::open(local(name), {.access = access_mode::read_only});
    CHECK(r.can_wait());
    CHECK(r.writer_state() == writer_status::active);
    std::vector<std::byte> buffer(4096);
    std::error_code ec;
    frame_info info;
    std::thread taker([&] { info = r.take(buffer, acquire_mode::wait_for(120s), ec); });
    REQUIRE(eventually([&] { return w.waiting() == 1; }));
    std::vector<std::byte> frame(4096);
    publish_pattern(w, frame);
    taker.join();
    CHECK_FALSE(ec);
    CHECK(info.sequence == 1);
    w.close();
    CHECK(r.writer_state() == writer_status::closed); // the squatted event does not keep it "active"
}

TEST_CASE("the notification sibling and other layouts are never mistaken for each other", "[channel][notify][layout]")
{
    const std::string name = test::unique_name("sibling-layout");
    auto w = frame_writer::create(local(name), {.max_frame_size = 1000});
    const object_name sibling_name = w.notification_name();
    const name_ref sibling = custom(sibling_name.full());
    std::error_code ec;
    auto m1 = memory_mapped_file::open(sibling, ec);
    CHECK(ec == errc::wrong_lock_policy);
    auto m2 = basic_memory_mapped_file<no_lock>::open(sibling, ec);
    CHECK(ec == errc::wrong_lock_policy);
    auto n1 = notification::open(sibling, ec);
    CHECK(ec == errc::wrong_layout);
    auto r1 = frame_reader::open(sibling, ec);
    CHECK(ec == errc::wrong_layout);
    auto w1 = frame_writer::open(sibling, ec);
    CHECK(ec == errc::wrong_layout);
    CHECK(test::run_peer({"try-read", sibling_name.to_utf8(), "100"}) == 40); // a WinMMF peer: uninitialized
    CHECK(w.waiting() == 0);

    // A mapping or a notification at the name the sibling had before version 3 is nobody's
    // business now: the channel makes a sibling of its own, and the squatter is left alone.
    const std::string other = test::unique_name("sibling-taken");
    auto squatter = memory_mapped_file::create(local(other + "#notify"), 100);
    squatter.write(0, std::as_bytes(std::span(std::string_view("mine"))));
    auto n = notification::create(local(other + "#notify.notify"));
    auto w2 = frame_writer::create(local(other), {.max_frame_size = 1000});
    CHECK(w2.is_open());
    auto r2 = frame_reader::open(local(other));
    CHECK(r2.can_wait());
    std::vector<std::byte> buffer(1000);
    publish_pattern(w2, buffer);
    CHECK(r2.take(buffer, acquire_mode::wait_for(10s)).sequence == 1);
    std::string word(4, '\0');
    squatter.read(0, std::as_writable_bytes(std::span(word)));
    CHECK(word == "mine");
    CHECK(squatter.lock_policy().value() == 0);
    CHECK(n.sequence() == 0);
    CHECK(n.notify() == 0); // still a working notification of its own
}

TEST_CASE("a reader that found no sibling finds the next writer's, and then sleeps", "[channel][notify]")
{
    // A sibling this account may not open at all: readers hold only the channel, so when the
    // writer goes, the sibling goes with it while the channel stays.
    if (running_as_system()) {
        SKIP("this needs a descriptor that shuts this account out; SYSTEM is let in");
    }
    const std::string name = test::unique_name("sibling-again");
    const auto system_only = security_descriptor::from_sddl("D:P(A;;GA;;;SY)");
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096, .notification_security_attributes = system_only.attributes()});
    auto holder = frame_reader::open(local(name));
    CHECK_FALSE(holder.can_wait());
    std::vector<std::byte> buffer(4096);
    publish_pattern(w, buffer);
    w = frame_writer{}; // closed and gone: nobody holds the sibling now

    auto r = frame_reader::open(local(name));
    CHECK_FALSE(r.can_wait());
    std::error_code ec;
    CHECK(r.take(buffer, acquire_mode::wait_for(10s), ec).sequence == 1); // the last frame
    r.take(buffer, acquire_mode::wait_for(10s), ec);
    CHECK(ec == errc::end_of_stream);

    // A new writer makes a new sibling (secured its own way); the reader finds it at its next
    // blocking take and sleeps until the next frame.
    auto w2 = frame_writer::open(local(name));
    CHECK_FALSE(r.can_wait()); // not looked for yet
    frame_info info;
    std::thread taker([&] { info = r.take(buffer, acquire_mode::wait_for(120s), ec); });
    REQUIRE(eventually([&] { return w2.waiting() == 1; }));
    std::vector<std::byte> frame(4096);
    CHECK(publish_pattern(w2, frame) == 2);
    taker.join();
    CHECK_FALSE(ec);
    CHECK(info.sequence == 2);
    CHECK(r.can_wait());
}

TEST_CASE("channel names: the longest allowed still has room for the sibling and every event", "[channel][notify]")
{
    // max_name_length - longest_suffix units in all, "Local\" included.
    const std::string longest(max_name_length - detail::longest_suffix - 6, 'c');
    std::error_code ec;
    auto w = frame_writer::create(local(longest), {.max_frame_size = 100}, ec);
    REQUIRE_FALSE(ec);
    CHECK(w.name().full().size() + std::string_view("#0123456789abcdefw63").size() <= max_name_length);
    auto r = frame_reader::open(local(longest));
    CHECK(r.can_wait());
    std::vector<std::byte> buffer(100);
    std::thread taker([&] { r.take(buffer, acquire_mode::wait_for(120s), ec); });
    REQUIRE(eventually([&] { return w.waiting() == 1; }));
    CHECK(w.publish(buffer) == 1);
    taker.join();
    CHECK_FALSE(ec);

    // One unit more is refused up front, for writers and readers alike.
    const std::string too_long = longest + "c";
    frame_writer::create(local(too_long), {.max_frame_size = 100}, ec);
    CHECK(ec == errc::name_too_long);
    frame_reader::open(local(too_long), ec);
    CHECK(ec == errc::name_too_long);
}
