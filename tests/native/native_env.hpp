// The Linux side of the native lock tests: a robust_word environment with a real clock and
// a real liveness oracle (/proc/<pid>/stat: gone, zombie, or another start time means dead),
// the Linux counterpart of detail/process.hpp. Used by the thread and fork tests.
#pragma once

#include <winmmf/detail/backoff.hpp>
#include <winmmf/protocol/robust_word.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include <unistd.h>

namespace winmmf::native {

struct process_stat {
    bool exists = false;
    char state = '?';
    std::uint64_t start_time = 0; // clock ticks since boot (field 22)
};

inline process_stat read_stat(pid_t pid)
{
    process_stat st;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    std::FILE* f = std::fopen(path, "r");
    if (f == nullptr) {
        return st;
    }
    char buffer[1024];
    const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, f);
    std::fclose(f);
    buffer[n] = '\0';
    // The command name (field 2) may contain spaces and ')': fields restart after the last ')'.
    const char* rest = std::strrchr(buffer, ')');
    if (rest == nullptr) {
        return st;
    }
    st.exists = true;
    unsigned long long start = 0;
    // Fields 3.. : state, then 18 numbers, then starttime (field 22).
    if (std::sscanf(rest + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                    &st.state, &start) == 2) {
        st.start_time = start;
    }
    return st;
}

inline protocol::robust_word::identity identity_of(pid_t pid)
{
    return {static_cast<std::uint32_t>(pid), protocol::robust_word::creation_tag(read_stat(pid).start_time)};
}

inline protocol::robust_word::identity current_identity() { return identity_of(::getpid()); }

inline bool process_alive(protocol::robust_word::identity id)
{
    const process_stat st = read_stat(static_cast<pid_t>(id.pid));
    if (!st.exists || st.state == 'Z' || st.state == 'X') {
        return false; // gone, or dead and not yet reaped
    }
    return protocol::robust_word::creation_tag(st.start_time) == id.tag;
}

// Real time, real sleeps (std::this_thread off Windows), and an oracle: by default processes
// are asked about through /proc; the thread tests, whose "processes" are threads that never
// die, pass a constant.
class environment {
public:
    explicit environment(bool (*oracle)(protocol::robust_word::identity) = &process_alive) : oracle_(oracle) {}

    std::chrono::nanoseconds now() const
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now().time_since_epoch());
    }
    bool alive(protocol::robust_word::identity id) { return oracle_(id); }
    void pause(std::chrono::nanoseconds remaining)
    {
        backoff_.pause(std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining));
    }
    void relax() { detail::cpu_relax(); }

    // The process SIGKILLs itself the first time it passes `where` (after `last_words`, if
    // given): a real death at exactly that step of the protocol (lock_fork_tests).
    void die_at(protocol::robust_word::step where, void (*last_words)(protocol::robust_word::step) = nullptr)
    {
        dying_ = true;
        where_ = where;
        last_words_ = last_words;
    }
    void at(protocol::robust_word::step s)
    {
        if (dying_ && s == where_) {
            if (last_words_ != nullptr) {
                last_words_(s);
            }
            ::raise(SIGKILL);
        }
    }

private:
    bool (*oracle_)(protocol::robust_word::identity);
    detail::backoff backoff_;
    bool dying_ = false;
    protocol::robust_word::step where_{};
    void (*last_words_)(protocol::robust_word::step) = nullptr;
};

static_assert(protocol::robust_word::environment<environment>);

inline bool always_alive(protocol::robust_word::identity) { return true; }

} // namespace winmmf::native
