// The service's work: one frame channel per frame source, each fed by a thread of its own
// until the stop event is signalled. Everything it creates is released on every path (RAII);
// on a stop the channels are closed - readers see the end of the stream - and the index file
// is removed.
#pragma once

#include "frame_source.hpp"
#include "index_file.hpp"
#include "mf_source.hpp"
#include "options.hpp"
#include "source_errors.hpp"
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
inline constexpr int worker_source_failed = 12; // a camera or file could not be opened or read

inline std::vector<std::unique_ptr<frame_source>> make_sources(const options& o, const logger& log)
{
    std::vector<std::unique_ptr<frame_source>> sources;
    if (o.source.kind != source_kind::synthetic) {
        mf_source_options m;
        m.spec = o.source;
        m.format = o.effective_format();
        if (o.size_set) {
            m.width = o.width;
            m.height = o.height;
        }
        m.fps = o.fps_set ? o.fps : 0;
        m.pace_fast = o.pace_fast;
        m.loop = o.loop;
        sources.push_back(std::make_unique<mf_source>(std::move(m), log.info));
        return sources;
    }
    for (unsigned i = 0; i < o.sources; ++i) {
        sources.push_back(std::make_unique<synthetic_source>(i, o.width, o.height, o.effective_format(), o.fps));
    }
    return sources;
}

inline std::string failure_text(const frame_source& source, const std::error_code& ec)
{
    std::string text = source.description() + ": " + ec.message();
    if (const auto* m = dynamic_cast<const mf_source*>(&source); m != nullptr && !m->detail().empty()) {
        text += " (" + m->detail() + ")";
    }
    return text;
}

// Opens a source, retrying what may clear up by itself (no camera yet, a busy or lost one) by
// the retry policy (source_errors.hpp); false when it gave up, was stopped, or the error is final.
inline bool open_with_retry(frame_source& source, HANDLE stop, const retry_policy& policy, const logger& log,
                            std::error_code& ec)
{
    for (unsigned failures = 1;; ++failures) {
        if (source.open(stop, ec)) {
            return true;
        }
        const retry_decision next = decide_retry(ec, failures, policy);
        if (!next.retry) {
            log.error(failure_text(source, ec) +
                      (is_retriable(ec.category() == source_category() ? static_cast<source_errc>(ec.value()) : source_errc{})
                           ? "; giving up after " + std::to_string(failures) + " attempt(s)"
                           : std::string()));
            return false;
        }
        log.info(failure_text(source, ec) + "; retrying in " + std::to_string(next.delay.count() / 1000) + "." +
                 std::to_string(next.delay.count() % 1000 / 100) + " s (retry " + std::to_string(failures) + " of " +
                 (policy.max_attempts == 0 ? std::string("unlimited") : std::to_string(policy.max_attempts)) + ")");
        if (::WaitForSingleObject(stop, static_cast<DWORD>(next.delay.count())) == WAIT_OBJECT_0) {
            ec.clear();
            return false;
        }
    }
}

enum class pump_result : std::uint8_t { stopped, ended, publish_failed, source_failed };

