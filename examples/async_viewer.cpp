// async_viewer: watches every channel the frame service lists and prints each one's frame rate
// once a second - on one thread, with Asio and C++20 coroutines.
//
//   async_viewer [--basename NAME | --index PATH] [--seconds N]
//
//   --basename NAME  the service's --basename (default winmmf_frames): its index is %PUBLIC%\NAME.txt
//   --index PATH     the index file itself (a service run with --index-dir DIR: DIR\NAME.txt)
//   --seconds N      stop after N seconds, 1 to 86400 (default: at Ctrl+C)
//
// The frame service (examples/frame_service) lists its channels in that index file, one line
// each, and removes it when it stops. The viewer reads it every second: a channel is watched
// from the listing that first names it, and dropped once its stream has ended and the index no
// longer names it. Until then a channel whose writer stopped or died stays open and is looked
// at again every second: a restarted service takes its channels over, and the frames continue
// in the same reader.
//
// One io_context, run by the main thread alone. Each channel has a coroutine that waits for
// frames with winmmf::asio::async_acquire: the wait sleeps in the kernel on the Windows thread
// pool, not in a thread of ours, and its completion comes back through the io_context. So all
// of the code below runs on the main thread, and none of it needs a lock.
//
// Exit codes: 0 frames arrived; 1 bad arguments; 2 no channel delivered a frame.

// Asio before 1.24 (Debian 12 has 1.22) looks for clang's coroutines in <experimental/coroutine>
// only, which libstdc++ and newer libc++ do not have: tell it they are there.
#if defined(__clang__) && !defined(ASIO_HAS_CO_AWAIT) && defined(__cpp_impl_coroutine) && __has_include(<coroutine>)
#define ASIO_HAS_CO_AWAIT 1
#define ASIO_HAS_STD_COROUTINE 1
#endif
#include <asio.hpp> // first: winmmf/asio.hpp uses the Asio it finds (standalone, or Boost.Asio)

#include <winmmf/asio.hpp>
#include <winmmf/frame_reader.hpp>

#include "frame_service/index_file.hpp" // the service's own reader of its index
#include "frame_service/options.hpp"
#include "frame_service/text.hpp"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// A wait for a frame gives up after this long, so that a quiet channel says so. A writer that
// died is noticed well before: a waiting reader checks its process every 500 ms.
constexpr auto frame_wait = 3s;
// How often a channel whose stream ended is looked at again.
constexpr auto retry_pause = 1s;

struct arguments {
    std::string index;    // the service's index file
    unsigned seconds = 0; // 0: until Ctrl+C
};

constexpr const char* usage = "usage: async_viewer [--basename NAME | --index PATH] [--seconds N]\n";

// An error message, or "" when the arguments are good.
std::string parse(const std::vector<std::string>& args, arguments& a)
{
    frame_service::options service; // for its default basename and index directory
    bool basename_given = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& key = args[i];
        if (key != "--basename" && key != "--index" && key != "--seconds") {
            return "unknown argument \"" + key + "\"";
        }
        if (i + 1 == args.size()) {
            return key + " needs a value";
        }
        const std::string& value = args[++i];
        if (key == "--basename") {
            if (!frame_service::detail::valid_basename(value)) {
                return "--basename \"" + value + "\": expected 1-64 characters from A-Z a-z 0-9 _ - .";
            }
            service.basename = value;
            basename_given = true;
        } else if (key == "--index") {
            if (value.empty()) {
                return "--index needs the path of the service's index file";
            }
            a.index = value;
        } else if (!frame_service::detail::parse_unsigned(value, 1, 86400, a.seconds)) {
            return "--seconds \"" + value + "\": expected a whole number of seconds from 1 to 86400";
        }
    }
    if (basename_given && !a.index.empty()) {
        return "give --basename or --index, not both (both name the index file)";
    }
    if (a.index.empty()) {
        a.index = frame_service::index_path(service);
    }
    return {};
}

struct channel {
    explicit channel(std::string kernel_name, const asio::any_io_executor& executor)
        : name(std::move(kernel_name)), pause(executor)
    {
    }
    std::string name; // as the index gives it: a full kernel name, e.g. Global\winmmf_frames_0
    winmmf::frame_reader reader;
    asio::steady_timer pause; // between looks at a channel whose stream ended
    std::string state;        // "" while frames arrive; otherwise why none do
    bool listed = true;       // by the index, at the last look
    bool ended = false;       // its writer stopped or died (looked at again every second)
    bool given_up = false;    // failed in a way that trying again would not fix
    std::uint64_t frames = 0; // since the last report
    std::uint64_t skipped = 0;
    std::uint64_t total_frames = 0;
    std::uint64_t total_skipped = 0;
};

