// The service's work: one frame channel per frame source, each fed by a thread of its own
// until the stop event is signalled. Everything it creates is released on every path (RAII);
// on a stop the channels are closed - readers see the end of the stream - and the index file
// is removed.
#pragma once

#include "frame_source.hpp"
#include "index_file.hpp"
#include "options.hpp"
#include "synthetic.hpp"

#include <winmmf/frame_writer.hpp>
#include <winmmf/security.hpp>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace frame_service {

// Where messages go: the console in the foreground, the event log as a service.
struct logger {
    std::function<void(const std::string&)> info;
    std::function<void(const std::string&)> error;
};

// Exit codes of the worker (and so of `frame_service run` and of the service).
inline constexpr int worker_ok = 0;
inline constexpr int worker_setup_failed = 10;
inline constexpr int worker_publish_failed = 11;

inline std::vector<std::unique_ptr<frame_source>> make_sources(const options& o)
{
    std::vector<std::unique_ptr<frame_source>> sources;
    for (unsigned i = 0; i < o.sources; ++i) {
        sources.push_back(std::make_unique<synthetic_source>(i, o.width, o.height, o.format, o.fps));
    }
    return sources;
}

// Moves frames from one source into its channel until stopped; false if publishing failed.
inline bool pump(frame_source& source, winmmf::frame_writer& writer, HANDLE stop, const logger& log)
{
    const frame_format f = source.format();
    std::error_code ec;
    for (;;) {
        winmmf::writable_frame slot = writer.begin_frame(ec);
        if (ec) {
            log.error("publishing on " + writer.name().to_utf8() + ": " + ec.message());
            return false;
        }
        const auto bytes = slot.bytes().first(f.frame_size()); // render in place: zero copy
        if (!source.next_frame(stop, bytes, ec)) {
            if (ec) {
                log.error(source.description() + " failed: " + ec.message());
                return false;
            }
            return true; // stopped; the unpublished slot is abandoned, never seen by readers
        }
        slot.publish(bytes.size(),
                     {.width = f.width,
                      .height = f.height,
                      .stride = f.stride,
                      .format = f.format,
                      .timestamp = winmmf::frame_clock::now().time_since_epoch().count(),
                      .user_tag = checksum(bytes)},
                     ec);
        if (ec) {
            log.error("publishing on " + writer.name().to_utf8() + ": " + ec.message());
            return false;
        }
    }
}

inline int publish_frames(const options& o, HANDLE stop, const logger& log)
{
    std::error_code ec;
    // Frames: this account (SYSTEM, for the service) writes; every signed-in user reads. The
    // notification also lets users announce that they wait, so that they need not spin.
    const auto frames_sd = winmmf::security_descriptor::from_preset(
        winmmf::security_preset::service_writes_users_read, ec);
    const auto notify_sd = ec ? winmmf::security_descriptor{}
                              : winmmf::security_descriptor::from_preset(
                                    winmmf::security_preset::service_writes_users_read_write, ec);
    if (ec) {
        log.error("cannot build the channels' security descriptors: " + ec.message());
        return worker_setup_failed;
    }

    std::vector<std::unique_ptr<frame_source>> sources = make_sources(o);
    std::vector<winmmf::frame_writer> writers;
    std::vector<index_entry> entries;
    for (std::size_t i = 0; i < sources.size(); ++i) {
        const std::string object = o.basename + "_" + std::to_string(i);
        const winmmf::name_ref name = o.global_namespace ? winmmf::global(object) : winmmf::local(object);
        const frame_format f = sources[i]->format();
        // Created, or taken over from the previous run of the service: viewers that still hold
        // the channel keep it alive across a restart, and see the new frames continue it.
        winmmf::frame_writer writer = winmmf::frame_writer::open_or_create(name, {.max_frame_size = f.frame_size(), .security_attributes = frames_sd.attributes(), .notification_security_attributes = notify_sd.attributes()}, ec);
        if (ec) {
            log.error("cannot create or take over the channel " +
                      std::string(o.global_namespace ? "Global\\" : "Local\\") + object + ": " + ec.message());
            return worker_setup_failed; // the writers made so far close as they go out of scope
        }
        if (!writer.created()) {
            log.info("took over " + writer.name().to_utf8() + " from the previous writer (frames continue at #" +
                     std::to_string(writer.published() + 1) + ")");
        }
        entries.push_back({writer.name().to_utf8(), f.width, f.height, f.format, f.frame_size()});
        writers.push_back(std::move(writer));
    }

    const std::string index = index_path(o);
    if (const std::error_code written = write_index_atomically(index, format_index(entries))) {
        log.error("cannot write the index file " + index + ": " + written.message());
        return worker_setup_failed;
    }
    log.info("publishing " + std::to_string(sources.size()) + " source(s) of " + std::to_string(o.width) + "x" +
             std::to_string(o.height) + " " + std::string(to_string(o.format)) + " at " + std::to_string(o.fps) +
             " fps; index: " + index);

    // One thread per source; a failing source stops the others, so the service ends with a
    // clear error rather than limping on.
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    threads.reserve(sources.size());
    for (std::size_t i = 0; i < sources.size(); ++i) {
        try {
            threads.emplace_back([&, i] {
                bool ok = false;
                try {
                    ok = pump(*sources[i], writers[i], stop, log);
                } catch (const std::exception& e) { // out of memory, most likely: stop cleanly
                    log.error("source " + std::to_string(i) + ": " + e.what());
                }
                if (!ok) {
                    failed.store(true);
                    ::SetEvent(stop);
                }
            });
        } catch (const std::system_error& e) { // no thread: stop the ones running, then report
            log.error("cannot start the thread of source " + std::to_string(i) + ": " + e.what());
            failed.store(true);
            ::SetEvent(stop);
            break;
        }
    }
    if (o.duration_seconds != 0) {
        if (::WaitForSingleObject(stop, o.duration_seconds * 1000u) == WAIT_TIMEOUT) {
            ::SetEvent(stop);
        }
    }
    for (std::thread& t : threads) {
        t.join();
    }

    // Readers blocked in take() wake with errc::end_of_stream instead of waiting for ever.
    for (winmmf::frame_writer& writer : writers) {
        writer.close(ec);
    }
    remove_index(index);
    log.info("stopped; channels closed and " + index + " removed");
    return failed.load() ? (threads.size() < sources.size() ? worker_setup_failed : worker_publish_failed) : worker_ok;
}

} // namespace frame_service