// Moves frames from one source into its channel until stopped or the source ends; a source that
// fails with a condition that may clear up (a camera lost or taken by another application) is
// reopened by the retry policy while the channel stays open - readers simply see no frames.
inline pump_result pump(frame_source& source, winmmf::frame_writer& writer, HANDLE stop, const retry_policy& policy,
                        const logger& log)
{
    const frame_format f = source.format();
    std::error_code ec;
    for (;;) {
        winmmf::writable_frame slot = writer.begin_frame(ec);
        if (ec) {
            log.error("publishing on " + writer.name().to_utf8() + ": " + ec.message());
            return pump_result::publish_failed;
        }
        const auto bytes = slot.bytes().first(f.frame_size()); // render in place: zero copy
        std::int64_t timestamp = 0;
        switch (source.next_frame(stop, bytes, timestamp, ec)) {
        case frame_status::frame:
            break;
        case frame_status::stopped:
            return pump_result::stopped; // the unpublished slot is abandoned, never seen by readers
        case frame_status::end_of_stream:
            log.info(source.description() + ": end of stream after " + std::to_string(writer.published()) +
                     " frame(s) on " + writer.name().to_utf8());
            return pump_result::ended;
        case frame_status::failed:
            if (!decide_retry(ec, 1, policy).retry) {
                log.error(failure_text(source, ec));
                return pump_result::source_failed;
            }
            log.info(failure_text(source, ec) + "; reopening");
            source.close();
            if (!open_with_retry(source, stop, policy, log, ec)) {
                return ec ? pump_result::source_failed : pump_result::stopped;
            }
            if (source.format() != f) {
                log.error(source.description() + ": " + std::error_code(source_errc::geometry_changed).message());
                return pump_result::source_failed;
            }
            continue;
        }
        slot.publish(bytes.size(),
                     {.width = f.width,
                      .height = f.height,
                      .stride = f.stride,
                      .format = f.format,
                      .timestamp = timestamp,
                      .user_tag = checksum(bytes)},
                     ec);
        if (ec) {
            log.error("publishing on " + writer.name().to_utf8() + ": " + ec.message());
            return pump_result::publish_failed;
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

    // --duration bounds the whole run, the waits for a camera included.
    std::thread deadline;
    if (o.duration_seconds != 0) {
        deadline = std::thread([stop, ms = o.duration_seconds * 1000u] {
            if (::WaitForSingleObject(stop, ms) == WAIT_TIMEOUT) {
                ::SetEvent(stop);
            }
        });
    }
    struct join_deadline {
        HANDLE stop;
        std::thread& t;
        ~join_deadline()
        {
            if (t.joinable()) {
                ::SetEvent(stop); // the run is over either way
                t.join();
            }
        }
    } joiner{stop, deadline};

    const retry_policy policy{.max_attempts = o.retries};
    std::vector<std::unique_ptr<frame_source>> sources = make_sources(o, log);
    for (const auto& source : sources) {
        if (!open_with_retry(*source, stop, policy, log, ec)) {
            return ec ? worker_source_failed : worker_ok; // stopped while waiting for the source
        }
    }
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
        entries.push_back({writer.name().to_utf8(), f.width, f.height, f.format, f.frame_size(), f.stride, sources[i]->kind()});
        writers.push_back(std::move(writer));
    }

    const std::string index = index_path(o);
    if (const std::error_code written = write_index_atomically(index, format_index(entries))) {
        log.error("cannot write the index file " + index + ": " + written.message());
        return worker_setup_failed;
    }
    const frame_format first = sources.front()->format();
    log.info("publishing " + std::to_string(sources.size()) + " source(s) of " + std::to_string(first.width) + "x" +
             std::to_string(first.height) + " " + std::string(to_string(first.format)) +
             (o.source.kind == source_kind::synthetic ? " at " + std::to_string(o.fps) + " fps" : " from " + o.source.to_string()) +
             "; index: " + index);

    // One thread per source; a failing source stops the others, so the service ends with a
    // clear error rather than limping on. A source that ends (a file) ends its channel only; the
    // run ends when every channel has.
    std::atomic<int> result{worker_ok};
    std::vector<std::thread> threads;
    threads.reserve(sources.size());
    for (std::size_t i = 0; i < sources.size(); ++i) {
        try {
            threads.emplace_back([&, i] {
                pump_result r = pump_result::publish_failed;
                try {
                    r = pump(*sources[i], writers[i], stop, policy, log);
                } catch (const std::exception& e) { // out of memory, most likely: stop cleanly
                    log.error("source " + std::to_string(i) + ": " + e.what());
                }
                if (r == pump_result::publish_failed || r == pump_result::source_failed) {
                    int expected = worker_ok;
                    result.compare_exchange_strong(expected, r == pump_result::publish_failed ? worker_publish_failed
                                                                                             : worker_source_failed);
                    ::SetEvent(stop);
                }
                sources[i]->close();
                std::error_code closed;
                writers[i].close(closed); // readers see the end of this stream now
            });
        } catch (const std::system_error& e) { // no thread: stop the ones running, then report
            log.error("cannot start the thread of source " + std::to_string(i) + ": " + e.what());
            result.store(worker_setup_failed);
            ::SetEvent(stop);
            break;
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
    return result.load();
}

} // namespace frame_service
