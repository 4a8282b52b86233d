// winmmf/frame_writer.hpp - the one writer of a frame channel: publishes fixed-size frames that
// any number of readers in other processes take (frame_reader.hpp). The writer never waits.
//
//   // producer (a capture service, say)
//   auto writer = winmmf::frame_writer::create(winmmf::local("cam0"),
//       {.max_frame_size = winmmf::frame_size(1920, 1080, winmmf::pixel_format::rgb24)});
//   auto frame = writer.begin_frame();                // zero-copy: render or DMA into it
//   render(frame.bytes());
//   frame.publish(frame.bytes().size(), {.width = 1920, .height = 1080, .stride = 5760,
//                                        .format = winmmf::pixel_format::rgb24});
//   writer.close();                                   // readers see errc::end_of_stream
//
// A service that users may read from but not write to, whose readers may still sleep until the
// next frame (docs/explanation/security.md):
//
//   auto frames = winmmf::security_descriptor::from_preset(winmmf::security_preset::service_writes_users_read);
//   auto wake = winmmf::security_descriptor::from_preset(winmmf::security_preset::service_writes_users_read_write);
//   auto writer = winmmf::frame_writer::open_or_create(winmmf::global("cam0"),
//       {.max_frame_size = size, .security_attributes = frames.attributes(),
//        .notification_security_attributes = wake.attributes()});
//
// Design (docs/explanation/frames.md): `slots` page-aligned buffers used round robin, each guarded by a
// sequence lock; the writer role is the writer's process identity in the channel; the readers'
// waiter slots live in a sibling mapping the writer makes under a random name.
#pragma once

#include <winmmf/detail/frame_core.hpp>
#include <winmmf/detail/section_errors.hpp>
#include <winmmf/error.hpp>
#include <winmmf/frame_clock.hpp>
#include <winmmf/frame_options.hpp>
#include <winmmf/frame_types.hpp>
#include <winmmf/name.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <utility>

namespace winmmf {

// A frame being written in place (frame_writer::begin_frame). Fill bytes(), then publish();
// destroying it unpublished abandons the frame (readers never see it). Move-only; must not
// outlive the writer it came from.
class writable_frame {
public:
    writable_frame() noexcept = default;
    writable_frame(writable_frame&& other) noexcept
        : core_(std::exchange(other.core_, nullptr)), bytes_(other.bytes_), sequence_(other.sequence_),
          token_(other.token_)
    {
    }
    writable_frame& operator=(writable_frame&& other) noexcept
    {
        core_ = std::exchange(other.core_, nullptr);
        bytes_ = other.bytes_;
        sequence_ = other.sequence_;
        token_ = other.token_;
        return *this;
    }
    writable_frame(const writable_frame&) = delete;
    writable_frame& operator=(const writable_frame&) = delete;

    explicit operator bool() const noexcept { return core_ != nullptr; }
    // max_frame_size() bytes, page-aligned.
    std::span<std::byte> bytes() const noexcept { return core_ != nullptr ? bytes_ : std::span<std::byte>{}; }
    std::uint64_t sequence() const noexcept { return sequence_; }

    // Publishes the first `size` bytes with `meta`; returns the frame's sequence. A size over
    // max_frame_size() fails with errc::too_large and leaves the frame open. A frame that a
    // later begin_frame() or publish() of the same writer abandoned fails with
    // errc::frame_abandoned and publishes nothing: its buffer is the newer frame's now.
#if WINMMF_EXCEPTIONS
    std::uint64_t publish(std::size_t size, const frame_meta& meta = {})
    {
        std::error_code ec;
        const std::uint64_t s = publish(size, meta, ec);
        detail::throw_if(ec, "winmmf: writable_frame::publish");
        return s;
    }
#endif
    std::uint64_t publish(std::size_t size, const frame_meta& meta, std::error_code& ec) noexcept
    {
        if (core_ == nullptr) {
            ec = errc::not_open;
            return 0;
        }
        const std::uint64_t s = core_->commit(sequence_, token_, size, meta, ec);
        if (ec != errc::too_large) {
            core_ = nullptr;
        }
        return s;
    }

private:
    friend class frame_writer;
    writable_frame(detail::channel_core* core, std::span<std::byte> bytes, std::uint64_t sequence,
                   std::uint64_t token) noexcept
        : core_(core), bytes_(bytes), sequence_(sequence), token_(token)
    {
    }

    detail::channel_core* core_ = nullptr;
    std::span<std::byte> bytes_{};
    std::uint64_t sequence_ = 0;
    std::uint64_t token_ = 0;
};

// The one writer of a channel. Move-only; writable frames must not outlive it, nor be used
// across a move of it.
class frame_writer {
public:
    frame_writer() noexcept = default;
    frame_writer(frame_writer&&) noexcept = default;
    frame_writer& operator=(frame_writer&& other) noexcept
    {
        if (this != &other) {
            close_quietly();
            core_ = std::move(other.core_);
        }
        return *this;
    }
    frame_writer(const frame_writer&) = delete;
    frame_writer& operator=(const frame_writer&) = delete;
    ~frame_writer() { close_quietly(); }

    // Creates the channel and becomes its writer; errc::already_exists if the name is taken.
#if WINMMF_EXCEPTIONS
    static frame_writer create(const name_ref& name, const writer_options& options)
    {
        return detail::or_throw("frame_writer::create", name, [&](std::error_code& ec) { return create(name, options, ec); });
    }
#endif
    static frame_writer create(const name_ref& name, const writer_options& options, std::error_code& ec) noexcept
    {
        return establish(detail::open_mode::create_only, name, options, ec);
    }

