// What winmmf_bench.exe and its helper process (winmmf_bench_helper.exe) agree on: the control
// block that carries the raw spin ping-pong and the stop flag, and the helper's modes.
#pragma once

#include <cstdint>

namespace winmmf::bench {

// In a small mapping the benchmark creates (raw Win32: the baseline uses no winmmf code).
struct control_block {
    alignas(64) std::uint64_t ping; // raw spin ping-pong: the benchmark's counter
    alignas(64) std::uint64_t pong; // ... and the helper's answer
    alignas(64) std::uint32_t stop; // 1: the helper returns after its next wake-up
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
// Every transfer receiver reads each byte of the frame once before it acknowledges.
// Every helper signals the named event "<control>-ready" once it is connected.

// The frame every transfer row moves: 1920 x 1080 RGB.
inline constexpr std::uint32_t frame_width = 1920;
inline constexpr std::uint32_t frame_height = 1080;
inline constexpr std::size_t frame_bytes = std::size_t{frame_width} * frame_height * 3; // 6,220,800

} // namespace winmmf::bench
