// The channel's sequence lock and the notification's announce/bump handshake, hammered by
// threads. Built natively only, for ThreadSanitizer and AddressSanitizer: the same headers the
// Windows build uses, with std::atomic::wait standing in for the per-waiter kernel event.
#include <winmmf/protocol/notify_state.hpp>
#include <winmmf/protocol/frame.hpp>
#include <winmmf/protocol/identity.hpp>

#include <catch2/catch_test_macros.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace winmmf::protocol::frame_layout;

namespace {

std::uint64_t word_for(std::uint64_t sequence, std::size_t index)
{
    return sequence * 0x9E3779B97F4A7C15ull + index;
}

bool frame_is(std::span<const std::byte> bytes, std::uint64_t sequence)
{
    for (std::size_t i = 0; i + 8 <= bytes.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, bytes.data() + i, 8);
        if (w != word_for(sequence, i / 8)) {
            return false;
        }
    }
    return true;
}

struct section {
    explicit section(std::size_t n) : storage(new std::uint64_t[n / 8 + 512]())
    {
        auto p = reinterpret_cast<std::uintptr_t>(storage.get());
        base = reinterpret_cast<std::byte*>((p + 4095) & ~std::uintptr_t{4095});
    }
    std::unique_ptr<std::uint64_t[]> storage;
    std::byte* base = nullptr;
};

} // namespace

