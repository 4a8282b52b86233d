// winmmf_bench: winmmf's operations against the raw baseline and the peers on the same machine,
// measured in one run with Catch2's BENCHMARK (no statistics of our own). At the end a listener
// prints a table of ratios against the targets of docs/explanation/benchmarks.md and writes them as JSON
// (to $WINMMF_BENCH_JSON, default winmmf-bench.json). A missed target is reported, never
// asserted: the machine is shared and noisy.
//
//   winmmf_bench.exe                       everything (scripts/bench.sh runs it under Wine)
//   winmmf_bench.exe "[lock]"              one group: [frame] [lock] [handoff] [transfer] [async]
//   WINMMF_BENCH_IDLE_SECONDS=2            a shorter idle interval for "[async][idle]" (default 10 s)
//
// <winsock2.h> comes before anything that includes <windows.h>.
#include <winsock2.h>
#include <ws2tcpip.h>

#include "bench_common.hpp"
#include "interleaved.hpp"

#include <winmmf/frame_channel.hpp>
#include <winmmf/notification.hpp>
#include <winmmf/winmmf.hpp>
#if __has_include(<winmmf/robust_lock.hpp>)
#include <winmmf/robust_lock.hpp>
#define WINMMF_BENCH_HAVE_ROBUST 1
#endif

// The Asio row: built when CMake found Asio (target winmmf::asio), otherwise it reads n/a.
// Asio's own headers first, so that <winmmf/asio.hpp> picks standalone Asio.
#if defined(WINMMF_BENCH_HAVE_ASIO)
#include <asio/bind_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <winmmf/asio.hpp>
#endif

#if defined(WINMMF_BENCH_HAVE_BOOST)
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/windows_shared_memory.hpp>
#include <boost/version.hpp>
#endif

#include <catch2/benchmark/catch_benchmark.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/reporters/catch_reporter_event_listener.hpp>
#include <catch2/reporters/catch_reporter_registrars.hpp>

#include <async_fan_in.hpp> // test::own_thread_count
#include <test_support.hpp>

#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;

namespace {

// ---- the rows ----------------------------------------------------------------------------------

namespace names {
constexpr const char* frame_raw_mmf = "frame 1080p: raw memcpy in + out of a mapping";
constexpr const char* frame_mmf = "frame 1080p: memory_mapped_file write() + read()";
constexpr const char* frame_raw_slots = "frame 1080p: raw memcpy in + out of the channel's slots";
constexpr const char* frame_channel = "frame 1080p: frame_writer publish + frame_reader take";
constexpr const char* lock_raw = "lock: bare compare-exchange + store on the lock word";
constexpr const char* lock_default = "lock: memory_mapped_file try_lock_write + unlock";
// What-if rows (not the library's code): where the default policy's time goes. WinMMF's
// protocol unlocks with a compare-exchange and follows every successful exchange with a
// seq_cst fence; these rows drop the fences, then also unlock with a plain store.
constexpr const char* lock_whatif_nofence = "lock what-if: WinMMF steps without the seq_cst fences";
constexpr const char* lock_whatif_store = "lock what-if: CAS lock, validated plain-store unlock";
constexpr const char* lock_robust = "lock: robust_memory_mapped_file try_lock_write + unlock";
constexpr const char* lock_boost = "lock: Boost.Interprocess interprocess_mutex lock + unlock";
constexpr const char* spin_raw = "handoff spinning: raw two-process ping-pong on one mapping";
constexpr const char* spin_ours = "handoff spinning: notification notify + wait(spin_forever)";
constexpr const char* event_raw = "handoff blocking: raw named-event ping-pong";
constexpr const char* event_ours = "handoff blocking: notification notify + wait(wait_for)";
constexpr const char* notify_raw = "handoff blocking: the notification's algorithm written raw";
// Read-lock contention: every process of the row takes and releases the read lock as fast as it
// goes; the row's time is the wall time per lock + unlock of all of them together.
constexpr const char* read_default_1 = "read lock contention: default policy, 1 process";
constexpr const char* read_default_2 = "read lock contention: default policy, 2 processes";
constexpr const char* read_default_4 = "read lock contention: default policy, 4 processes";
constexpr const char* read_robust_1 = "read lock contention: robust policy, 1 process";
constexpr const char* read_robust_2 = "read lock contention: robust policy, 2 processes";
constexpr const char* read_robust_4 = "read lock contention: robust policy, 4 processes";
constexpr const char* transfer_view = "transfer 1080p: frame channel, reader reads in place";
constexpr const char* transfer_copy = "transfer 1080p: frame channel, reader copies out";
constexpr const char* transfer_raw_view = "transfer 1080p: raw single buffer, reader reads in place";
constexpr const char* transfer_raw_copy = "transfer 1080p: raw single buffer, reader copies out";
constexpr const char* transfer_view_2 = "transfer 1080p: frame channel of 2 slots, reader reads in place";
constexpr const char* transfer_copy_2 = "transfer 1080p: frame channel of 2 slots, reader copies out";
constexpr const char* transfer_pipe = "transfer 1080p: named pipe";
constexpr const char* transfer_tcp = "transfer 1080p: TCP loopback";
constexpr const char* wake_raw_opens = "wake: 64 OpenEventW of names that do not exist";
constexpr const char* wake_scribbled = "wake: publish 64 B, its notification scribbled (64 bits, no events)";
// One-way latencies: a writer process publishes, the reader's completion runs (see the test case).
constexpr const char* async_wake_blocking = "async wake-up: publish -> blocking take returns";
constexpr const char* async_wake_pool = "async wake-up: publish -> async_take thread-pool callback runs";
constexpr const char* async_wake_asio = "async wake-up: publish -> winmmf::asio::async_take handler runs";
// What-if rows (no winmmf code): the same one-way latency for a raw named event, to show what
// the thread pool costs by itself. The library's asynchronous wait uses a new pool wait per wait
// and closes it after it has delivered; the last row shows what closing it first would cost.
constexpr const char* async_whatif_event = "async wake-up what-if: SetEvent -> WaitForSingleObject returns";
constexpr const char* async_whatif_pool = "async wake-up what-if: SetEvent -> callback of a reused TP_WAIT";
constexpr const char* async_whatif_closed =
    "async wake-up what-if: SetEvent -> callback, after closing its new TP_WAIT";
} // namespace names

// The idle-waits row: how long the 1,000 waits sit idle (WINMMF_BENCH_IDLE_SECONDS overrides).
constexpr double idle_seconds = 10;

enum class compare { time_at_most, speed_at_least };

struct target {
    const char* measure;
    const char* ours;
    const char* baseline;
    compare how;
    double bound;
};

// The targets. time_at_most: ours / baseline <= bound. speed_at_least: baseline / ours
// >= bound (how many times faster ours is, when the baseline is the slower peer).
const target targets[] = {
    {"write + read a 1080p frame: memory_mapped_file vs raw memcpy", names::frame_mmf, names::frame_raw_mmf,
     compare::speed_at_least, 0.9},
    {"write + read a 1080p frame: frame channel vs raw memcpy", names::frame_channel, names::frame_raw_slots,
     compare::speed_at_least, 0.9},
    {"write lock, default policy vs Boost interprocess_mutex", names::lock_default, names::lock_boost,
     compare::time_at_most, 1.0},
    {"write lock, robust policy vs Boost interprocess_mutex", names::lock_robust, names::lock_boost,
     compare::time_at_most, 1.0},
    {"handoff round trip, spinning: vs raw spin ping-pong", names::spin_ours, names::spin_raw, compare::time_at_most, 1.3},
    {"handoff round trip, blocking: vs the same algorithm written raw", names::event_ours, names::notify_raw,
     compare::time_at_most, 1.2},
    {"handoff round trip, blocking: vs raw named-event ping-pong", names::event_ours, names::event_raw,
     compare::time_at_most, 1.2},
    // Total read-lock throughput of several processes against one (WinMMF's compatible lock).
    {"read lock throughput, default policy: 2 processes vs 1", names::read_default_2, names::read_default_1,
     compare::speed_at_least, 0.6},
    {"read lock throughput, default policy: 4 processes vs 1", names::read_default_4, names::read_default_1,
     compare::speed_at_least, 0.6},
    // The channel against the same bytes moved through one raw buffer, one frame at a time.
    {"frame transfer, zero-copy reader: vs raw single-buffer transfer", names::transfer_view, names::transfer_raw_view,
     compare::time_at_most, 1.1},
    {"frame transfer, copying reader: vs raw single-buffer transfer", names::transfer_copy, names::transfer_raw_copy,
     compare::time_at_most, 1.1},
    {"frame transfer, zero-copy reader: faster than a named pipe", names::transfer_view, names::transfer_pipe,
     compare::speed_at_least, 10.0},
    {"frame transfer, zero-copy reader: faster than TCP loopback", names::transfer_view, names::transfer_tcp,
     compare::speed_at_least, 2.0},
    {"frame transfer, copying reader: faster than a named pipe", names::transfer_copy, names::transfer_pipe,
     compare::speed_at_least, 10.0},
    {"frame transfer, copying reader: faster than TCP loopback", names::transfer_copy, names::transfer_tcp,
     compare::speed_at_least, 2.0},
    // Whoever may write a channel's notification sibling can set all 64 waiter bits: a publish
    // then costs at most one failed open per bit, and nothing more.
    {"publish, garbage in the notification: vs its 64 failed opens", names::wake_scribbled, names::wake_raw_opens,
     compare::time_at_most, 1.2},
    // A writer process publishes and the asynchronous reader's completion runs, against the
    // same round trip with the reader asleep in the blocking take.
    {"async wake-up, thread-pool callback vs blocking take", names::async_wake_pool, names::async_wake_blocking,
     compare::time_at_most, 1.3},
    {"async wake-up, through Asio vs blocking take", names::async_wake_asio, names::async_wake_blocking,
     compare::time_at_most, 1.5},
    // What the library adds to the pool's own wake-up: the floor of the thread-pool form.
    {"async wake-up, thread-pool callback vs a raw reused TP_WAIT", names::async_wake_pool, names::async_whatif_pool,
     compare::time_at_most, 1.2},
};

// Figures a row reports without a target (the idle waits' threads and CPU time): printed after
// the table, and written to the JSON, as they were measured.
struct reported_figure {
    std::string measure;
    double value;
    std::string unit;
};

std::vector<reported_figure>& reported()
{
    static std::vector<reported_figure> figures;
    return figures;
}

void report(std::string measure, double value, std::string unit)
{
    reported().push_back({std::move(measure), value, std::move(unit)});
}

// ---- the machine --------------------------------------------------------------------------------

std::string cpu_name()
{
    unsigned regs[12] = {};
#if defined(_MSC_VER)
    int r[4];
    for (int i = 0; i < 3; ++i) {
        __cpuid(r, static_cast<int>(0x80000002u + static_cast<unsigned>(i)));
        std::memcpy(regs + 4 * i, r, sizeof r);
    }
#else
    for (unsigned i = 0; i < 3; ++i) {
        __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    }
#endif
    std::string s(reinterpret_cast<const char*>(regs), sizeof regs);
    s = s.c_str();
    const auto first = s.find_first_not_of(' ');
    return first == std::string::npos ? "unknown" : s.substr(first);
}

// CPUID's vendor and signature: family, model, stepping (with the extended fields folded in, as
// the vendors' manuals say), so that a run names the microarchitecture, not just a brand string
// a VM may shorten ("AMD EPYC").
std::string cpu_signature()
{
    unsigned r0[4] = {}, r1[4] = {};
#if defined(_MSC_VER)
    int r[4];
    __cpuid(r, 0);
    std::memcpy(r0, r, sizeof r);
    __cpuid(r, 1);
    std::memcpy(r1, r, sizeof r);
#else
    __get_cpuid(0, &r0[0], &r0[1], &r0[2], &r0[3]);
    __get_cpuid(1, &r1[0], &r1[1], &r1[2], &r1[3]);
#endif
    char vendor[13] = {};
    std::memcpy(vendor, &r0[1], 4); // ebx, edx, ecx
    std::memcpy(vendor + 4, &r0[3], 4);
    std::memcpy(vendor + 8, &r0[2], 4);
    const unsigned eax = r1[0];
    unsigned family = (eax >> 8) & 0xF;
    unsigned model = (eax >> 4) & 0xF;
    if (family == 0xF) {
        family += (eax >> 20) & 0xFF;
    }
    if (family == 0x6 || family >= 0xF) {
        model += ((eax >> 16) & 0xF) << 4;
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s family 0x%X model 0x%X stepping %u", vendor, family, model, eax & 0xF);
    return buf;
}

// What the machine was doing when the run started, and what a kernel call costs (under Wine a
// wineserver round trip, whose cost moves by several times within an hour on a shared VM).
struct machine_facts {
    std::string load_average = "n/a";
    double kernel_call_ns = 0;
};

// The load average of the host: from scripts/bench.sh ($WINMMF_BENCH_LOADAVG, /proc/loadavg),
// or, under Wine, /proc/loadavg through the Z: drive. Windows has none.
std::string load_average()
{
    std::string line;
    if (const char* s = std::getenv("WINMMF_BENCH_LOADAVG"); s != nullptr && *s != '\0') {
        line = s;
    } else if (std::FILE* f = std::fopen("Z:\\proc\\loadavg", "r")) {
        char buf[128] = {};
        if (std::fgets(buf, sizeof buf, f) != nullptr) {
            line = buf;
        }
        std::fclose(f);
    }
    // "0.52 0.58 0.59 1/389 12345": the three averages.
    std::string out;
    int fields = 0;
    for (std::size_t i = 0; i < line.size() && fields < 3;) {
        const std::size_t end = line.find(' ', i);
        out += (out.empty() ? "" : " ") + line.substr(i, end == std::string::npos ? std::string::npos : end - i);
        ++fields;
        if (end == std::string::npos) {
            break;
        }
        i = end + 1;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
        out.pop_back();
    }
    return out.empty() ? "n/a" : out;
}

// The mean time of one SetEvent on an unnamed event: one kernel call on Windows, one wineserver
// request under Wine 8.
double kernel_call_ns()
{
    detail::unique_handle e(::CreateEventW(nullptr, FALSE, FALSE, nullptr));
    if (!e) {
        return 0;
    }
    constexpr int calls = 2000;
    for (int i = 0; i < 100; ++i) {
        ::SetEvent(e.get());
    }
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) {
        ::SetEvent(e.get());
    }
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / calls;
}

machine_facts machine_now()
{
    machine_facts f;
    f.load_average = load_average();
    f.kernel_call_ns = kernel_call_ns();
    return f;
}

std::string wine_version()
{
    using get_version = const char*(__cdecl*)();
    if (HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll")) {
        if (auto f = reinterpret_cast<get_version>(reinterpret_cast<void*>(::GetProcAddress(ntdll, "wine_get_version")))) {
            return f();
        }
    }
    return "";
}

std::string windows_version()
{
    struct version_info {
        ULONG size, major, minor, build, platform;
        WCHAR csd[128];
    } v{};
    v.size = sizeof v;
    using rtl_get_version = LONG(WINAPI*)(version_info*);
    if (HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll")) {
        if (auto f = reinterpret_cast<rtl_get_version>(reinterpret_cast<void*>(::GetProcAddress(ntdll, "RtlGetVersion")))) {
            if (f(&v) == 0) {
                return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.build);
            }
        }
    }
    return "unknown";
}