class viewer {
public:
    viewer(asio::io_context& io, arguments args)
        : io_(io), args_(std::move(args)), tick_(io), deadline_(io), signals_(io, SIGINT)
    {
    }

    void start()
    {
        signals_.async_wait([this](const asio::error_code& ec, int) {
            if (!ec) {
                stop("interrupted");
            }
        });
        if (args_.seconds != 0) {
            deadline_.expires_after(std::chrono::seconds(args_.seconds));
            deadline_.async_wait([this](const asio::error_code& ec) {
                if (!ec) {
                    stop("--seconds elapsed");
                }
            });
        }
        std::printf("async_viewer: watching the channels listed in %s\n", args_.index.c_str());
        spawn(report_every_second());
    }

    // After io_context::run() has returned: every coroutine has ended.
    int finish()
    {
        for (const auto& [name, ch] : channels_) {
            std::printf("async_viewer: %s: %llu frames, %llu skipped in all\n", name.c_str(),
                        static_cast<unsigned long long>(ch->total_frames + ch->frames),
                        static_cast<unsigned long long>(ch->total_skipped + ch->skipped));
        }
        std::fflush(stdout);
        channels_.clear(); // the readers close here, with no wait pending any more
        return frames_seen_ ? 0 : 2;
    }

private:
    // A failure inside a coroutine is a bug (or no memory): let it out of io_context::run().
    template <class Awaitable>
    void spawn(Awaitable&& awaitable)
    {
        asio::co_spawn(io_, std::forward<Awaitable>(awaitable), [](const std::exception_ptr& e) {
            if (e) {
                std::rethrow_exception(e);
            }
        });
    }

    // Prints a channel's state when it changes: one line per event, not one per wait. The
    // report lines repeat the state, the event line adds the details.
    static void note(channel& ch, std::string state, const std::string& details = {})
    {
        if (state != ch.state) {
            std::printf("async_viewer: %s: %s%s%s\n", ch.name.c_str(), state.empty() ? "frames arriving" : state.c_str(),
                        details.empty() ? "" : ": ", details.c_str());
            ch.state = std::move(state);
        }
    }

    asio::awaitable<void> watch(std::shared_ptr<channel> ch)
    {
        // A closed reader is the way out: stop() and dropping a channel close it.
        while (ch->reader.is_open()) {
            asio::error_code aec;
            // acquire, not take: counting frames needs no copy of them. Only the view's info()
            // is read, a copy: a wait that completed just before its reader was closed still
            // resumes here with its frame, and then the view's bytes are gone.
            const winmmf::frame_view frame = co_await winmmf::asio::async_acquire(
                ch->reader, winmmf::acquire_mode::wait_for(frame_wait), asio::redirect_error(asio::use_awaitable, aec));
            if (aec == asio::error::operation_aborted) {
                co_return; // the reader was closed while the wait was pending
            }
            const std::error_code ec = winmmf::asio::to_std(aec); // compares with winmmf::errc
            if (!ec) {
                ++ch->frames;
                ch->skipped += frame.info().skipped;
                frames_seen_ = true;
                ch->ended = false;
                note(*ch, "");
            } else if (ec == winmmf::errc::timeout) {
                note(*ch, "no frame for " + std::to_string(frame_wait.count()) + " s");
            } else if (ec == winmmf::errc::end_of_stream || ec == winmmf::errc::writer_gone) {
                // Nothing to wait on until a writer comes back: the next look returns at once.
                ch->ended = true;
                note(*ch, ec == winmmf::errc::end_of_stream ? "end of stream (the writer closed the channel)"
                                                            : "the writer's process died");
                ch->pause.expires_after(retry_pause);
                co_await ch->pause.async_wait(asio::redirect_error(asio::use_awaitable, aec));
            } else {
                // read_only (this account may not wait on the channel), not_open, ...
                ch->given_up = true;
                note(*ch, "stopped watching", ec.message());
                ch->reader.close();
            }
        }
    }

    // Opens a listed channel and starts its coroutine; a failure is tried again at the next
    // listing (the service may still be creating it).
    void open(const std::shared_ptr<channel>& ch)
    {
        std::error_code ec;
        // Full kernel names, used exactly as given. Read access is all a viewer needs, even to
        // sleep between frames: it announces itself in the channel's notification sibling.
        ch->reader = winmmf::frame_reader::open(winmmf::custom(ch->name), {.access = winmmf::access_mode::read_only}, ec);
        if (ec) {
            note(*ch, "not open", ec.message() + "; trying again every second");
            return;
        }
        ch->ended = false;
        note(*ch, "waiting for the first frame");
        spawn(watch(ch));
    }

