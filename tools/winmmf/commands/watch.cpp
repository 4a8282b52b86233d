// winmmf watch NAME [--interval MS] [--count N] [--include-lock]
#include "../command.hpp"
#include "../raw_section.hpp"

#include <winmmf/frame_channel.hpp>
#include <winmmf/notification.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace winmmf::tool {

using namespace winmmf::cli;

namespace {

std::string timestamp()
{
    SYSTEMTIME t{};
    ::GetLocalTime(&t);
    char text[32];
    std::snprintf(text, sizeof text, "%02u:%02u:%02u.%03u", static_cast<unsigned>(t.wHour),
                  static_cast<unsigned>(t.wMinute), static_cast<unsigned>(t.wSecond),
                  static_cast<unsigned>(t.wMilliseconds));
    return text;
}

struct watch_settings {
    std::chrono::milliseconds interval{100};
    std::optional<std::uint64_t> count;
    bool include_lock = false;
};

// A frame channel: one line per frame taken, woken by the channel's own notification. The
// frames are only read, so a read-only open is enough (a service's channel grants users no
// more); an account that may not sleep on the notification polls every --interval instead.
int watch_channel(const resolved_name& name, const watch_settings& settings, cancel_token& cancel)
{
    std::error_code ec;
    frame_reader reader = frame_reader::open(name.ref, reader_options{.access = access_mode::read_only}, ec);
    if (ec) {
        return fail_open(ec, name);
    }
    std::vector<std::byte> frame(reader.max_frame_size());
    const bool sleeps = reader.can_wait();
    if (!out().line("watching " + name.full_utf8 + ": a frame channel of " + std::to_string(reader.slot_count()) +
                    " slots, " +
                    (sleeps ? std::string("woken by its notification")
                            : "polling every " + std::to_string(settings.interval.count()) +
                                  " ms (this account may not sleep on its notification)") +
                    "; Ctrl-C stops")) {
        return exit_io;
    }
    for (std::uint64_t lines = 0; !settings.count || lines < *settings.count;) {
        frame_info info;
        if (sleeps) {
            info = reader.take(frame, acquire_mode::wait_for(std::chrono::seconds(1)).with_cancel(cancel), ec);
        } else if (!reader.try_take(frame, info, ec) && !ec) {
            // A blocking take notices a writer that died; polling has to ask.
            if (reader.writer_state() == writer_status::gone) {
                ec = make_error_code(errc::writer_gone);
            } else if (::WaitForSingleObject(stop_event(), static_cast<DWORD>(settings.interval.count())) ==
                       WAIT_OBJECT_0) {
                break;
            } else {
                continue;
            }
        }
        if (ec == errc::timeout) {
            continue;
        }
        if (ec == errc::cancelled) {
            break;
        }
        if (ec == errc::end_of_stream || ec == errc::writer_gone) {
            out().line(timestamp() + "  " + ec.message());
            return exit_ok;
        }
        if (ec) {
            return fail(ec, "watch", name.full_utf8);
        }
        std::string line = timestamp() + "  frame #" + std::to_string(info.sequence) + ": " +
                           std::to_string(info.size) + " bytes";
        if (info.meta.width != 0) {
            line += ", " + std::to_string(info.meta.width) + "x" + std::to_string(info.meta.height);
        }
        if (info.skipped != 0) {
            line += ", " + std::to_string(info.skipped) + " skipped before it";
        }
        if (!out().line(line)) {
            return exit_io;
        }
        ++lines;
    }
    return exit_ok;
}

// Every other layout: compare snapshots of the data (of the whole section, for a layout whose
// data the tool does not know), woken by the mapping's notification when it has one
// ("<name>.notify", the convention of notification::name_for) and by the clock otherwise.
int watch_bytes(const invocation& cmd, const watch_settings& settings, cancel_token& cancel)
{
    const resolved_name& name = cmd.name;
    const cli::layout l = cmd.layout();
    std::error_code ec;
    raw_view view = raw_view::open(name.ref, open_options{.access = access_mode::read_only}, ec);
    if (ec) {
        return fail_open(ec, name);
    }
    const std::size_t offset = data_offset(l);
    const std::span<const std::byte> watched = view.unsynchronized_bytes().subspan(offset);
    notification notifier;
    std::string woken_by = "polling every " + std::to_string(settings.interval.count()) + " ms";
    if (l == cli::layout::notification) {
        notifier = notification::open(name.ref, ec);
    } else if (const object_name notify_name = notification::name_for(name.full, ec); !ec) {
        notifier = notification::open(custom(notify_name.full()), ec);
    }
    if (notifier) {
        woken_by = "woken by " + notifier.name().to_utf8() + ", checking every " +
                   std::to_string(settings.interval.count()) + " ms as well";
    }

    std::vector<std::byte> previous(watched.begin(), watched.end());
    std::vector<std::byte> current(watched.size());
    std::uint32_t previous_word = view.lock_policy().first_word();
    std::uint64_t previous_sequence = notifier ? notifier.sequence() : 0;
    const bool has_lock_word = l == cli::layout::compatible || l == cli::layout::corrupt;
    if (!out().line("watching " + name.full_utf8 + ": " + std::to_string(watched.size()) + " bytes" +
                    (offset != 0 ? "" : " from the start of the section (" + layout_name(l) + ")") + ", " +
                    woken_by + "; Ctrl-C stops")) {
        return exit_io;
    }
    std::uint64_t lines = 0;
    while (!settings.count || lines < *settings.count) {
        std::uint64_t sequence = previous_sequence;
        if (notifier) {
            std::error_code wait_ec;
            sequence = notifier.wait(previous_sequence, acquire_mode::wait_for(settings.interval).with_cancel(cancel),
                                     wait_ec);
            if (wait_ec == errc::cancelled || stop_requested()) {
                break;
            }
        } else if (::WaitForSingleObject(stop_event(), static_cast<DWORD>(settings.interval.count())) ==
                   WAIT_OBJECT_0) {
            break;
        }
        std::memcpy(current.data(), watched.data(), current.size());
        const std::uint32_t word = view.lock_policy().first_word();
        const std::optional<change> c = find_change(previous, current);
        std::string line;
        if (c) {
            line = timestamp() + "  changed " + std::to_string(c->bytes) + (c->bytes == 1 ? " byte" : " bytes") +
                   " in [" + std::to_string(c->first) + ", " + std::to_string(c->last + 1) + ")";
            if (has_lock_word) {
                line += "  lock: " + describe_lock_word(word);
            }
            previous.swap(current);
        } else if (notifier && sequence != previous_sequence) {
            line = timestamp() + "  notified (sequence " + std::to_string(sequence) + "), data unchanged";
        } else if (word != previous_word && settings.include_lock && has_lock_word) {
            line = timestamp() + "  lock: " + describe_lock_word(word);
        }
        previous_word = word;
        previous_sequence = sequence;
        if (!line.empty()) {
            ++lines;
            if (!out().line(line)) {
                return exit_io; // the reader of our output went away
            }
        }
    }
    return exit_ok;
}

} // namespace

int run_watch(const invocation& cmd)
{
    watch_settings settings;
    settings.include_lock = cmd.has("--include-lock");
    if (const std::optional<std::uint64_t> ms = cmd.number("--interval")) {
        settings.interval = std::chrono::milliseconds(*ms);
    }
    settings.count = cmd.number("--count");
    std::error_code ec;
    cancel_token cancel(ec);
    if (ec) {
        return fail(ec, "watch", cmd.name.full_utf8);
    }
    const ctrl_c_handler ctrl_c(&cancel);
    if (cmd.layout() == cli::layout::frame_channel) {
        return watch_channel(cmd.name, settings, cancel);
    }
    return watch_bytes(cmd, settings, cancel);
}

} // namespace winmmf::tool