std::string utc_now()
{
    SYSTEMTIME t{};
    ::GetSystemTime(&t);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04u-%02u-%02uT%02u:%02u:%02uZ", t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute,
                  t.wSecond);
    return buf;
}

// ---- the listener: ratios, the table, the JSON ----------------------------------------------------

using bench::measured;

std::string pretty(double ns)
{
    char buf[32];
    if (ns < 1e3) {
        std::snprintf(buf, sizeof buf, "%.1f ns", ns);
    } else if (ns < 1e6) {
        std::snprintf(buf, sizeof buf, "%.2f us", ns / 1e3);
    } else {
        std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
    }
    return buf;
}

std::string json_escape(const std::string& s)
{
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

class ratio_listener : public Catch::EventListenerBase {
public:
    using Catch::EventListenerBase::EventListenerBase;

    void benchmarkEnded(Catch::BenchmarkStats<> const& stats) override
    {
        bench::rows()[stats.info.name] = {stats.mean.point.count(), stats.mean.lower_bound.count(),
                                          stats.mean.upper_bound.count(), stats.standardDeviation.point.count(),
                                          stats.info.samples, stats.info.iterations};
    }

    void testRunStarting(Catch::TestRunInfo const&) override { start_ = machine_now(); }

    void testRunEnded(Catch::TestRunStats const&) override
    {
        if (results_.empty() && reported().empty()) {
            return;
        }
        const double kernel_call_end = kernel_call_ns();
        const std::string cpu = cpu_name();
        const std::string signature = cpu_signature();
        const std::string wine = wine_version();
        SYSTEM_INFO si{};
        ::GetSystemInfo(&si);
        const std::string date = utc_now();

        std::printf("\nwinmmf_bench %s | %s | %lu logical processors | %s%s | Windows %s\n", date.c_str(),
                    cpu.c_str(), si.dwNumberOfProcessors, wine.empty() ? "" : "Wine ", wine.empty() ? "native" : wine.c_str(),
                    windows_version().c_str());
        std::printf("CPU: %s | load average at the start: %s | one kernel call (SetEvent): %s at the start, %s "
                    "at the end\n",
                    signature.c_str(), start_.load_average.c_str(), pretty(start_.kernel_call_ns).c_str(),
                    pretty(kernel_call_end).c_str());
        std::printf("\n%-62s %12s %12s %8s %13s %8s  %s\n", "measure", "ours", "baseline", "ratio", "noise", "target",
                    "result");
        std::string json_targets;
        for (const target& t : targets) {
            const auto ours = results_.find(t.ours);
            const auto base = results_.find(t.baseline);
            const char* op = t.how == compare::time_at_most ? "<=" : ">=";
            char target_text[16];
            std::snprintf(target_text, sizeof target_text, "%s %.2f", op, t.bound);
            if (ours == results_.end() || base == results_.end()) {
                std::printf("%-62s %12s %12s %8s %13s %8s  %s\n", t.measure,
                            ours == results_.end() ? "-" : pretty(ours->second.mean_ns).c_str(),
                            base == results_.end() ? "-" : pretty(base->second.mean_ns).c_str(), "-", "-", target_text,
                            "n/a (not measured in this run)");
                continue;
            }
            // Interleaved pairs: the median of the in-round ratios, and their range. Others
            // (rows that cannot run side by side): the ratio of the two means, and the wider of
            // Catch2's two 95% confidence intervals, as a share of its mean.
            const auto in_round = bench::in_round_ratios().find({t.ours, t.baseline});
            const bool interleaved = in_round != bench::in_round_ratios().end();
            const auto as_compared = [&t](double time_ratio) {
                return t.how == compare::time_at_most ? time_ratio : 1 / time_ratio;
            };
            double ratio = 0, low = 0, high = 0, noise = 0;
            char noise_text[32];
            if (interleaved) {
                std::vector<double> r;
                for (const double x : in_round->second) {
                    r.push_back(as_compared(x));
                }
                ratio = bench::median_of(r);
                low = *std::min_element(r.begin(), r.end());
                high = *std::max_element(r.begin(), r.end());
                std::snprintf(noise_text, sizeof noise_text, "%.2f-%.2f", low, high);
            } else {
                ratio = as_compared(ours->second.mean_ns / base->second.mean_ns);
                const auto spread = [](const measured& m) { return (m.high_ns - m.low_ns) / 2 / m.mean_ns; };
                noise = std::max(spread(ours->second), spread(base->second));
                std::snprintf(noise_text, sizeof noise_text, "seq +-%.0f%%", noise * 100);
            }
            const bool pass = t.how == compare::time_at_most ? ratio <= t.bound : ratio >= t.bound;
            std::printf("%-62s %12s %12s %8.2f %13s %8s  %s\n", t.measure, pretty(ours->second.mean_ns).c_str(),
                        pretty(base->second.mean_ns).c_str(), ratio, noise_text, target_text, pass ? "PASS" : "MISS");
            char row[1400];
            std::snprintf(row, sizeof row,
                          "%s    {\"measure\": \"%s\", \"ours\": \"%s\", \"baseline\": \"%s\", \"method\": \"%s\", "
                          "\"ratio\": %.4f, \"ratio_low\": %.4f, \"ratio_high\": %.4f, \"rounds\": %zu, \"noise\": %.4f, "
                          "\"comparison\": \"%s\", \"target\": %.2f, \"result\": \"%s\"}",
                          json_targets.empty() ? "" : ",\n", json_escape(t.measure).c_str(), json_escape(t.ours).c_str(),
                          json_escape(t.baseline).c_str(), interleaved ? "interleaved" : "sequential", ratio,
                          interleaved ? low : ratio, interleaved ? high : ratio,
                          interleaved ? in_round->second.size() : std::size_t{0}, noise,
                          t.how == compare::time_at_most ? "ours/baseline <= target" : "baseline/ours >= target",
                          t.bound, pass ? "PASS" : "MISS");
            json_targets += row;
        }
        std::printf("\nratio: time rows are ours / baseline (lower is better); speed rows are baseline / ours\n"
                    "(how many times faster ours is). Rows measured side by side, round by round: the median of the\n"
                    "%d in-round ratios, and their range under noise. Rows that cannot run side by side (seq): the\n"
                    "ratio of the means, and under noise the wider 95%% confidence interval of the two means,\n"
                    "relative to its mean. Targets are reported, never asserted.\n",
                    bench::interleaved_rounds);
        std::string json_reported;
        if (!reported().empty()) {
            std::printf("\n%-62s %12s  %s\n", "reported (no target)", "value", "unit");
        }
        for (const reported_figure& r : reported()) {
            std::printf("%-62s %12.6g  %s\n", r.measure.c_str(), r.value, r.unit.c_str());
            char row[1024];
            std::snprintf(row, sizeof row, "%s    {\"measure\": \"%s\", \"value\": %.6g, \"unit\": \"%s\"}",
                          json_reported.empty() ? "" : ",\n", json_escape(r.measure).c_str(), r.value,
                          json_escape(r.unit).c_str());
            json_reported += row;
        }

        const char* path = std::getenv("WINMMF_BENCH_JSON");
        const std::string file = path != nullptr && *path != '\0' ? path : "winmmf-bench.json";
        if (std::FILE* f = std::fopen(file.c_str(), "w")) {
            std::fprintf(f, "{\n  \"date\": \"%s\",\n  \"cpu\": \"%s\",\n  \"logical_processors\": %lu,\n"
                            "  \"wine\": \"%s\",\n  \"windows\": \"%s\",\n  \"cpu_signature\": \"%s\",\n"
                            "  \"load_average_at_start\": \"%s\",\n  \"kernel_call_ns_at_start\": %.1f,\n"
                            "  \"kernel_call_ns_at_end\": %.1f,\n  \"benchmarks\": [\n",
                         date.c_str(), json_escape(cpu).c_str(), si.dwNumberOfProcessors, json_escape(wine).c_str(),
                         windows_version().c_str(), json_escape(signature).c_str(),
                         json_escape(start_.load_average).c_str(), start_.kernel_call_ns, kernel_call_end);
            bool first = true;
            for (const auto& [name, m] : results_) {
                std::fprintf(f, "%s    {\"name\": \"%s\", \"mean_ns\": %.3f, \"mean_low_ns\": %.3f, "
                                "\"mean_high_ns\": %.3f, \"stddev_ns\": %.3f, \"samples\": %u, \"iterations\": %d}",
                             first ? "" : ",\n", json_escape(name).c_str(), m.mean_ns, m.low_ns, m.high_ns,
                             m.stddev_ns, m.samples, m.iterations);
                first = false;
            }
            std::fprintf(f, "\n  ],\n  \"targets\": [\n%s\n  ],\n  \"reported\": [\n%s\n  ]\n}\n",
                         json_targets.c_str(), json_reported.c_str());
            std::fclose(f);
            std::printf("JSON: %s\n", file.c_str());
        } else {
            std::printf("JSON: cannot write %s\n", file.c_str());
        }
    }

private:
    std::map<std::string, measured>& results_ = bench::rows();
    machine_facts start_;
};

CATCH_REGISTER_LISTENER(ratio_listener)

// ---- helpers ------------------------------------------------------------------------------------

std::vector<std::byte> test_frame()
{
    std::vector<std::byte> frame(bench::frame_bytes);
    std::uint64_t x = 0x243F6A8885A308D3ull;
    for (auto& b : frame) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b = static_cast<std::byte>(x);
    }
    return frame;
}

