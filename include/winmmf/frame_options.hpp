// winmmf/frame_options.hpp - what a frame writer's create, open and open_or_create take, and
// what a frame reader's open takes.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/large_pages.hpp>
#include <winmmf/mapping_options.hpp>

#include <cstddef>
#include <cstdint>

namespace winmmf {

inline constexpr std::uint32_t default_frame_slots = 3;

struct writer_options {
    // The largest frame the channel carries, in bytes: required by create and open_or_create
    // (which takes over only a channel of exactly this frame size and slot count); open takes
    // the channel as it is and ignores both.
    std::size_t max_frame_size = 0;
    // Buffers used round robin (2..64). A reader has (slots - 1) frame periods to copy a frame
    // or finish processing it in place before the writer comes back to its slot.
    std::uint32_t slots = default_frame_slots;
    // Secures the frames' mapping, which only the writer should be allowed to write (a
    // service: security_preset::service_writes_users_read). Null: the account's default.
    SECURITY_ATTRIBUTES* security_attributes = nullptr;
    // Secures the notification sibling, where readers that block announce themselves: users
    // that may write it can sleep until the next frame (service_writes_users_read_write), and
    // never alter one. Null: the same as security_attributes.
    SECURITY_ATTRIBUTES* notification_security_attributes = nullptr;
    // For the frames (the sibling, 640 bytes, never uses large pages).
    large_page_mode large_pages = large_page_mode::off;
};

struct reader_options {
    // read_only maps the frames with FILE_MAP_READ, which is all a reader needs: the frames of
    // a service that grants users read access only. Blocking waits do not write the frames;
    // they announce themselves in the channel's notification sibling ("<name>#<nonce>"), which
    // open() maps read-write when its descriptor allows. Where it does not, blocking waits fail
    // with errc::read_only and taking by polling (try_take, spin) still works; can_wait() says
    // which.
    access_mode access = access_mode::read_write;
    // Secures the waiter event the reader creates when it first blocks. Null: the account's
    // default (which lets SYSTEM, a service, signal it). A descriptor of your own must grant the
    // writer's account EVENT_MODIFY_STATE (GENERIC_WRITE on an event).
    SECURITY_ATTRIBUTES* security_attributes = nullptr;
    // Reader-first start-up: how long open() waits for a channel that does not exist yet (or
    // whose writer has not finished creating it), as open_options::wait: try_once() (the
    // default) fails at once with errc::not_found; wait_for(5s) looks again every 10 ms.
    // Once open, take() with a blocking mode waits for the first frame as for any other.
    acquire_mode wait = acquire_mode::try_once();
};

} // namespace winmmf