    // Becomes the writer of an existing channel whose writer closed it or is gone (a writer
    // that lives is refused with errc::channel_has_writer); sequences continue from the last
    // published frame. The geometry is the channel's (options.max_frame_size and slots are not
    // used); the security options apply to the notification sibling this writer makes.
#if WINMMF_EXCEPTIONS
    static frame_writer open(const name_ref& name, const writer_options& options = {})
    {
        return detail::or_throw("frame_writer::open", name, [&](std::error_code& ec) { return open(name, options, ec); });
    }
#endif
    static frame_writer open(const name_ref& name, std::error_code& ec) noexcept { return open(name, {}, ec); }
    static frame_writer open(const name_ref& name, const writer_options& options, std::error_code& ec) noexcept
    {
        return establish(detail::open_mode::open_only, name, options, ec);
    }

    // Creates the channel, or takes over the existing one from a writer that is gone (closed,
    // or its process ended) - the restart of a service while readers still hold the channel.
    // Refused: while the old writer lives (errc::channel_has_writer); a channel of another
    // geometry (errc::too_large when its frames are smaller, errc::geometry_mismatch for any
    // other difference of frame size or slot count); a channel that another account owns
    // (errc::foreign_owner: somebody created it first under this name). Readers of the old
    // writer see writer_gone (or end_of_stream), then the new frames, whose sequences continue.
#if WINMMF_EXCEPTIONS
    static frame_writer open_or_create(const name_ref& name, const writer_options& options)
    {
        return detail::or_throw("frame_writer::open_or_create", name,
                                [&](std::error_code& ec) { return open_or_create(name, options, ec); });
    }
#endif
    static frame_writer open_or_create(const name_ref& name, const writer_options& options,
                                       std::error_code& ec) noexcept
    {
        return establish(detail::open_mode::open_or_create, name, options, ec);
    }

    // True while this object holds the writer role (until close()).
    bool is_open() const noexcept { return core_ != nullptr && core_->holds_role; }
    explicit operator bool() const noexcept { return is_open(); }
    bool created() const noexcept { return core_ != nullptr && core_->mapping.created(); }
    // These describe the channel for as long as the object has it (after close() too).
    const object_name& name() const noexcept
    {
        static const object_name none;
        return core_ != nullptr ? core_->mapping.name() : none;
    }
    std::size_t max_frame_size() const noexcept
    {
        return core_ != nullptr ? static_cast<std::size_t>(core_->view.shape().max_frame_size) : 0;
    }
    std::uint32_t slot_count() const noexcept { return core_ != nullptr ? core_->view.shape().slot_count : 0; }
    // The sequence of the newest published frame (0 before the first).
    std::uint64_t published() const noexcept { return core_ != nullptr ? core_->view.published() : 0; }
    // The notification sibling this writer made, "<name>#<16 hex digits>" (for diagnostics and
    // for securing or inspecting it; readers find it through the channel).
    const object_name& notification_name() const noexcept
    {
        static const object_name none;
        return core_ != nullptr ? core_->waiters_name : none;
    }
    // Readers blocked right now, waiting for the next frame (as the notification sibling
    // says: whoever may write it can make this number wrong, never the frames).
    std::size_t waiting() const noexcept { return core_ != nullptr ? core_->waiting_count() : 0; }

    // Copies `frame` into the next slot and publishes it; returns its sequence. Never waits.
#if WINMMF_EXCEPTIONS
    std::uint64_t publish(std::span<const std::byte> frame, const frame_meta& meta = {})
    {
        return detail::or_throw("frame_writer::publish", name(), [&](std::error_code& ec) { return publish(frame, meta, ec); });
    }
#endif
    std::uint64_t publish(std::span<const std::byte> frame, const frame_meta& meta, std::error_code& ec) noexcept
    {
        if (!check_open(ec)) {
            return 0;
        }
        return core_->publish(frame, meta, ec);
    }

    // Zero-copy: the next frame, to be filled in place and published. Starting a new frame
    // abandons one begun before and not published.
#if WINMMF_EXCEPTIONS
    writable_frame begin_frame()
    {
        return detail::or_throw("frame_writer::begin_frame", name(), [&](std::error_code& ec) { return begin_frame(ec); });
    }
#endif
    writable_frame begin_frame(std::error_code& ec) noexcept
    {
        if (!check_open(ec)) {
            return {};
        }
        ec.clear();
        std::uint64_t sequence = 0;
        std::uint64_t token = 0;
        const std::span<std::byte> bytes = core_->begin(sequence, token);
        return writable_frame(core_.get(), bytes, sequence, token);
    }

    // Ends the stream: readers that have taken the last frame get errc::end_of_stream instead
    // of waiting, and the writer role is free for another process (frame_writer::open). The
    // object keeps its view of the channel until it is destroyed, so the name stays (a reader
    // that opens it meanwhile sees the end of the stream, not "no such channel"); publishing
    // through it fails with errc::not_open. The destructor closes, too.
#if WINMMF_EXCEPTIONS
    void close()
    {
        detail::or_throw("frame_writer::close", name(), [&](std::error_code& ec) { close(ec); });
    }
#endif
    void close(std::error_code& ec) noexcept
    {
        ec.clear();
        if (!is_open()) {
            return;
        }
        core_->view.set_closed(true);
        core_->wake_readers();
        core_->release_role();
    }

private:
    static frame_writer establish(detail::open_mode how, const name_ref& name, const writer_options& options,
                                  std::error_code& ec) noexcept
    {
        frame_writer w;
        ec = detail::open_writer_channel(how, name, options, w.core_);
        return w;
    }

    bool check_open(std::error_code& ec) const noexcept
    {
        if (is_open()) {
            return true;
        }
        ec = errc::not_open;
        return false;
    }

    void close_quietly() noexcept
    {
        std::error_code ignored;
        close(ignored);
    }

    std::unique_ptr<detail::channel_core> core_;
};

} // namespace winmmf