// A raw control mapping (CreateFileMappingW: the baselines use no winmmf code).
class raw_control {
public:
    explicit raw_control(const std::string& name) : name_(name)
    {
        section_ = ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, sizeof(bench::control_block),
                                        test::widen(name).c_str());
        block_ = static_cast<bench::control_block*>(
            ::MapViewOfFile(section_, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(bench::control_block)));
        if (block_ == nullptr) {
            throw std::runtime_error("control mapping");
        }
    }
    raw_control(const raw_control&) = delete;
    raw_control& operator=(const raw_control&) = delete;
    ~raw_control()
    {
        ::UnmapViewOfFile(block_);
        ::CloseHandle(section_);
    }
    const std::string& name() const { return name_; }
    bench::control_block* block() const { return block_; }
    void request_stop() { std::atomic_ref<std::uint32_t>(block_->stop).store(1, std::memory_order_release); }

private:
    std::string name_;
    HANDLE section_ = nullptr;
    bench::control_block* block_ = nullptr;
};

// The helper process for one row: started with its mode, ready once it signalled.
class helper {
public:
    helper(raw_control& control, const std::vector<std::string>& args)
        : ready_(test::named_event::create(control.name() + "-ready"))
    {
        std::vector<std::string> all = args;
        all.insert(all.begin() + 1, control.name());
        process_ = test::child_process::start(L"winmmf_bench_helper.exe", all);
    }
    bool wait_ready() { return ready_.wait_or_exit(process_.handle(), 60s); }
    // After the caller made the helper leave its loop (stop flag plus one wake-up).
    bool finish() { return process_.wait(30s) == 0u; }

private:
    test::named_event ready_;
    test::child_process process_;
};

bool skip_benchmarks()
{
    return Catch::getCurrentContext().getConfig()->skipBenchmarks();
}

std::string bench_name(const char* tag)
{
    return "winmmf-bench-" + std::to_string(::GetCurrentProcessId()) + "-" + tag;
}

// A helper process that answers on two named auto-reset events, <tag>-ping and <tag>-pong
// (modes event-raw, notify-raw, raw-view, raw-copy), with a control block of its own.
class event_pair {
public:
    // `args`: the mode and the arguments before the two event names.
    event_pair(const std::string& tag, std::vector<std::string> args)
        : control_("Local\\" + bench_name(tag.c_str())), ping_name_(control_.name() + "-ping"),
          pong_name_(control_.name() + "-pong"),
          ping_(::CreateEventW(nullptr, FALSE, FALSE, test::widen(ping_name_).c_str())),
          pong_(::CreateEventW(nullptr, FALSE, FALSE, test::widen(pong_name_).c_str()))
    {
        REQUIRE(ping_);
        REQUIRE(pong_);
        args.push_back(ping_name_);
        args.push_back(pong_name_);
        helper_ = std::make_unique<helper>(control_, args);
        REQUIRE(helper_->wait_ready());
    }
    event_pair(const event_pair&) = delete;
    event_pair& operator=(const event_pair&) = delete;

    raw_control& control() noexcept { return control_; }
    HANDLE ping() const noexcept { return ping_.get(); }
    HANDLE pong() const noexcept { return pong_.get(); }
    // Stops the helper: the stop flag, then `wake` to get it seen.
    template <class Wake>
    void finish(Wake wake)
    {
        control_.request_stop();
        wake();
        CHECK(helper_->finish());
    }

private:
    raw_control control_;
    std::string ping_name_, pong_name_;
    detail::unique_handle ping_, pong_;
    std::unique_ptr<helper> helper_;
};

} // namespace

