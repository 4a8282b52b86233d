// A reader must judge a channel's header from one copy of it. Built without optimisation on
// purpose (tests/CMakeLists.txt): an optimising compiler happens to load each field once, a
// Debug build of a user's program does not, and that is the build a double fetch bites.
//
// A hostile process with write access to the frames flips `slot_count` between the real 2 and
// 60 while readers open the channel, and plants stamps that make the 60-slot reading look valid.
// A reader that checks the header in shared memory and then reads it again there can accept 60
// slots for a 2-slot view and copy a "frame" from far past the view: under AddressSanitizer that
// is a heap-buffer-overflow report, under ThreadSanitizer a data race on the header. A reader
// that snapshots it either refuses the header or uses the 2 it checked.
#include <winmmf/protocol/frame.hpp>

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <cstdint>
#include <sys/mman.h>
#include <cstring>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace winmmf::protocol::frame_layout;

namespace {
// ThreadSanitizer copies frames byte by byte as atomics (protocol/frame.hpp's racy_copy), which
// makes each attempt a hundred times dearer; the race window is the same.
#if defined(__SANITIZE_THREAD__)
constexpr int attempts = 20000;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr int attempts = 20000;
#else
constexpr int attempts = 200000;
#endif
#else
constexpr int attempts = 200000;
#endif
} // namespace

TEST_CASE("a header flipped while readers open the channel never makes them read outside the view",
          "[native][channel][cotenant]")
{
    geometry g;
    REQUIRE(compute_geometry(4096, 2, 4096, g) == errc{});
    // The view, followed by inaccessible pages as far as a 60-slot reading could reach: a read
    // outside the view is a fault (SIGSEGV, which the sanitizers report), not a silent read of
    // whatever memory happens to lie there.
    const std::size_t view = static_cast<std::size_t>(g.total_size);
    const std::size_t guard = static_cast<std::size_t>(g.slot_stride) * 62;
    void* region = ::mmap(nullptr, view + guard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(region != MAP_FAILED);
    REQUIRE(::mprotect(static_cast<std::byte*>(region) + view, guard, PROT_NONE) == 0);
    auto* base = static_cast<std::byte*>(region);
    auto* h = reinterpret_cast<channel_header*>(base);
    h->marker = protocol::lock_word::channel_layout_marker;
    const channel_view writer = channel_view::initialize(base, g);
    std::vector<std::byte> frame(64, std::byte{1});
    for (std::uint64_t seq = 1; seq <= 5; ++seq) {
        writer.write(seq, frame, 0, {});
    }
    std::atomic_ref<std::uint32_t>(h->version).store(version, std::memory_order_release);
    // Whatever slot a 60-slot reading of frame 5 picks holds a matching stamp: the records of
    // slots 0..59 all fit in the header page, so only the payload read can leave the view.
    auto* records = reinterpret_cast<slot_record*>(base + records_offset);
    for (std::uint32_t i = 0; i < 60; ++i) {
        std::atomic_ref<std::uint64_t>(records[i].stamp).store(2 * 5, std::memory_order_relaxed);
        std::atomic_ref<std::uint64_t>(records[i].size).store(g.max_frame_size, std::memory_order_relaxed);
    }

    std::atomic<bool> stop{false};
    std::thread flipper([&] {
        std::atomic_ref<std::uint32_t> slots(h->slot_count);
        while (!stop.load(std::memory_order_relaxed)) {
            slots.store(60, std::memory_order_relaxed);
            slots.store(2, std::memory_order_relaxed);
        }
    });
    std::uint64_t accepted = 0;
    std::uint64_t refused = 0;
    std::uint64_t wrong_shape = 0;
    std::vector<std::byte> out(4096);
    for (int i = 0; i < attempts; ++i) {
        channel_view v;
        if (channel_view::attach(base, g.total_size, v) != errc{}) {
            ++refused;
            continue;
        }
        ++accepted;
        if (v.shape().slot_count != 2) {
            ++wrong_shape;
        }
        frame_info info;
        std::uint64_t retries = 0;
        (void)v.read_latest(0, out, info, retries);
    }
    stop = true;
    flipper.join();
    ::munmap(region, view + guard);
    CAPTURE(accepted, refused);
    CHECK(accepted > 0);
    CHECK(wrong_shape == 0); // a snapshot that said 60 slots is refused: its total does not add up
}
