// Child commands for the asynchronous-wait tests: the writers that wake the parent's waits.
#include "child.hpp"

#include <winmmf/frame_writer.hpp>
#include <winmmf/notification.hpp>

#include <test_support.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace winmmf::child {
namespace {

using namespace std::chrono_literals;

// async-round-writer <prefix> <writer index> <writers> <objects> <rounds>
// Object i (0 <= i < objects) belongs to writer i % writers. Even objects are frame channels,
// "<prefix>-c<i>", which this writer creates; odd ones are notifications, "<prefix>-n<i>", which
// the parent created. Each time the parent bumps "<prefix>-go", every owned object gets one
// change: a frame whose first 8 bytes are the round number, or one notify.
int async_round_writer(const args& a)
{
    if (a.size() != 5) {
        return exit_usage;
    }
    const std::string prefix = a[0];
    const unsigned index = std::stoul(a[1]);
    const unsigned writers = std::stoul(a[2]);
    const unsigned objects = std::stoul(a[3]);
    const std::uint64_t rounds = std::stoull(a[4]);
    std::error_code ec;
    std::vector<frame_writer> channels;
    std::vector<notification> notifications;
    for (unsigned i = index; i < objects; i += writers) {
        if (i % 2 == 0) {
            channels.push_back(frame_writer::create(local(prefix + "-c" + std::to_string(i)), {.max_frame_size = 64}, ec));
        } else {
            notifications.push_back(notification::open(local(prefix + "-n" + std::to_string(i)),
                                                       {.wait = acquire_mode::wait_for(30s)}, ec));
        }
        if (ec) {
            return report(ec, "open an object");
        }
    }
    auto go = notification::open(local(prefix + "-go"), {.wait = acquire_mode::wait_for(30s)}, ec);
    if (ec) {
        return report(ec, "open go");
    }
    std::uint64_t seen = 0;
    std::vector<std::byte> frame(64);
    for (std::uint64_t round = 1; round <= rounds; ++round) {
        seen = go.wait(seen, acquire_mode::wait_for(120s), ec);
        if (ec) {
            return report(ec, "wait for go");
        }
        std::memcpy(frame.data(), &round, sizeof round);
        for (auto& c : channels) {
            c.publish(frame, {}, ec);
            if (ec) {
                return report(ec, "publish");
            }
        }
        for (auto& n : notifications) {
            n.notify(ec);
            if (ec) {
                return report(ec, "notify");
            }
        }
    }
    return exit_ok;
}

const registrar r1{"async-round-writer", async_round_writer};

} // namespace
} // namespace winmmf::child