// ---- same-process rows --------------------------------------------------------------------------

TEST_CASE("write and read a 1080p RGB frame", "[frame]")
{
    const std::vector<std::byte> src = test_frame();
    std::vector<std::byte> dst(src.size());

    auto m = memory_mapped_file::create(local(bench_name("frame-mmf")), src.size());
    // The baseline copies into and out of the very bytes write() and read() use.
    auto* raw = const_cast<std::byte*>(m.unsynchronized_bytes().data());
    m.write(0, src); // touch every page once: no page faults inside the timings

    bench::interleave(
        names::frame_mmf,
        [&] {
            m.write(0, src);
            m.read(0, dst);
            return dst[12345];
        },
        names::frame_raw_mmf,
        [&] {
            std::memcpy(raw, src.data(), src.size());
            std::memcpy(dst.data(), raw, src.size());
            return dst[12345];
        },
        skip_benchmarks());

    const std::string channel = bench_name("frame-channel");
    auto writer = frame_writer::create(local(channel), {.max_frame_size = src.size()});
    auto reader = frame_reader::open(local(channel));
    // The baseline copies into the same slots, round robin as the channel does, with plain
    // memcpy: their addresses come from begin_frame() while the slots are first filled.
    const frame_meta meta{.width = bench::frame_width, .height = bench::frame_height,
                          .stride = bench::frame_width * 3, .format = pixel_format::rgb24};
    std::vector<std::byte*> slots;
    frame_info info;
    std::error_code ec;
    for (std::uint32_t i = 0; i < writer.slot_count(); ++i) {
        writable_frame slot = writer.begin_frame();
        slots.push_back(slot.bytes().data());
        std::memcpy(slot.bytes().data(), src.data(), src.size());
        slot.publish(src.size(), meta);
        reader.try_take(dst, info, ec);
    }
    REQUIRE_FALSE(ec);

    std::size_t next = 0;
    bench::interleave(
        names::frame_channel,
        [&] {
            writer.publish(src, meta, ec);
            reader.try_take(dst, info, ec);
            return dst[12345];
        },
        names::frame_raw_slots,
        [&] {
            std::byte* slot = slots[next++ % slots.size()];
            std::memcpy(slot, src.data(), src.size());
            std::memcpy(dst.data(), slot, src.size());
            return dst[12345];
        },
        skip_benchmarks());
    CHECK_FALSE(ec);
}

TEST_CASE("publish a small frame while the notification sibling holds garbage", "[frame][wake]")
{
    const std::string channel = bench_name("frame-scribbled");
    auto writer = frame_writer::create(local(channel), {.max_frame_size = 64});
    // What somebody who may write the channel's notification sibling can do: announce all 64
    // slots, owned by nobody (no slot has an event, so every open fails with
    // ERROR_FILE_NOT_FOUND).
    detail::unique_handle sibling(
        ::OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, writer.notification_name().c_str()));
    REQUIRE(sibling);
    detail::unique_view view(::MapViewOfFile(sibling.get(), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0));
    REQUIRE(view);
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(view.get() + protocol::frame_layout::notify_header_size))
        .store(~std::uint64_t{0});
    REQUIRE(writer.waiting() == protocol::max_waiters);

    std::vector<std::wstring> missing;
    for (int i = 0; i < 64; ++i) {
        missing.push_back(test::widen("Local\\" + bench_name("no-such-event") + "w" + std::to_string(i)));
    }
    const std::vector<std::byte> frame(64, std::byte{1});
    std::error_code ec;
    bench::interleave(
        names::wake_scribbled, [&] { return writer.publish(frame, {}, ec); }, names::wake_raw_opens,
        [&] {
            int found = 0;
            for (const std::wstring& name : missing) {
                if (HANDLE h = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, name.c_str())) {
                    ::CloseHandle(h);
                    ++found;
                }
            }
            return found;
        },
        skip_benchmarks());
    CHECK_FALSE(ec);
}

TEST_CASE("uncontended write lock: acquire and release", "[lock]")
{
    auto m = memory_mapped_file::create(local(bench_name("lock-default")), 64);
    // The bare baseline works on the very lock word of m.
    auto* word_ptr = reinterpret_cast<std::uint32_t*>(const_cast<std::byte*>(m.unsynchronized_bytes().data()) -
                                                      memory_mapped_file::header_size);
    std::atomic_ref<std::uint32_t> word(*word_ptr);
    const auto bare = [&word] {
        std::uint32_t expected = 0;
        const bool got = word.compare_exchange_strong(expected, 0x80000000u, std::memory_order_acquire,
                                                      std::memory_order_relaxed);
        word.store(0, std::memory_order_release);
        return got;
    };
    const auto default_policy = [&m] {
        std::error_code ec;
        auto guard = m.try_lock_write(ec);
        return guard.owns_lock(); // released by the guard
    };
    bench::interleave(names::lock_default, default_policy, names::lock_raw, bare, skip_benchmarks());
    BENCHMARK(names::lock_whatif_nofence)
    {
        std::uint32_t expected = 0;
        const bool got = word.compare_exchange_strong(expected, 0x80000000u, std::memory_order_acq_rel,
                                                      std::memory_order_acquire);
        std::uint32_t held = 0x80000000u;
        word.compare_exchange_strong(held, 0, std::memory_order_acq_rel, std::memory_order_acquire);
        return got;
    };
    BENCHMARK(names::lock_whatif_store)
    {
        std::uint32_t expected = 0;
        const bool got = word.compare_exchange_strong(expected, 0x80000000u, std::memory_order_acq_rel,
                                                      std::memory_order_acquire);
        if (word.load(std::memory_order_relaxed) == 0x80000000u) { // the unlock's check
            word.store(0, std::memory_order_release);
        }
        return got;
    };
    CHECK(word.load() == 0);

#if defined(WINMMF_BENCH_HAVE_BOOST)
    namespace bip = boost::interprocess;
    const std::string boost_name = bench_name("lock-boost");
    bip::windows_shared_memory shm(bip::create_only, boost_name.c_str(), bip::read_write, 4096);
    bip::mapped_region region(shm, bip::read_write);
    auto* mutex = new (region.get_address()) bip::interprocess_mutex;
    const auto boost_mutex = [mutex] {
        mutex->lock();
        mutex->unlock();
        return mutex;
    };
    bench::interleave(names::lock_default, default_policy, names::lock_boost, boost_mutex, skip_benchmarks());
#if defined(WINMMF_BENCH_HAVE_ROBUST)
    auto robust = robust_memory_mapped_file::create(local(bench_name("lock-robust")), 64);
    bench::interleave(
        names::lock_robust,
        [&robust] {
            std::error_code ec;
            auto guard = robust.try_lock_write(ec);
            return guard.owns_lock();
        },
        names::lock_boost, boost_mutex, skip_benchmarks());
#endif
    mutex->~interprocess_mutex();
#endif
}

namespace {

// One policy's read-lock contention rows: up to 4 helper processes, each with a control block of
// its own and a start event, all on one mapping's lock word.
class read_contention {
public:
    static constexpr unsigned max_processes = 4;

    read_contention(const char* policy, const std::string& mapping_name)
    {
        for (unsigned i = 0; i < max_processes; ++i) {
            const std::string control_name =
                "Local\\" + bench_name((std::string("contention-") + policy + std::to_string(i)).c_str());
            controls_.push_back(std::make_unique<raw_control>(control_name));
            starts_.emplace_back(::CreateEventW(nullptr, FALSE, FALSE, test::widen(control_name + "-start").c_str()));
            REQUIRE(starts_.back());
            helpers_.push_back(std::make_unique<helper>(
                *controls_.back(), std::vector<std::string>{"read-lock", "Local\\" + mapping_name, policy}));
            REQUIRE(helpers_.back()->wait_ready());
        }
    }
    read_contention(const read_contention&) = delete;
    read_contention& operator=(const read_contention&) = delete;
    ~read_contention()
    {
        for (unsigned i = 0; i < max_processes; ++i) {
            controls_[i]->request_stop();
            ::SetEvent(starts_[i].get());
        }
        for (auto& h : helpers_) {
            CHECK(h->finish());
        }
    }

