// No heap allocation on the read, write, lock, publish, take, notify and wait paths.
//
// This file replaces the global operator new and delete with counting versions, so it is
// built into an executable of its own (winmmf_allocation_tests; see tests/CMakeLists.txt).
// The counter runs only between arm() and disarm(), and nothing inside those regions may
// allocate for the test's own sake: results go to locals and are checked afterwards.
#include <winmmf/frame_channel.hpp>
#include <winmmf/notification.hpp>
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <malloc.h>
#include <new>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> armed{false};
std::atomic<long> allocations{0};

void* counted(std::size_t size)
{
    if (armed.load(std::memory_order_relaxed)) {
        allocations.fetch_add(1, std::memory_order_relaxed);
    }
    return std::malloc(size == 0 ? 1 : size);
}

void* counted_aligned(std::size_t size, std::align_val_t alignment)
{
    if (armed.load(std::memory_order_relaxed)) {
        allocations.fetch_add(1, std::memory_order_relaxed);
    }
    return _aligned_malloc(size == 0 ? 1 : size, static_cast<std::size_t>(alignment));
}

void arm()
{
    allocations = 0;
    armed = true;
}

long disarm()
{
    armed = false;
    return allocations.load();
}

} // namespace

void* operator new(std::size_t size)
{
    if (void* p = counted(size)) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new[](std::size_t size)
{
    if (void* p = counted(size)) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted(size); }
void* operator new(std::size_t size, std::align_val_t a)
{
    if (void* p = counted_aligned(size, a)) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t a)
{
    if (void* p = counted_aligned(size, a)) {
        return p;
    }
    throw std::bad_alloc();
}
// GCC pairs a new-expression with std::free once it inlines the replacement below and warns,
// not seeing that the matching operator new is a malloc of ours: the pairing is correct.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { _aligned_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { _aligned_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { _aligned_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { _aligned_free(p); }

using namespace winmmf;
using namespace std::chrono_literals;

void* volatile sink = nullptr;

TEST_CASE("the counting allocator counts", "[allocation]")
{
    // A new-expression whose result is unused may be elided by the optimiser; an explicit call
    // to the replaceable function, and a container that escapes, may not.
    arm();
    sink = ::operator new(16);
    ::operator delete(sink);
    auto* v = new std::vector<int>(100);
    sink = v;
    const long n = disarm();
    delete v;
    CHECK(n == 3);
}

TEST_CASE("lock, unlock, read and write allocate nothing", "[allocation]")
{
    auto m = memory_mapped_file::create(local(test::unique_name("alloc-mmf")), 6'220'800);
    std::vector<std::byte> frame(6'220'800, std::byte{7});
    std::vector<std::byte> out(frame.size());
    std::error_code write_ec, read_ec, lock_ec, refused_ec, unlock_ec;

    arm();
    m.write(0, frame, write_ec);
    m.read(0, out, read_ec);
    {
        auto w = m.lock_write(acquire_mode::try_once(), lock_ec);
        auto refused = m.try_lock_read(refused_ec); // an error path: write_locked
        w.unlock(unlock_ec);
    }
    {
        auto r1 = m.lock_read(acquire_mode::wait_for(1s), lock_ec);
        auto r2 = m.try_lock_read(lock_ec);
    }
    const long n = disarm();

    CHECK(n == 0);
    CHECK_FALSE(write_ec);
    CHECK_FALSE(read_ec);
    CHECK_FALSE(lock_ec);
    CHECK(refused_ec == errc::write_locked);
    CHECK_FALSE(unlock_ec);
    CHECK(out == frame);
}

TEST_CASE("publish, take, acquire, notify and wait allocate nothing", "[allocation]")
{
    const std::string name = test::unique_name("alloc-channel");
    auto writer = frame_writer::create(local(name), {.max_frame_size = 6'220'800});
    auto reader = frame_reader::open(local(name));
    std::vector<std::byte> frame(writer.max_frame_size(), std::byte{1});
    std::vector<std::byte> out(writer.max_frame_size());
    const frame_meta meta{.width = 1920, .height = 1080, .stride = 5760, .format = pixel_format::rgb24};
    std::error_code publish_ec, take_ec, timeout_ec, slot_ec, view_ec, nothing_ec;
    frame_info info;
    bool valid = false;
    bool nothing = true;

    arm();
    writer.publish(frame, meta, publish_ec);
    info = reader.take(out, acquire_mode::wait_for(1s), take_ec);
    nothing = reader.try_take(out, info, nothing_ec);
    reader.take(out, acquire_mode::wait_for(5ms), timeout_ec); // blocks: claims a waiter slot
    reader.take(out, acquire_mode::wait_for(5ms), timeout_ec); // and again, with the slot kept
    {
        writable_frame slot = writer.begin_frame(slot_ec);
        slot.bytes()[0] = std::byte{9};
        slot.publish(100, meta, slot_ec);
    }
    {
        frame_view view = reader.acquire(acquire_mode::try_once(), view_ec);
        valid = view.still_valid();
    }
    const long n = disarm();

    CHECK(n == 0);
    CHECK_FALSE(publish_ec);
    CHECK_FALSE(take_ec);
    CHECK_FALSE(nothing);
    CHECK_FALSE(nothing_ec);
    CHECK(timeout_ec == errc::timeout);
    CHECK_FALSE(slot_ec);
    CHECK_FALSE(view_ec);
    CHECK(valid);
    CHECK(info.size == 6'220'800);
}

TEST_CASE("a notify that wakes a waiter, and the waiter, allocate nothing", "[allocation]")
{
    const std::string name = test::unique_name("alloc-notify");
    auto n = notification::create(local(name));
    auto waiter_side = notification::open(local(name));
    std::error_code wait_ec, notify_ec;
    std::atomic<std::size_t> woken{0};
    std::atomic<bool> done{false};
    std::uint64_t got = 0;

    // std::thread allocates when it starts, so the notifier starts before the count does and
    // notifies only once this thread is announced as a waiter.
    std::thread notifier([&] {
        while (n.waiting() == 0) {
            ::Sleep(1);
        }
        woken = n.notify(notify_ec);
        done = true;
    });
    arm();
    got = waiter_side.wait(waiter_side.sequence(), acquire_mode::wait_for(60s), wait_ec);
    while (!done) {
        ::Sleep(0);
    }
    const long count = disarm();
    notifier.join();

    CHECK(count == 0);
    CHECK_FALSE(wait_ec);
    CHECK_FALSE(notify_ec);
    CHECK(got == 1);
    CHECK(woken == 1);
}
