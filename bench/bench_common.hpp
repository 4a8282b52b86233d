// What winmmf_bench.exe and its helper process (winmmf_bench_helper.exe) agree on: the control
// block that carries the raw spin ping-pong, the stop flag and the helper's counts, and the
// helper's modes.
#pragma once

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

} // namespace winmmf::bench
