// Child commands for reader-first start-up and mapping change waits: a reader started before
// its writer, and a process waiting for another's write.
#include "child.hpp"
#include "frame_pattern.hpp"

#include <winmmf/frame_reader.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/notification.hpp>

#include <test_support.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace winmmf::child {
namespace {

std::chrono::milliseconds millis(const std::string& text) { return std::chrono::milliseconds(std::stoul(text)); }

// open-wait <mapping|notification|frame> <scope> <name> <timeout-ms>: opens with
// {.wait = wait_for(timeout)}, started before the object exists. Then: a mapping's u32 at
// offset 0 is printed (the writer writes it before the test lets the child end); a
// notification's next change is waited for and printed; a frame channel's first frame is taken
// and checked against the pattern.
int open_wait(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    const auto name = test::parse_name(a[1], a[2]);
    const auto wait = acquire_mode::wait_for(millis(a[3]));
    std::error_code ec;
    if (a[0] == "mapping") {
        auto m = memory_mapped_file::open(name, {.wait = wait}, ec);
        if (ec) {
            return report(ec, "open");
        }
        std::printf("%lu\n", static_cast<unsigned long>(m.read<std::uint32_t>(0, ec)));
        return ec ? report(ec, "read") : exit_ok;
    }
    if (a[0] == "notification") {
        auto n = notification::open(name, {.wait = wait}, ec);
        if (ec) {
            return report(ec, "open");
        }
        const std::uint64_t now = n.wait(0, wait, ec);
        if (ec) {
            return report(ec, "wait");
        }
        std::printf("%llu\n", static_cast<unsigned long long>(now));
        return exit_ok;
    }
    if (a[0] == "frame") {
        auto r = frame_reader::open(name, {.access = access_mode::read_only, .wait = wait}, ec);
        if (ec) {
            return report(ec, "open");
        }
        std::vector<std::byte> buffer(r.max_frame_size());
        const frame_info info = r.take(buffer, wait, ec);
        if (ec) {
            return report(ec, "take");
        }
        std::printf("%llu\n", static_cast<unsigned long long>(info.sequence));
        return test::frame_matches(std::span(buffer.data(), info.size), info.sequence) ? exit_ok : exit_mismatch;
    }
    return exit_usage;
}

// wait-change <scope> <name> <timeout-ms> <ready-event>: opens the mapping with its change
// notification, signals <ready-event> once it has read the sequence, waits for the next
// change, and prints the new sequence and the u32 at offset 0.
int wait_change(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    auto m = memory_mapped_file::open(test::parse_name(a[0], a[1]), {.change_notification = true}, ec);
    if (ec) {
        return report(ec, "open");
    }
    const std::uint64_t seen = m.change_sequence();
    test::named_event::open(a[3]).set();
    const std::uint64_t now = m.wait_for_change(seen, acquire_mode::wait_for(millis(a[2])), ec);
    if (ec) {
        return report(ec, "wait_for_change");
    }
    std::printf("%llu %lu\n", static_cast<unsigned long long>(now),
                static_cast<unsigned long>(m.read<std::uint32_t>(0)));
    return now != seen ? exit_ok : exit_mismatch;
}

const registrar r1{"open-wait", open_wait};
const registrar r2{"wait-change", wait_change};

} // namespace
} // namespace winmmf::child