    void drop(channel& ch)
    {
        std::printf("async_viewer: %s: no longer listed; dropped after %llu frames, %llu skipped\n", ch.name.c_str(),
                    static_cast<unsigned long long>(ch.total_frames + ch.frames),
                    static_cast<unsigned long long>(ch.total_skipped + ch.skipped));
        ch.pause.cancel();
        ch.reader.close(); // a pending wait completes with operation_aborted, as in stop()
    }

    void relist()
    {
        std::string problem;
        const std::vector<frame_service::index_entry> entries = frame_service::read_index(args_.index, problem);
        if (problem.empty() && entries.empty()) {
            problem = args_.index + " lists no channels";
        }
        if (problem != listing_problem_) {
            // The service removes its index when it stops: a missing index is no reason to quit.
            if (!problem.empty()) {
                std::printf("async_viewer: %s; looking again every second\n", problem.c_str());
            } else {
                std::printf("async_viewer: the index lists %zu channel(s)\n", entries.size());
            }
            listing_problem_ = problem;
        }
        for (auto& [name, ch] : channels_) {
            ch->listed = false;
        }
        for (const frame_service::index_entry& e : entries) {
            std::shared_ptr<channel>& ch = channels_[e.mapping];
            if (!ch) {
                ch = std::make_shared<channel>(e.mapping, io_.get_executor());
                std::printf("async_viewer: %s: listed (%ux%u %s, %s)\n", e.mapping.c_str(), e.width, e.height,
                            std::string(frame_service::to_string(e.format)).c_str(), e.source.c_str());
            }
            ch->listed = true;
            if (!ch->reader && !ch->given_up) {
                open(ch);
            }
        }
        // A channel that still delivers frames stays, listed or not: somebody writes it.
        std::erase_if(channels_, [this](const auto& item) {
            channel& ch = *item.second;
            if (ch.listed || (ch.reader && !ch.ended)) {
                return false;
            }
            drop(ch);
            return true;
        });
    }

    void report(double interval, double elapsed)
    {
        for (auto& [name, ch] : channels_) {
            std::printf("async_viewer: %5.0f s  %-24s %6.1f fps %5llu skipped%s%s\n", elapsed, name.c_str(),
                        static_cast<double>(ch->frames) / interval, static_cast<unsigned long long>(ch->skipped),
                        ch->state.empty() ? "" : "  ", ch->state.c_str());
            ch->total_frames += ch->frames;
            ch->total_skipped += ch->skipped;
            ch->frames = 0;
            ch->skipped = 0;
        }
        std::fflush(stdout); // a line a second, also when stdout is a file
    }

    asio::awaitable<void> report_every_second()
    {
        const auto started = clock_type::now();
        auto last = started;
        auto next = started;
        while (!stopping_) {
            relist();
            next += 1s; // a fixed schedule: the work of each second does not delay the next
            tick_.expires_at(next);
            asio::error_code ec;
            co_await tick_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (stopping_) {
                break; // the last, partial second goes into finish()'s totals
            }
            const auto now = clock_type::now();
            report(std::chrono::duration<double>(now - last).count(), std::chrono::duration<double>(now - started).count());
            last = now;
        }
    }

    // Cancels everything pending; io_context::run() returns once each coroutine has seen it.
    void stop(const char* why)
    {
        if (stopping_) {
            return;
        }
        stopping_ = true;
        std::printf("async_viewer: %s; stopping\n", why);
        signals_.cancel();
        deadline_.cancel();
        tick_.cancel();
        for (auto& [name, ch] : channels_) {
            ch->pause.cancel();
            // Blocks only until the wait's completion has been handed to the io_context (it does
            // not run here): the coroutine then resumes with operation_aborted, or with the frame
            // that had just completed the wait, and sees the reader closed.
            ch->reader.close();
        }
    }

    asio::io_context& io_;
    arguments args_;
    std::map<std::string, std::shared_ptr<channel>> channels_; // by kernel name; each shared with its coroutine
    asio::steady_timer tick_;
    asio::steady_timer deadline_;
    asio::signal_set signals_;
    std::optional<std::string> listing_problem_; // what was wrong with the index at the last look ("": nothing)
    bool stopping_ = false;
    bool frames_seen_ = false;
};

} // namespace

int main()
{
    const std::vector<std::string> args = frame_service::command_line();
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
        std::fputs(usage, stdout);
        return 0;
    }
    arguments a;
    if (const std::string error = parse(args, a); !error.empty()) {
        std::fprintf(stderr, "async_viewer: %s\n%s", error.c_str(), usage);
        return 1;
    }
    try {
        asio::io_context io(1); // run() by this thread alone
        viewer v(io, std::move(a));
        v.start();
        io.run();
        return v.finish();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "async_viewer: %s\n", e.what());
        return 1;
    }
}