    // One round with `processes` of them: wall nanoseconds per lock + unlock of all together.
    double round(unsigned processes, std::chrono::milliseconds length)
    {
        std::vector<std::uint64_t> before;
        for (unsigned i = 0; i < processes; ++i) {
            bench::control_block& b = *controls_[i]->block();
            before.push_back(std::atomic_ref<std::uint64_t>(b.rounds).load(std::memory_order_acquire));
            std::atomic_ref<std::uint32_t>(b.go).store(1, std::memory_order_release);
        }
        const auto start = std::chrono::steady_clock::now();
        for (unsigned i = 0; i < processes; ++i) {
            ::SetEvent(starts_[i].get());
        }
        ::Sleep(static_cast<DWORD>(length.count()));
        for (unsigned i = 0; i < processes; ++i) {
            std::atomic_ref<std::uint32_t>(controls_[i]->block()->go).store(0, std::memory_order_release);
        }
        const auto end = std::chrono::steady_clock::now();
        std::uint64_t total = 0;
        for (unsigned i = 0; i < processes; ++i) {
            bench::control_block& b = *controls_[i]->block();
            const bool reported = test::eventually(
                [&] { return std::atomic_ref<std::uint64_t>(b.rounds).load(std::memory_order_acquire) != before[i]; },
                30s);
            REQUIRE(reported); // a helper that died would otherwise hold the run forever
            total += std::atomic_ref<std::uint64_t>(b.counts[0]).load(std::memory_order_relaxed);
        }
        return std::chrono::duration<double, std::nano>(end - start).count() / static_cast<double>(std::max<std::uint64_t>(total, 1));
    }

private:
    std::vector<std::unique_ptr<raw_control>> controls_;
    std::vector<detail::unique_handle> starts_;
    std::vector<std::unique_ptr<helper>> helpers_;
};

// Rounds of 1, 2 and 4 processes, the order rotating from round to round; records the rows and
// the in-round ratios of 2 and 4 processes against 1.
void contention_rows(read_contention& rows_of, const char* one, const char* two, const char* four)
{
    constexpr int rounds = 9;
    constexpr std::chrono::milliseconds length{150};
    const unsigned counts[3] = {1, 2, 4};
    std::vector<double> t[3];
    std::vector<double> r2, r4;
    for (int r = 0; r < rounds; ++r) {
        double in_round[3] = {};
        for (int k = 0; k < 3; ++k) {
            const int which = (k + r) % 3;
            in_round[which] = rows_of.round(counts[which], length);
        }
        for (int k = 0; k < 3; ++k) {
            t[k].push_back(in_round[k]);
        }
        r2.push_back(in_round[1] / in_round[0]);
        r4.push_back(in_round[2] / in_round[0]);
    }
    bench::rows()[one] = bench::summarise(t[0], 1);
    bench::rows()[two] = bench::summarise(t[1], 1);
    bench::rows()[four] = bench::summarise(t[2], 1);
    std::printf("contention: %s %.2f ns, %s %.2f ns, %s %.2f ns per lock + unlock (medians of %d rounds)\n", one,
                bench::median_of(t[0]), two, bench::median_of(t[1]), four, bench::median_of(t[2]), rounds);
    bench::in_round_ratios()[{two, one}] = r2;
    bench::in_round_ratios()[{four, one}] = r4;
}

} // namespace

TEST_CASE("read lock contention: 1, 2 and 4 processes on one lock word", "[lock][contention]")
{
    if (skip_benchmarks()) {
        return;
    }
    {
        const std::string name = bench_name("contention-default");
        auto m = memory_mapped_file::create(local(name), 64);
        read_contention c("default", name);
        contention_rows(c, names::read_default_1, names::read_default_2, names::read_default_4);
        auto* word = reinterpret_cast<std::uint32_t*>(const_cast<std::byte*>(m.unsynchronized_bytes().data()) -
                                                      memory_mapped_file::header_size);
        CHECK(std::atomic_ref<std::uint32_t>(*word).load() == 0); // every reader let go
    }
#if defined(WINMMF_BENCH_HAVE_ROBUST)
    {
        const std::string name = bench_name("contention-robust");
        auto m = robust_memory_mapped_file::create(local(name), 64);
        read_contention c("robust", name);
        contention_rows(c, names::read_robust_1, names::read_robust_2, names::read_robust_4);
        // Reported beside the default policy's targets.
        for (const auto& [more, label] : {std::pair{names::read_robust_2, "2"}, std::pair{names::read_robust_4, "4"}}) {
            const auto& ratios = bench::in_round_ratios()[{more, names::read_robust_1}];
            std::vector<double> speed;
            for (const double x : ratios) {
                speed.push_back(1 / x);
            }
            report(std::string("read lock throughput, robust policy: ") + label + " processes vs 1 (median)",
                   bench::median_of(speed), "x");
        }
    }
#endif
    for (const char* row : {names::read_default_1, names::read_default_2, names::read_default_4, names::read_robust_1,
                            names::read_robust_2, names::read_robust_4}) {
        if (const auto it = bench::rows().find(row); it != bench::rows().end()) {
            report(std::string(row) + ": total", 1e3 / it->second.mean_ns, "Mops/s (mean of the rounds' ns)");
        }
    }
}

// ---- cross-process rows -------------------------------------------------------------------------

// Pins the calling thread to the first processor while it lives (the helper of a spinning row
// takes the second): two spinners sharing one processor would measure the scheduler.
class pinned_to_first_processor {
public:
    pinned_to_first_processor()
    {
        SYSTEM_INFO si{};
        ::GetSystemInfo(&si);
        if (si.dwNumberOfProcessors >= 2) {
            previous_ = ::SetThreadAffinityMask(::GetCurrentThread(), 1);
        }
    }
    pinned_to_first_processor(const pinned_to_first_processor&) = delete;
    pinned_to_first_processor& operator=(const pinned_to_first_processor&) = delete;
    ~pinned_to_first_processor()
    {
        if (previous_ != 0) {
            ::SetThreadAffinityMask(::GetCurrentThread(), previous_);
        }
    }

private:
    DWORD_PTR previous_ = 0;
};

TEST_CASE("handoff round trip between two processes, spinning", "[handoff]")
{
    const pinned_to_first_processor pinned;
    {
        raw_control control("Local\\" + bench_name("spin-raw"));
        helper h(control, {"spin-raw"});
        REQUIRE(h.wait_ready());
        std::atomic_ref<std::uint64_t> ping(control.block()->ping);
        std::atomic_ref<std::uint64_t> pong(control.block()->pong);
        std::uint64_t i = 0;
        BENCHMARK(names::spin_raw)
        {
            ping.store(++i, std::memory_order_release);
            while (pong.load(std::memory_order_acquire) != i) {
                detail::cpu_relax();
            }
            return i;
        };
        control.request_stop();
        ping.store(++i, std::memory_order_release);
        CHECK(h.finish());
    }
    {
        raw_control control("Local\\" + bench_name("spin-ours"));
        const std::string ping_name = bench_name("spin-ping"), pong_name = bench_name("spin-pong");
        auto ping = notification::create(local(ping_name));
        auto pong = notification::create(local(pong_name));
        helper h(control, {"spin-ours", "Local\\" + ping_name, "Local\\" + pong_name});
        REQUIRE(h.wait_ready());
        std::uint64_t seen = pong.sequence();
        BENCHMARK(names::spin_ours)
        {
            ping.notify();
            seen = pong.wait(seen, acquire_mode::spin_forever());
            return seen;
        };
        control.request_stop();
        ping.notify();
        CHECK(h.finish());
    }
}

TEST_CASE("handoff round trip between two processes, blocking", "[handoff]")
{
    // All three helpers at once, each asleep while another row runs: the rows run side by side.
    event_pair raw_events("event-raw", {"event-raw"});

    raw_control ours_control("Local\\" + bench_name("event-ours"));
    const std::string ping_name = bench_name("notify-ping"), pong_name = bench_name("notify-pong");
    auto ping = notification::create(local(ping_name));
    auto pong = notification::create(local(pong_name));
    helper ours_helper(ours_control, {"event-ours", "Local\\" + ping_name, "Local\\" + pong_name});
    REQUIRE(ours_helper.wait_ready());

    // The library's algorithm written raw, on the control block's words and two more events.
    event_pair algo_events("notify-raw", {"notify-raw"});
    bench::control_block& algo = *algo_events.control().block();

    std::uint64_t seen = pong.sequence();
    const auto ours = [&] {
        ping.notify();
        seen = pong.wait(seen, acquire_mode::wait_for(std::chrono::hours(1)));
        return seen;
    };
    std::uint64_t algo_seen = std::atomic_ref<std::uint64_t>(algo.raw_sequence[1]).load();
    bench::interleave(
        names::event_ours, ours, names::notify_raw,
        [&] {
            bench::raw_notify(algo.raw_sequence[0], algo.raw_sleepers[0], algo_events.ping());
            algo_seen = bench::raw_wait(algo.raw_sequence[1], algo.raw_sleepers[1], algo_seen, algo_events.pong());
            return algo_seen;
        },
        skip_benchmarks());
    bench::interleave(
        names::event_ours, ours, names::event_raw,
        [&] {
            ::SetEvent(raw_events.ping());
            return ::WaitForSingleObject(raw_events.pong(), INFINITE);
        },
        skip_benchmarks());

    algo_events.finish([&] { bench::raw_notify(algo.raw_sequence[0], algo.raw_sleepers[0], algo_events.ping()); });
    raw_events.finish([&] { ::SetEvent(raw_events.ping()); });
    ours_control.request_stop();
    ping.notify();
    CHECK(ours_helper.finish());
}

namespace {

// The channel side of a transfer row: a channel, its reader helpers (`readers` processes, each
// reading every frame in place or copying it out) and the notification they acknowledge on.
class channel_transfer {
public:
    channel_transfer(const char* tag, bool in_place, unsigned readers, std::uint32_t slots = default_frame_slots)
        : writer_(frame_writer::create(local(bench_name(tag)), {.max_frame_size = bench::frame_bytes, .slots = slots})),
          ack_(notification::create(local(bench_name((std::string(tag) + "-ack").c_str())))), readers_(readers)
    {
        for (unsigned i = 0; i < readers; ++i) {
            controls_.push_back(std::make_unique<raw_control>(
                "Local\\" + bench_name((std::string(tag) + "-control" + std::to_string(i)).c_str())));
            helpers_.push_back(std::make_unique<helper>(
                *controls_.back(), std::vector<std::string>{in_place ? "channel-view" : "channel-copy",
                                                            "Local\\" + bench_name(tag),
                                                            "Local\\" + bench_name((std::string(tag) + "-ack").c_str())}));
            REQUIRE(helpers_.back()->wait_ready());
        }
        seen_ = ack_.sequence();
    }
    channel_transfer(const channel_transfer&) = delete;
    channel_transfer& operator=(const channel_transfer&) = delete;
    ~channel_transfer()
    {
        for (auto& c : controls_) {
            c->request_stop();
        }
        writer_.close(); // end of stream
        for (auto& h : helpers_) {
            CHECK(h->finish());
        }
    }

