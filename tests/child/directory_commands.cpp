// Child commands for the object directory tests (tests/win/directory_tests.cpp and the tool's
// `list` cases): another process makes one object of every kind the library makes, so that the
// parent finds them by listing, not by having made them.
#include "child.hpp"

#include <winmmf/frame_channel.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/notification.hpp>
#include <winmmf/robust_lock.hpp>

#include <test_support.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace winmmf::child {
namespace {

using namespace std::chrono_literals;

// make-objects <scope> <base> <ready-event> <release-event>
// Creates, in <scope>:
//   <base>-compat          a WinMMF-compatible mapping (100 bytes asked for), holding a read lock
//   <base>-compat.notify   its notification (notification::name_for), with one waiter's event
//   <base>-robust          a robust_lock mapping
//   <base>-chan            a frame channel (4 slots of 1024 bytes) with one frame published, its
//                          notification sibling <base>-chan#<nonce>, and one reader's event
//   <base>-note            a standalone notification, with one waiter's event
// prints the channel's sibling name (UTF-8, one line), sets <ready-event>, and keeps everything
// until <release-event>.
int make_objects(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    const std::string& scope = a[0];
    const std::string& base = a[1];
    std::error_code ec;
    auto compat = memory_mapped_file::create(test::parse_name(scope, base + "-compat"), 100, ec);
    if (ec) {
        return report(ec, "create compat");
    }
    auto held = compat.lock_read(ec);
    if (ec) {
        return report(ec, "lock_read");
    }
    auto robust = robust_memory_mapped_file::create(test::parse_name(scope, base + "-robust"), 200, ec);
    if (ec) {
        return report(ec, "create robust");
    }
    auto companion = notification::create(custom(notification::name_for(compat.name()).full()), ec);
    if (ec) {
        return report(ec, "create companion notification");
    }
    auto note = notification::create(test::parse_name(scope, base + "-note"), ec);
    if (ec) {
        return report(ec, "create notification");
    }
    auto writer = frame_writer::create(test::parse_name(scope, base + "-chan"), {.max_frame_size = 1024, .slots = 4}, ec);
    if (ec) {
        return report(ec, "create channel");
    }
    const std::vector<std::byte> frame(100, std::byte{0x5a});
    writer.publish(frame, {}, ec);
    if (ec) {
        return report(ec, "publish");
    }
    auto reader = frame_reader::open(test::parse_name(scope, base + "-chan"), ec);
    if (ec) {
        return report(ec, "open reader");
    }
    // A wait that times out leaves each waiter's event made (each makes it at its first wait).
    std::vector<std::byte> out(reader.max_frame_size());
    (void)reader.take(out, acquire_mode::wait_for(1s), ec); // the published frame
    (void)reader.take(out, acquire_mode::wait_for(1ms), ec); // nothing newer: waits, times out
    (void)companion.wait(companion.sequence(), acquire_mode::wait_for(1ms), ec);
    (void)note.wait(note.sequence(), acquire_mode::wait_for(1ms), ec);

    std::printf("%s\n", writer.notification_name().to_utf8().c_str());
    std::fflush(stdout);
    auto ready = test::named_event::open(a[2]);
    auto release = test::named_event::open(a[3]);
    ready.set();
    return release.wait() ? exit_ok : exit_other_error;
}

const registrar r1{"make-objects", make_objects};

} // namespace
} // namespace winmmf::child