TEST_CASE("threads: readers never take a torn frame from a writer that never waits", "[native][channel]")
{
    constexpr std::size_t frame_bytes = 4096;
    geometry g;
    REQUIRE(compute_geometry(frame_bytes, 2, 4096, g) == errc{});
    section s(static_cast<std::size_t>(g.total_size));
    const std::uint32_t marker = protocol::lock_word::channel_layout_marker;
    std::memcpy(s.base, &marker, 4);
    const channel_view writer_view = channel_view::initialize(s.base, g);

    std::atomic<bool> stop{false};
    std::thread writer([&] {
        std::vector<std::byte> frame(frame_bytes);
        for (std::uint64_t seq = 1; !stop.load(std::memory_order_relaxed); ++seq) {
            for (std::size_t i = 0; i < frame_bytes / 8; ++i) {
                const std::uint64_t w = word_for(seq, i);
                std::memcpy(frame.data() + i * 8, &w, 8);
            }
            frame_meta meta;
            meta.user_tag = seq;
            writer_view.write(seq, frame, 0, meta);
        }
    });

    constexpr int readers = 3;
    constexpr int takes = 2000;
    // Catch2's assertions are not thread-safe: threads record, the main thread checks.
    std::vector<int> torn(readers, 0), taken(readers, 0), order(readers, 0), accounting(readers, 0);
    std::vector<int> attached(readers, 0);
    std::vector<std::thread> threads;
    for (int r = 0; r < readers; ++r) {
        threads.emplace_back([&, r] {
            channel_view v;
            if (channel_view::attach(s.base, g.total_size, v) != errc{}) {
                return;
            }
            attached[static_cast<std::size_t>(r)] = 1;
            std::vector<std::byte> out(frame_bytes);
            std::uint64_t last = 0;
            std::uint64_t skipped = 0;
            std::uint64_t first = 0;
            std::uint64_t retries = 0;
            while (taken[static_cast<std::size_t>(r)] < takes) {
                frame_info info;
                bool ok = false;
                if (r == 2) { // in place
                    std::uint32_t slot = 0;
                    std::uint64_t stamp = 0;
                    if (v.peek_latest(last, info, slot, stamp, retries) == channel_view::read_status::frame) {
                        std::vector<std::byte> copy(info.size);
                        racy_copy(copy.data(), v.payload(slot), info.size);
                        if (v.still_valid(slot, stamp)) {
                            ok = true;
                            torn[2] += frame_is(copy, info.sequence) && info.meta.user_tag == info.sequence ? 0 : 1;
                        }
                    }
                } else if (v.read_latest(last, out, info, retries) == channel_view::read_status::frame) {
                    ok = true;
                    torn[static_cast<std::size_t>(r)] +=
                        frame_is(out, info.sequence) && info.meta.user_tag == info.sequence ? 0 : 1;
                }
                if (ok) {
                    if (first == 0) {
                        first = info.sequence;
                        skipped = info.skipped - (info.sequence - 1); // count from the first frame
                    } else {
                        skipped += info.skipped;
                    }
                    order[static_cast<std::size_t>(r)] += info.sequence > last ? 0 : 1;
                    last = info.sequence;
                    ++taken[static_cast<std::size_t>(r)];
                } else {
                    std::this_thread::yield();
                }
            }
            // Every frame between the first and the last was delivered or counted as skipped.
            accounting[static_cast<std::size_t>(r)] =
                static_cast<std::uint64_t>(takes - 1) + skipped == last - first ? 0 : 1;
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    stop = true;
    writer.join();
    for (std::size_t r = 0; r < readers; ++r) {
        CAPTURE(r);
        CHECK(attached[r] == 1);
        CHECK(torn[r] == 0);
        CHECK(taken[r] == takes);
        CHECK(order[r] == 0);
        CHECK(accounting[r] == 0);
    }
}

namespace {

// Each waiter has its own "event": a word it sleeps on with std::atomic::wait, set by the
// notifier for every bit it finds. If the handshake could lose a wake-up, a waiter would sleep
// for ever and the test would hang (ctest's timeout fails it). `scribble` stands for a process
// that may write the waiter block and sets bits at random while all this runs: the notifier
// then signals slots nobody owns (there are events for all 64, as a real notifier finds a
// missing event and skips it) and wakes waiters that have nothing new, which must only cost
// them another look.
void hammer_handshake(protocol::notify_state state, protocol::waiter_block& waiters, bool scribble)
{
    constexpr int waiter_threads = 4;
    constexpr std::uint64_t rounds = 2000;
    std::vector<std::atomic<std::uint32_t>> events(protocol::max_waiters);
    for (auto& e : events) {
        e.store(0);
    }

    std::atomic<bool> done{false};
    std::thread notifier([&] {
        while (!done.load()) {
            std::uint64_t mask = state.bump();
            while (mask != 0) {
                const int i = std::countr_zero(mask);
                mask &= mask - 1;
                events[static_cast<std::size_t>(i)].store(1, std::memory_order_release);
                events[static_cast<std::size_t>(i)].notify_one();
            }
            std::this_thread::yield();
        }
    });
    std::thread scribbler;
    if (scribble) {
        scribbler = std::thread([&] {
            std::atomic_ref<std::uint64_t> mask(waiters.waiting);
            for (std::uint64_t x = 0x9E3779B97F4A7C15ull; !done.load(); x = x * 6364136223846793005ull + 1) {
                // Only sets bits: clearing a sleeper's bit delays it until its timeout, and these
                // waiters have none (the real ones check again every writer_check_interval).
                mask.fetch_or(std::uint64_t{1} << (x >> 58), std::memory_order_relaxed);
                std::this_thread::yield();
            }
        });
    }
    std::vector<std::thread> threads;
    std::vector<int> backwards(waiter_threads, 0);
    for (int w = 0; w < waiter_threads; ++w) {
        threads.emplace_back([&, w] {
            const auto slot = static_cast<std::uint32_t>(w);
            auto& event = events[static_cast<std::size_t>(w)];
            std::uint64_t seen = state.sequence();
            for (std::uint64_t r = 0; r < rounds; ++r) {
                std::uint64_t current = state.announce(slot);
                while (current == seen) {
                    event.wait(0, std::memory_order_acquire); // returns once the event is set
                    event.store(0, std::memory_order_relaxed);  // auto-reset
                    current = state.sequence();
                }
                state.withdraw(slot);
                backwards[static_cast<std::size_t>(w)] += current > seen ? 0 : 1;
                seen = current;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    done = true;
    notifier.join();
    if (scribbler.joinable()) {
        scribbler.join();
    }
    if (!scribble) {
        CHECK(state.waiting_mask() == 0);
    }
    for (int b : backwards) {
        CHECK(b == 0);
    }
}

} // namespace

TEST_CASE("threads: announce/bump never loses a wake-up, and every waiter wakes", "[native][notify]")
{
    auto block = std::make_unique<protocol::notify_block>();
    std::memset(block.get(), 0, sizeof *block);
    hammer_handshake(protocol::notify_state(block.get()), block->waiters, false);
}

TEST_CASE("threads: a channel's split notification (sequence in the channel, waiters in the sibling)",
          "[native][notify][channel]")
{
    geometry g;
    REQUIRE(compute_geometry(4096, 2, 4096, g) == errc{});
    section s(static_cast<std::size_t>(g.total_size));
    const std::uint32_t marker = protocol::lock_word::channel_layout_marker;
    std::memcpy(s.base, &marker, 4);
    const channel_view channel = channel_view::initialize(s.base, g);
    auto sibling = std::make_unique<protocol::waiter_block>();
    std::memset(sibling.get(), 0, sizeof *sibling);
    hammer_handshake(channel.notify(sibling.get()), *sibling, false);
    // And with somebody else setting bits in the sibling all along.
    hammer_handshake(channel.notify(sibling.get()), *sibling, true);
}

TEST_CASE("threads: an owner word has one owner at a time, and a dead owner's is taken over once",
          "[native][notify][identity]")
{
    // Each thread plays a process: it claims the word, holds it briefly, and gives it back; some
    // "die" holding it (they stop without releasing). A claim takes over only from an owner the
    // oracle calls dead, so two live owners never overlap.
    std::uint64_t word = 0;
    constexpr int threads_count = 4;
    constexpr int rounds = 5000;
    std::array<std::atomic<bool>, threads_count> dead{};
    std::atomic<int> owners{0};
    std::atomic<int> violations{0};
    std::atomic<int> takeovers{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_count; ++t) {
        threads.emplace_back([&, t] {
            std::atomic_ref<std::uint64_t> ref(word);
            const protocol::identity me{static_cast<std::uint32_t>(100 + t), 7};
            const auto alive = [&](protocol::identity id) {
                return id.pid < 100 || id.pid >= 100 + threads_count || !dead[id.pid - 100].load();
            };
            for (int r = 0; r < rounds; ++r) {
                std::uint64_t replaced = 0;
                if (protocol::try_claim(ref, me, alive, replaced) != protocol::claim_outcome::claimed) {
                    continue;
                }
                if (replaced != 0) {
                    takeovers.fetch_add(1);
                }
                if (owners.fetch_add(1) != 0) {
                    ++violations;
                }
                const bool dies = t == 0 && r == rounds / 2;
                owners.fetch_sub(1);
                if (dies) {
                    dead[0].store(true); // holds the word, and is gone
                    return;
                }
                if (!protocol::release_claim(ref, me)) {
                    ++violations;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(violations == 0);
    CHECK(takeovers <= 1); // the dead owner's word, once (if anyone came after the death)
    CHECK((word == 0 || word == protocol::pack({100, 7})));
}