    // One frame to every reader, and every reader's acknowledgement.
    std::uint64_t operator()(std::span<const std::byte> frame, const frame_meta& meta)
    {
        writer_.publish(frame, meta);
        const std::uint64_t want = seen_ + readers_;
        while (seen_ < want) {
            seen_ = ack_.wait(seen_, acquire_mode::wait_for(std::chrono::hours(1)));
        }
        return seen_;
    }

private:
    frame_writer writer_;
    notification ack_;
    unsigned readers_;
    std::vector<std::unique_ptr<raw_control>> controls_;
    std::vector<std::unique_ptr<helper>> helpers_;
    std::uint64_t seen_ = 0;
};

// The raw single-buffer transfer: one mapping the size of a frame, the writer's memcpy into it,
// a named event each way; the helper reads the frame in place, or copies it out and reads that.
class raw_transfer {
public:
    raw_transfer(const std::string& tag, bool in_place)
        : section_name_("Local\\" + bench_name((tag + "-section").c_str())),
          section_(::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0,
                                        static_cast<DWORD>(bench::frame_bytes), test::widen(section_name_).c_str())),
          view_(section_ ? static_cast<std::byte*>(::MapViewOfFile(section_.get(), FILE_MAP_WRITE, 0, 0, 0)) : nullptr)
    {
        REQUIRE(view_ != nullptr);
        std::memset(view_, 0, bench::frame_bytes); // every page committed before the timings
        events_ = std::make_unique<event_pair>(tag, std::vector<std::string>{in_place ? "raw-view" : "raw-copy",
                                                                            section_name_});
    }
    raw_transfer(const raw_transfer&) = delete;
    raw_transfer& operator=(const raw_transfer&) = delete;
    ~raw_transfer()
    {
        events_->finish([this] { ::SetEvent(events_->ping()); });
        ::UnmapViewOfFile(view_);
    }

    DWORD operator()(std::span<const std::byte> frame)
    {
        std::memcpy(view_, frame.data(), frame.size());
        std::atomic_ref<std::uint64_t>(events_->control().block()->raw_length)
            .store(frame.size(), std::memory_order_release);
        ::SetEvent(events_->ping());
        return ::WaitForSingleObject(events_->pong(), INFINITE);
    }

private:
    std::string section_name_;
    detail::unique_handle section_;
    std::byte* view_ = nullptr;
    std::unique_ptr<event_pair> events_;
};

} // namespace

TEST_CASE("transfer a 1080p frame to another process and get an acknowledgement", "[transfer]")
{
    // Every receiver at once, each asleep while another row runs: each ratio's rows run side by
    // side, round by round.
    const std::vector<std::byte> frame = test_frame();
    const std::uint64_t length = frame.size();
    const frame_meta meta{.width = bench::frame_width, .height = bench::frame_height,
                          .stride = bench::frame_width * 3, .format = pixel_format::rgb24};

    channel_transfer view("transfer-view", true, 1);
    channel_transfer copy("transfer-copy", false, 1);
    raw_transfer raw_view("transfer-raw-view", true);
    raw_transfer raw_copy("transfer-raw-copy", false);
    const auto by_view = [&] { return view(frame, meta); };
    const auto by_copy = [&] { return copy(frame, meta); };
    bench::interleave(names::transfer_view, by_view, names::transfer_raw_view, [&] { return raw_view(frame); },
                      skip_benchmarks());
    bench::interleave(names::transfer_copy, by_copy, names::transfer_raw_copy, [&] { return raw_copy(frame); },
                      skip_benchmarks());
    {
        // What-if: the same with two slots, whose footprint (the source and two 6 MB slots) is
        // the raw buffer's plus one frame; three slots and the source are 24 MB of a 32 MB L3.
        channel_transfer view2("transfer-view-2", true, 1, 2);
        channel_transfer copy2("transfer-copy-2", false, 1, 2);
        bench::interleave(names::transfer_view_2, [&] { return view2(frame, meta); }, names::transfer_raw_view,
                          [&] { return raw_view(frame); }, skip_benchmarks());
        bench::interleave(names::transfer_copy_2, [&] { return copy2(frame, meta); }, names::transfer_raw_copy,
                          [&] { return raw_copy(frame); }, skip_benchmarks());
        for (const auto& [two, raw] : {std::pair{names::transfer_view_2, names::transfer_raw_view},
                                       std::pair{names::transfer_copy_2, names::transfer_raw_copy}}) {
            if (const auto it = bench::in_round_ratios().find({two, raw}); it != bench::in_round_ratios().end()) {
                report(std::string("what-if: ") + two + " vs " + raw + " (median in-round)",
                       bench::median_of(it->second), "x");
            }
        }
    }

    raw_control pipe_control("Local\\" + bench_name("transfer-pipe"));
    const std::string pipe_name = "\\\\.\\pipe\\" + bench_name("pipe");
    detail::unique_handle pipe(::CreateNamedPipeW(test::widen(pipe_name).c_str(), PIPE_ACCESS_DUPLEX,
                                                  PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, 1 << 20, 1 << 20,
                                                  0, nullptr));
    REQUIRE(pipe.get() != INVALID_HANDLE_VALUE);
    helper pipe_helper(pipe_control, {"pipe", pipe_name});
    const BOOL connected = ::ConnectNamedPipe(pipe.get(), nullptr) || ::GetLastError() == ERROR_PIPE_CONNECTED;
    REQUIRE(connected);
    REQUIRE(pipe_helper.wait_ready());
    const auto write_all = [&pipe](const void* p, std::size_t n) {
        DWORD put = 0;
        return ::WriteFile(pipe.get(), p, static_cast<DWORD>(n), &put, nullptr) && put == n;
    };
    const auto by_pipe = [&] {
        write_all(&length, sizeof length);
        write_all(frame.data(), frame.size());
        char ack = 0;
        DWORD got = 0;
        ::ReadFile(pipe.get(), &ack, 1, &got, nullptr);
        return ack;
    };

    WSADATA wsa{};
    REQUIRE(::WSAStartup(MAKEWORD(2, 2), &wsa) == 0);
    raw_control tcp_control("Local\\" + bench_name("transfer-tcp"));
    SOCKET listener = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = ::htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 1) == 0);
    int addr_len = sizeof addr;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &addr_len) == 0);
    helper tcp_helper(tcp_control, {"tcp", std::to_string(::ntohs(addr.sin_port))});
    SOCKET s = ::accept(listener, nullptr, nullptr);
    REQUIRE(s != INVALID_SOCKET);
    REQUIRE(tcp_helper.wait_ready());
    const int on = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&on), sizeof on);
    const int buffer = 8 << 20;
    ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, reinterpret_cast<const char*>(&buffer), sizeof buffer);
    ::setsockopt(s, SOL_SOCKET, SO_SNDBUF, reinterpret_cast<const char*>(&buffer), sizeof buffer);
    const auto send_all = [s](const void* p, std::size_t n) {
        const char* c = static_cast<const char*>(p);
        while (n != 0) {
            const int put = ::send(s, c, static_cast<int>(n), 0);
            if (put <= 0) {
                return false;
            }
            c += put;
            n -= static_cast<std::size_t>(put);
        }
        return true;
    };
    const auto by_tcp = [&] {
        send_all(&length, sizeof length);
        send_all(frame.data(), frame.size());
        char ack = 0;
        ::recv(s, &ack, 1, 0);
        return ack;
    };

    // The peers: a pipe's frame takes 20 ms or so under Wine, so these pairs hold the run longest.
    bench::interleave(names::transfer_view, by_view, names::transfer_pipe, by_pipe, skip_benchmarks());
    bench::interleave(names::transfer_copy, by_copy, names::transfer_pipe, by_pipe, skip_benchmarks());
    bench::interleave(names::transfer_view, by_view, names::transfer_tcp, by_tcp, skip_benchmarks());
    bench::interleave(names::transfer_copy, by_copy, names::transfer_tcp, by_tcp, skip_benchmarks());

    const std::uint64_t stop = 0;
    write_all(&stop, sizeof stop);
    CHECK(pipe_helper.finish());
    send_all(&stop, sizeof stop);
    CHECK(tcp_helper.finish());
    ::closesocket(s);
    ::closesocket(listener);
    ::WSACleanup();
}

TEST_CASE("transfer a 1080p frame to 1, 2 and 4 reader processes of one channel", "[transfer][readers]")
{
    // Reported, no target: what each further reader process costs the writer (every reader
    // reads every byte and acknowledges before the next frame).
    const std::vector<std::byte> frame = test_frame();
    const frame_meta meta{.width = bench::frame_width, .height = bench::frame_height,
                          .stride = bench::frame_width * 3, .format = pixel_format::rgb24};
    for (const bool in_place : {true, false}) {
        for (const unsigned readers : {1u, 2u, 4u}) {
            const std::string tag = std::string(in_place ? "readers-view-" : "readers-copy-") + std::to_string(readers);
            channel_transfer transfer(tag.c_str(), in_place, readers);
            const std::string name = std::string("transfer 1080p: frame channel to ") + std::to_string(readers) +
                                     (in_place ? " zero-copy" : " copying") + " reader process" +
                                     (readers == 1 ? "" : "es");
            if (!skip_benchmarks()) {
                Catch::Benchmark::Benchmark(std::string(name), [&] { return transfer(frame, meta); }).run();
            }
        }
    }
}

