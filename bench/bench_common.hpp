// What winmmf_bench.exe and its helper process (winmmf_bench_helper.exe) agree on: the control
// block that carries the raw spin ping-pong, the stop flag and the helper's counts, and the
// helper's modes.
#pragma once

// <winsock2.h> before <windows.h>, as in both programs.
#include <winsock2.h>
#include <windows.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace winmmf::bench {

// In a small mapping the benchmark creates (raw Win32: the baseline uses no winmmf code).
struct control_block {
    alignas(64) std::uint64_t ping; // raw spin ping-pong: the benchmark's counter
    alignas(64) std::uint64_t pong; // ... and the helper's answer
    alignas(64) std::uint32_t stop; // 1: the helper returns after its next wake-up
    // publish-on-ack: frames published, and how many of them the helper held back because no
    // reader was announced in the channel's notification sibling yet (written by the helper).
    alignas(64) std::uint64_t published;
    std::uint64_t held_back;
    // stamp-event: the helper's QueryPerformanceCounter value as it set <wake>.
    alignas(64) std::int64_t stamp;
    // notify-raw: the raw notification algorithm's words, one pair per direction (0: ping, the
    // benchmark notifies; 1: pong, the helper does): a sequence and a count of sleepers.
    alignas(64) std::uint64_t raw_sequence[2];
    alignas(64) std::uint32_t raw_sleepers[2];
    // read-lock: set while a round runs; the helper's count of lock/unlock pairs in its last
    // round, and how many rounds it has reported.
    alignas(64) std::uint32_t go;
    alignas(64) std::uint64_t counts[1];
    std::uint64_t rounds;
    // raw-view / raw-copy: the length of the frame in the raw transfer mapping.
    alignas(64) std::uint64_t raw_length;
};

// The helper's first argument. Each mode answers one round trip per request until stopped.
//   spin-raw     <control>                 raw words in <control>, spinning
//   spin-ours    <control> <ping> <pong>   notification::wait(spin_forever) / notify
//   event-raw    <control> <ping> <pong>   named auto-reset events, WaitForSingleObject
//   event-ours   <control> <ping> <pong>   notification::wait(wait_for) / notify
//   channel-copy <control> <channel> <ack> frame_reader::take (copy out), read it, notify <ack>
//   channel-view <control> <channel> <ack> frame_reader::acquire (in place), read it, notify <ack>
//   pipe         <control> <pipe-name>     length-prefixed frames in, read, one byte back
//   tcp          <control> <port>          the same over TCP loopback
//   publish-on-ack <control> <channel> <ack>
//                                          the writer of a new channel: after each notify of
//                                          <ack>, waits until a reader is announced, then
//                                          wake_settle more, then publishes one 64-byte frame
//                                          stamped with QueryPerformanceCounter (async rows)
//   stamp-event  <control> <request> <wake> named auto-reset events: after each <request>,
//                                          wake_settle, then the stamp in <control>, SetEvent(<wake>)
//   notify-raw   <control> <ping> <pong>   the notification's algorithm written raw (below), on
//                                          named auto-reset events: the baseline of event-ours
//   raw-view     <control> <section> <ping> <pong>
//                                          the raw single-buffer transfer: after each <ping> the
//                                          frame (raw_length bytes) is read in place in <section>,
//                                          then <pong> is set
//   raw-copy     <control> <section> <ping> <pong>
//                                          the same, the frame copied out first, then read
//   read-lock    <control> <mapping> <policy>
//                                          per round (after each SetEvent of "<control>-start"):
//                                          lock_read + unlock of the mapping (policy "default" or
//                                          "robust") while `go` is set, then counts[0] and rounds
// Every transfer receiver reads each byte of the frame once before it acknowledges.
// Every helper signals the named event "<control>-ready" once it is connected (publish-on-ack:
// once its channel exists).

// The frame every transfer row moves: 1920 x 1080 RGB.
inline constexpr std::uint32_t frame_width = 1920;
inline constexpr std::uint32_t frame_height = 1080;
inline constexpr std::size_t frame_bytes = std::size_t{frame_width} * frame_height * 3; // 6,220,800

// The frame of the async wake-up rows: small, so that the rows measure the wake-up, not a copy.
// Its first 8 bytes are the writer's QueryPerformanceCounter value when it published.
inline constexpr std::size_t wake_frame_bytes = 64;
// How long the writer of those rows lets an announced reader get into its kernel wait before it
// publishes (not part of the measured latency).
inline constexpr std::chrono::microseconds wake_settle{300};

// The notification's algorithm - sleep only after announcing it, notify with a system call only
// when someone sleeps - written raw on a sequence, a sleeper count and an auto-reset event, for
// the baseline of the blocking handoff: the same algorithm, without the library.
inline void raw_notify(std::uint64_t& sequence, std::uint32_t& sleepers, HANDLE event) noexcept
{
    // seq_cst, both: the store of the sequence and the load of the sleepers must not pass each
    // other (nor the waiter's announcement and re-check): Dekker's pattern.
    std::atomic_ref<std::uint64_t>(sequence).fetch_add(1, std::memory_order_seq_cst);
    if (std::atomic_ref<std::uint32_t>(sleepers).load(std::memory_order_seq_cst) != 0) {
        ::SetEvent(event);
    }
}

inline std::uint64_t raw_wait(std::uint64_t& sequence, std::uint32_t& sleepers, std::uint64_t seen,
                              HANDLE event) noexcept
{
    std::atomic_ref<std::uint64_t> seq(sequence);
    std::atomic_ref<std::uint32_t> sleeping(sleepers);
    for (;;) {
        std::uint64_t now = seq.load(std::memory_order_acquire);
        if (now != seen) {
            return now;
        }
        sleeping.fetch_add(1, std::memory_order_seq_cst);
        now = seq.load(std::memory_order_seq_cst);
        if (now == seen) {
            ::WaitForSingleObject(event, INFINITE); // a stale signal only makes one more turn
        }
        sleeping.fetch_sub(1, std::memory_order_relaxed);
    }
}

} // namespace winmmf::bench
