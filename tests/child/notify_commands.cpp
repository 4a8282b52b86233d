// Child commands for the notification tests: a waiter in another process, and a notifier.
#include "child.hpp"

#include <winmmf/notification.hpp>

#include <test_support.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace winmmf::child {
namespace {

// notify-wait <scope> <name> <seen> <timeout-ms>: waits for the sequence to leave <seen>;
// prints the new value. The exit code is the error, if any (timeout, cancelled, ...).
int notify_wait(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    auto n = notification::open(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "open");
    }
    const std::uint64_t seen = std::stoull(a[2]);
    const std::uint64_t now =
        n.wait(seen, acquire_mode::wait_for(std::chrono::milliseconds(std::stoul(a[3]))), ec);
    if (ec) {
        return report(ec, "wait");
    }
    std::printf("%llu\n", static_cast<unsigned long long>(now));
    return now != seen ? exit_ok : exit_mismatch;
}

// notify-notify <scope> <name> <count>
int notify_notify(const args& a)
{
    if (a.size() != 3) {
        return exit_usage;
    }
    std::error_code ec;
    auto n = notification::open(test::parse_name(a[0], a[1]), ec);
    if (ec) {
        return report(ec, "open");
    }
    for (unsigned long i = 0, count = std::stoul(a[2]); i < count; ++i) {
        n.notify(ec);
        if (ec) {
            return report(ec, "notify");
        }
    }
    return exit_ok;
}

const registrar r1{"notify-wait", notify_wait};
const registrar r2{"notify-notify", notify_notify};

} // namespace
} // namespace winmmf::child