// ---- asynchronous waits -------------------------------------------------------------------------

namespace {

// The clock of the one-way latency rows: steady_clock, less the time each iteration spent
// outside the latency it measured (asking for the frame, letting the reader fall asleep, waking
// the benchmark's thread). Catch2 estimates, warms up, samples and bootstraps with it as with
// its own clock, so such a row is the mean one-way latency with its confidence interval, as
// every other row is a mean time.
struct one_way_clock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<one_way_clock, duration>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept
    {
        return time_point(std::chrono::duration_cast<duration>(std::chrono::steady_clock::now().time_since_epoch()) -
                          excluded());
    }
    // Ends an iteration that started at `start` and measured `latency`: the rest is not counted.
    static void keep_only(std::chrono::steady_clock::time_point start, duration latency) noexcept
    {
        const auto spent = std::chrono::duration_cast<duration>(std::chrono::steady_clock::now() - start);
        if (spent > latency) {
            excluded() += spent - latency;
        }
    }

private:
    static duration& excluded() noexcept
    {
        static duration total{0};
        return total;
    }
};

// Runs a one-way latency row: `iteration` measures one latency and calls keep_only.
template <class Iteration>
void one_way_benchmark(const char* name, Iteration iteration)
{
    if (Catch::getCurrentContext().getConfig()->skipBenchmarks()) {
        return;
    }
    Catch::Benchmark::Benchmark(name, std::move(iteration)).run<one_way_clock>();
}

std::int64_t qpc_now() noexcept
{
    LARGE_INTEGER t{};
    ::QueryPerformanceCounter(&t);
    return t.QuadPart;
}

// From the writer's stamp in a wake-up frame to `arrived` (both QueryPerformanceCounter values).
std::chrono::nanoseconds latency_of(std::span<const std::byte> frame, std::int64_t arrived) noexcept
{
    static const std::int64_t frequency = [] {
        LARGE_INTEGER f{};
        ::QueryPerformanceFrequency(&f);
        return f.QuadPart;
    }();
    std::int64_t stamp = 0;
    std::memcpy(&stamp, frame.data(), sizeof stamp);
    const std::int64_t ticks = arrived - stamp;
    if (ticks <= 0) {
        return std::chrono::nanoseconds(0);
    }
    return std::chrono::nanoseconds(ticks / frequency * 1000000000 + ticks % frequency * 1000000000 / frequency);
}

// One wake-up of an asynchronous form per run(): starts the reader's wait (announced before
// `arm` returns), asks the helper for a frame, and sleeps until the completion (which takes its
// time stamp first thing) wakes it. Only the latency is counted.
class async_wake {
public:
    // `arm` starts the reader's wait into `buf`; its completion calls completed().
    async_wake(notification& ack, std::span<const std::byte> buf, std::function<void()> arm)
        : ack_(ack), buf_(buf), arm_(std::move(arm)), done_(::CreateEventW(nullptr, FALSE, FALSE, nullptr))
    {
        if (!done_) {
            throw std::runtime_error("async_wake: CreateEventW");
        }
    }

    // On the benchmark's thread: one iteration of the row.
    void run()
    {
        const auto start = std::chrono::steady_clock::now();
        if (stuck_) {
            one_way_clock::keep_only(start, {});
            return;
        }
        arm_();
        std::error_code ec;
        ack_.notify(ec);
        if (::WaitForSingleObject(done_.get(), 60000) != WAIT_OBJECT_0) {
            stuck_ = true; // counted in full (a row of zeros would never end its estimate)
            one_way_clock::keep_only(start, std::chrono::hours(1));
            return;
        }
        one_way_clock::keep_only(start, latency_);
    }

    // In the reader's completion; `arrived` is its first act.
    void completed(const std::error_code& ec, std::int64_t arrived) noexcept
    {
        if (ec) {
            failures_.fetch_add(1);
            latency_ = std::chrono::hours(1);
        } else {
            latency_ = latency_of(buf_, arrived);
        }
        ::SetEvent(done_.get());
    }

    unsigned failures() const noexcept { return failures_.load(); }
    bool stuck() const noexcept { return stuck_; }

private:
    notification& ack_;
    std::span<const std::byte> buf_;
    std::function<void()> arm_;
    detail::unique_handle done_;
    std::chrono::nanoseconds latency_{0}; // written before done_ is set, read after the wait
    std::atomic<unsigned> failures_{0};
    bool stuck_ = false;
};

// The helper's counts of publishes, for one row.
struct publish_counts {
    std::uint64_t published = 0;
    std::uint64_t held_back = 0;
};

publish_counts counts_of(raw_control& control)
{
    return {std::atomic_ref<std::uint64_t>(control.block()->published).load(),
            std::atomic_ref<std::uint64_t>(control.block()->held_back).load()};
}

void report_held_back(const char* form, const publish_counts& before, const publish_counts& after)
{
    const std::uint64_t published = after.published - before.published;
    report(std::string("async wake-up, ") + form + ": frames that waited for the reader to announce itself",
           static_cast<double>(after.held_back - before.held_back), "of " + std::to_string(published) + " frames");
}

// A reader of the helper's channel that has taken everything published so far: its next take
// waits for the next frame.
frame_reader drained_reader(const std::string& channel, std::span<std::byte> buf)
{
    auto reader = frame_reader::open(local(channel));
    frame_info info;
    std::error_code ec;
    reader.try_take(buf, info, ec);
    if (ec) {
        throw std::system_error(ec, "drained_reader");
    }
    return reader;
}

std::chrono::milliseconds idle_interval()
{
    double seconds = idle_seconds;
    if (const char* s = std::getenv("WINMMF_BENCH_IDLE_SECONDS"); s != nullptr && *s != '\0') {
        const double v = std::strtod(s, nullptr);
        if (v > 0) {
            seconds = v;
        }
    }
    return std::chrono::milliseconds(std::llround(seconds * 1000));
}

// User + kernel time of every thread of this process so far, in 100 ns units.
std::uint64_t process_cpu_time()
{
    FILETIME created{}, exited{}, kernel{}, user{};
    if (!::GetProcessTimes(::GetCurrentProcess(), &created, &exited, &kernel, &user)) {
        return 0;
    }
    const auto ticks = [](const FILETIME& t) { return (std::uint64_t{t.dwHighDateTime} << 32) | t.dwLowDateTime; };
    return ticks(kernel) + ticks(user);
}

} // namespace

TEST_CASE("wake-up latency of the asynchronous forms against the blocking take, a writer process publishing",
          "[async][latency]")
{
    // One-way: from the helper's stamp, taken as it publishes, to the first instruction of the
    // reader's completion (the blocking form: take() returning). Before each frame the reader
    // asks for it through `ack` and goes to sleep; the helper publishes only once the reader is
    // announced, and bench::wake_settle later (helper: publish-on-ack). One helper, one
    // channel, a fresh reader for each row.
    raw_control control("Local\\" + bench_name("async-wake"));
    const std::string channel = bench_name("async-wake-channel");
    const std::string ack_name = bench_name("async-wake-ack");
    auto ack = notification::create(local(ack_name));
    helper h(control, {"publish-on-ack", "Local\\" + channel, "Local\\" + ack_name});
    REQUIRE(h.wait_ready());
    const acquire_mode mode = acquire_mode::wait_for(std::chrono::hours(1));
    std::vector<std::byte> buf(bench::wake_frame_bytes);

    {
        auto reader = drained_reader(channel, buf);
        const publish_counts before = counts_of(control);
        unsigned failures = 0;
        one_way_benchmark(names::async_wake_blocking, [&] {
            const auto start = std::chrono::steady_clock::now();
            std::error_code ec;
            ack.notify(ec);
            reader.take(buf, mode, ec);
            const std::int64_t arrived = qpc_now();
            failures += ec ? 1u : 0u;
            one_way_clock::keep_only(start, ec ? std::chrono::hours(1) : latency_of(buf, arrived));
        });
        CHECK(failures == 0);
        CHECK(reader.frames_skipped() == 0);
        report_held_back("blocking take", before, counts_of(control));
    }
    {
        auto reader = drained_reader(channel, buf);
        const publish_counts before = counts_of(control);
        async_wake* self = nullptr;
        async_wake wake(ack, buf, [&reader, &buf, &mode, &self] {
            reader.async_take(buf, mode, [&self](const std::error_code& ec, const frame_info&) noexcept {
                const std::int64_t arrived = qpc_now();
                self->completed(ec, arrived);
            });
        });
        self = &wake;
        one_way_benchmark(names::async_wake_pool, [&wake] { wake.run(); });
        CHECK(wake.failures() == 0);
        CHECK_FALSE(wake.stuck());
        CHECK(reader.frames_skipped() == 0);
        report_held_back("thread-pool callback", before, counts_of(control));
    }
#if defined(WINMMF_BENCH_HAVE_ASIO)
    {
        auto reader = drained_reader(channel, buf);
        const publish_counts before = counts_of(control);
        ::asio::io_context io(1);
        auto work = ::asio::make_work_guard(io);
        std::thread runner([&io] { io.run(); });
        async_wake* self = nullptr;
        async_wake wake(ack, buf, [&reader, &buf, &mode, &self, &io] {
            winmmf::asio::async_take(reader, buf, mode,
                                     ::asio::bind_executor(io, [&self](const winmmf::asio::error_code& ec,
                                                                       const frame_info&) {
                                         const std::int64_t arrived = qpc_now();
                                         self->completed(winmmf::asio::to_std(ec), arrived);
                                     }));
        });
        self = &wake;
        one_way_benchmark(names::async_wake_asio, [&wake] { wake.run(); });
        work.reset();
        runner.join();
        CHECK(wake.failures() == 0);
        CHECK_FALSE(wake.stuck());
        CHECK(reader.frames_skipped() == 0);
        report_held_back("Asio", before, counts_of(control));
    }
#endif
    control.request_stop();
    ack.notify();
    CHECK(h.finish());
}

namespace {

// A raw pool wait's completion for the what-if rows: the callback's time stamp, and the event
// that wakes the benchmark's thread. `close_first`: the callback first stops and closes its
// wait, as the library's engine did before it delivered, before it closed them afterwards.
struct raw_pool_wake {
    detail::unique_handle done{::CreateEventW(nullptr, FALSE, FALSE, nullptr)};
    std::int64_t arrived = 0;
    bool close_first = false;

    static void CALLBACK on_signalled(PTP_CALLBACK_INSTANCE, PVOID context, PTP_WAIT wait, TP_WAIT_RESULT) noexcept
    {
        auto* self = static_cast<raw_pool_wake*>(context);
        if (self->close_first) {
            ::SetThreadpoolWait(wait, nullptr, nullptr);
            ::CloseThreadpoolWait(wait);
        }
        self->arrived = qpc_now();
        ::SetEvent(self->done.get());
    }
};

// From the stamp-event helper's stamp to `arrived`.
std::chrono::nanoseconds raw_latency(raw_control& control, std::int64_t arrived)
{
    std::byte stamp[sizeof(std::int64_t)];
    const std::int64_t value = std::atomic_ref<std::int64_t>(control.block()->stamp).load(std::memory_order_acquire);
    std::memcpy(stamp, &value, sizeof value);
    return latency_of(stamp, arrived);
}

} // namespace

TEST_CASE("what a thread-pool wait costs by itself: raw events, a helper process setting them", "[async][latency]")
{
    raw_control control("Local\\" + bench_name("async-raw"));
    const std::string request_name = "Local\\" + bench_name("async-raw-request");
    const std::string wake_name = "Local\\" + bench_name("async-raw-wake");
    detail::unique_handle request(::CreateEventW(nullptr, FALSE, FALSE, test::widen(request_name).c_str()));
    detail::unique_handle wake(::CreateEventW(nullptr, FALSE, FALSE, test::widen(wake_name).c_str()));
    REQUIRE(request);
    REQUIRE(wake);
    helper h(control, {"stamp-event", request_name, wake_name});
    REQUIRE(h.wait_ready());

    one_way_benchmark(names::async_whatif_event, [&] {
        const auto start = std::chrono::steady_clock::now();
        ::SetEvent(request.get());
        ::WaitForSingleObject(wake.get(), INFINITE);
        const std::int64_t arrived = qpc_now();
        one_way_clock::keep_only(start, raw_latency(control, arrived));
    });
    for (const bool close_first : {false, true}) {
        raw_pool_wake completion;
        completion.close_first = close_first;
        REQUIRE(completion.done);
        const auto make_wait = [&completion] {
            return ::CreateThreadpoolWait(&raw_pool_wake::on_signalled, &completion, nullptr);
        };
        PTP_WAIT reused = close_first ? nullptr : make_wait();
        bool ok = true;
        one_way_benchmark(close_first ? names::async_whatif_closed : names::async_whatif_pool, [&] {
            const auto start = std::chrono::steady_clock::now();
            PTP_WAIT wait = close_first ? make_wait() : reused;
            ok = ok && wait != nullptr;
            ::SetThreadpoolWait(wait, wake.get(), nullptr);
            ::SetEvent(request.get());
            const bool woken = ::WaitForSingleObject(completion.done.get(), 60000) == WAIT_OBJECT_0;
            ok = ok && woken;
            one_way_clock::keep_only(start, woken ? raw_latency(control, completion.arrived) : std::chrono::hours(1));
        });
        CHECK(ok);
        if (reused != nullptr) {
            ::SetThreadpoolWait(reused, nullptr, nullptr);
            ::WaitForThreadpoolWaitCallbacks(reused, TRUE);
            ::CloseThreadpoolWait(reused);
        }
    }
    control.request_stop();
    ::SetEvent(request.get());
    CHECK(h.finish());
}

TEST_CASE("1,000 idle asynchronous waits: the threads and the CPU time they cost", "[async][idle]")
{
    // 500 takes (50 readers on each of 10 channels) and 500 notification waits (50 on each of
    // 10 notifications: at most 50 sleepers per object, of its 64 waiter slots). Nothing is
    // published or notified: what does waiting cost while nothing happens?
    constexpr unsigned objects = 10;
    constexpr unsigned per_object = 50;
    constexpr unsigned waits = 2 * objects * per_object;
    const std::chrono::milliseconds interval = idle_interval();

    std::vector<frame_writer> writers;
    std::vector<frame_reader> readers;
    std::vector<notification> notifications;
    for (unsigned i = 0; i < objects; ++i) {
        const std::string channel = bench_name(("idle-c" + std::to_string(i)).c_str());
        writers.push_back(frame_writer::create(local(channel), {.max_frame_size = bench::wake_frame_bytes}));
        for (unsigned r = 0; r < per_object; ++r) {
            readers.push_back(frame_reader::open(local(channel)));
        }
        notifications.push_back(notification::create(local(bench_name(("idle-n" + std::to_string(i)).c_str()))));
    }
    std::vector<std::array<std::byte, bench::wake_frame_bytes>> buffers(readers.size());

    std::atomic<unsigned> ended{0};
    std::atomic<unsigned> cancelled{0};
    const auto count = [&ended, &cancelled](const std::error_code& ec) noexcept {
        if (ec == errc::cancelled) {
            cancelled.fetch_add(1);
        }
        ended.fetch_add(1);
    };
    const acquire_mode mode = acquire_mode::wait_for(std::chrono::hours(1));

    const std::size_t threads_before = test::own_thread_count();
    std::vector<async_operation> ops;
    ops.reserve(waits);
    for (std::size_t r = 0; r < readers.size(); ++r) {
        const auto done = [&count](const std::error_code& ec, const frame_info&) noexcept { count(ec); };
        ops.push_back(readers[r].async_take(buffers[r], mode, done));
    }
    for (notification& n : notifications) {
        const std::uint64_t seen = n.sequence();
        for (unsigned k = 0; k < per_object; ++k) {
            ops.push_back(n.async_wait(seen, mode, [&count](const std::error_code& ec, std::uint64_t) noexcept {
                count(ec);
            }));
        }
    }
    // Every wait announced in its object.
    const bool all_asleep = test::eventually(
        [&] {
            std::size_t n = 0;
            for (const frame_writer& w : writers) {
                n += w.waiting();
            }
            for (const notification& x : notifications) {
                n += x.waiting();
            }
            return n == waits;
        },
        60s);
    REQUIRE(all_asleep);
    ::Sleep(500); // the pool's threads settle

    const std::size_t threads_start = test::own_thread_count();
    const unsigned ended_before = ended.load();
    const std::uint64_t cpu_start = process_cpu_time();
    const auto wall_start = std::chrono::steady_clock::now();
    ::Sleep(static_cast<DWORD>(interval.count()));
    const std::uint64_t cpu_end = process_cpu_time();
    const auto wall_end = std::chrono::steady_clock::now();
    const std::size_t threads_end = test::own_thread_count();
    const unsigned ended_idle = ended.load() - ended_before;

    for (async_operation& op : ops) {
        op.cancel();
    }
    const bool all_ended = test::eventually([&] { return ended.load() == waits; }, 60s);
    const std::size_t threads_after = test::own_thread_count();
    ops.clear();

    const double wall_ms = std::chrono::duration<double, std::milli>(wall_end - wall_start).count();
    const double cpu_ms = static_cast<double>(cpu_end - cpu_start) / 1e4;
    report("async idle: threads before the 1,000 waits", static_cast<double>(threads_before), "threads");
    report("async idle: threads with the 1,000 waits pending (start)", static_cast<double>(threads_start), "threads");
    report("async idle: threads with the 1,000 waits pending (end)", static_cast<double>(threads_end), "threads");
    report("async idle: threads once they are cancelled", static_cast<double>(threads_after), "threads");
    report("async idle: the idle interval", wall_ms / 1000, "s");
    report("async idle: process CPU time over it (user + kernel)", cpu_ms, "ms");
    report("async idle: the same, per second of the interval", cpu_ms / (wall_ms / 1000), "ms/s");
    report("async idle: waits that ended while idle", static_cast<double>(ended_idle), "of 1000");
    report("async idle: waits ended by cancel() with errc::cancelled", static_cast<double>(cancelled.load()),
           "of 1000");
    CHECK(threads_start > 0);
    CHECK(ended_before == 0);
    CHECK(ended_idle == 0);
    CHECK(all_ended);
    CHECK(cancelled.load() == waits);
}
