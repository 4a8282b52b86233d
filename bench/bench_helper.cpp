// winmmf_bench_helper: the other process of every cross-process row in winmmf_bench. It answers
// one round trip per request, in the mode named by its first argument (bench_common.hpp), until
// the benchmark sets the stop flag (or closes the pipe, socket or channel).
//
// <winsock2.h> comes before anything that includes <windows.h>.
#include <winsock2.h>
#include <ws2tcpip.h>

#include "bench_common.hpp"

#include <winmmf/frame_channel.hpp>
#include <winmmf/notification.hpp>
#include <winmmf/winmmf.hpp>

#include <shellapi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace winmmf;

struct raw_control {
    HANDLE section = nullptr;
    bench::control_block* block = nullptr;

    explicit raw_control(const std::wstring& name)
    {
        section = ::OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name.c_str());
        if (section != nullptr) {
            block = static_cast<bench::control_block*>(
                ::MapViewOfFile(section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(bench::control_block)));
        }
    }
    ~raw_control()
    {
        if (block != nullptr) {
            ::UnmapViewOfFile(block);
        }
        if (section != nullptr) {
            ::CloseHandle(section);
        }
    }
    bool stopped() const
    {
        return std::atomic_ref<std::uint32_t>(block->stop).load(std::memory_order_acquire) != 0;
    }
};

void ready(const std::wstring& control)
{
    const std::wstring name = control + L"-ready";
    if (HANDLE e = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, name.c_str())) {
        ::SetEvent(e);
        ::CloseHandle(e);
    }
}

// The spinning rows pin the two processes to different processors (the benchmark takes the
// first): two spinners sharing one processor would measure the scheduler's time slice.
void pin_to_second_processor()
{
    SYSTEM_INFO si{};
    ::GetSystemInfo(&si);
    if (si.dwNumberOfProcessors >= 2) {
        ::SetThreadAffinityMask(::GetCurrentThread(), 2);
    }
}

// Answers each SetEvent of `request` with `answer()`, until the benchmark sets the stop flag
// (and sets `request` once more to get it seen).
template <class Answer>
int answer_each(const raw_control& control, HANDLE request, Answer answer)
{
    for (;;) {
        if (::WaitForSingleObject(request, INFINITE) != WAIT_OBJECT_0) {
            return 4;
        }
        if (control.stopped()) {
            return 0;
        }
        answer();
    }
}

int spin_raw(const std::wstring& control_name)
{
    pin_to_second_processor();
    raw_control control(control_name);
    if (control.block == nullptr) {
        return 3;
    }
    std::atomic_ref<std::uint64_t> ping(control.block->ping);
    std::atomic_ref<std::uint64_t> pong(control.block->pong);
    std::uint64_t last = ping.load(std::memory_order_acquire);
    ready(control_name);
    for (;;) {
        std::uint64_t p;
        while ((p = ping.load(std::memory_order_acquire)) == last) {
            detail::cpu_relax();
        }
        if (control.stopped()) {
            return 0;
        }
        last = p;
        pong.store(p, std::memory_order_release);
    }
}

int notify_ours(const std::wstring& control_name, const std::wstring& ping_name, const std::wstring& pong_name,
                const acquire_mode& mode)
{
    raw_control control(control_name);
    std::error_code ec;
    auto ping = notification::open(custom(ping_name), ec);
    auto pong = notification::open(custom(pong_name), ec);
    if (control.block == nullptr || !ping || !pong) {
        return 3;
    }
    std::uint64_t seen = ping.sequence();
    ready(control_name);
    for (;;) {
        seen = ping.wait(seen, mode, ec);
        if (ec) {
            return 4;
        }
        if (control.stopped()) {
            return 0;
        }
        pong.notify(ec);
    }
}

int event_raw(const std::wstring& control_name, const std::wstring& ping_name, const std::wstring& pong_name)
{
    raw_control control(control_name);
    HANDLE ping = ::OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, ping_name.c_str());
    HANDLE pong = ::OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, pong_name.c_str());
    if (control.block == nullptr || ping == nullptr || pong == nullptr) {
        return 3;
    }
    ready(control_name);
    return answer_each(control, ping, [pong] { ::SetEvent(pong); });
}

// The baseline of event-ours: the notification's algorithm written raw (bench_common.hpp).
int notify_raw(const std::wstring& control_name, const std::wstring& ping_name, const std::wstring& pong_name)
{
    raw_control control(control_name);
    HANDLE ping = ::OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, ping_name.c_str());
    HANDLE pong = ::OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, pong_name.c_str());
    if (control.block == nullptr || ping == nullptr || pong == nullptr) {
        return 3;
    }
    bench::control_block& b = *control.block;
    std::uint64_t seen = std::atomic_ref<std::uint64_t>(b.raw_sequence[0]).load();
    ready(control_name);
    for (;;) {
        seen = bench::raw_wait(b.raw_sequence[0], b.raw_sleepers[0], seen, ping);
        if (control.stopped()) {
            return 0;
        }
        bench::raw_notify(b.raw_sequence[1], b.raw_sleepers[1], pong);
    }
}

// Every transfer row's receiver reads each byte of the frame once, as any consumer does, so that
// a reader that does not copy is not credited with bytes it never looked at.
std::uint64_t touch(const void* data, std::size_t size)
{
    std::uint64_t sum = 0;
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i + 8 <= size; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        sum += w;
    }
    return sum;
}

volatile std::uint64_t sink = 0;

int channel_ours(const std::wstring& control_name, const std::wstring& channel_name, const std::wstring& ack_name,
                 bool in_place)
{
    raw_control control(control_name);
    std::error_code ec;
    auto reader = frame_reader::open(custom(channel_name), ec);
    auto ack = notification::open(custom(ack_name), ec);
    if (control.block == nullptr || !reader || !ack) {
        return 3;
    }
    std::vector<std::byte> frame(reader.max_frame_size());
    ready(control_name);
    const acquire_mode mode = acquire_mode::wait_for(std::chrono::hours(1));
    for (;;) {
        if (in_place) {
            const frame_view view = reader.acquire(mode, ec);
            if (!ec) {
                sink = touch(view.bytes().data(), view.bytes().size());
                if (!view.still_valid()) {
                    return 5; // the benchmark never laps its reader
                }
            }
        } else {
            const frame_info info = reader.take(frame, mode, ec);
            if (!ec) {
                sink = touch(frame.data(), info.size);
            }
        }
        if (ec == errc::end_of_stream || control.stopped()) {
            return 0;
        }
        if (ec) {
            return 4;
        }
        ack.notify(ec);
    }
}

// The raw single-buffer transfer: the benchmark copies the frame into <section> and sets <ping>;
// this reads it in place (or copies it out and reads the copy) and sets <pong>. The baseline of
// the channel's transfer rows: the same bytes moved, with no channel.
int raw_transfer(const std::wstring& control_name, const std::wstring& section_name, const std::wstring& ping_name,
                 const std::wstring& pong_name, bool in_place)
{
    raw_control control(control_name);
    HANDLE section = ::OpenFileMappingW(FILE_MAP_READ, FALSE, section_name.c_str());
    HANDLE ping = ::OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, ping_name.c_str());
    HANDLE pong = ::OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, pong_name.c_str());
    const void* view = section != nullptr ? ::MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0) : nullptr;
    if (control.block == nullptr || view == nullptr || ping == nullptr || pong == nullptr) {
        return 3;
    }
    std::vector<std::byte> frame(bench::frame_bytes);
    std::atomic_ref<std::uint64_t> length(control.block->raw_length);
    ready(control_name);
    return answer_each(control, ping, [&] {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(length.load(), frame.size()));
        if (in_place) {
            sink = touch(view, n);
        } else {
            std::memcpy(frame.data(), view, n);
            sink = touch(frame.data(), n);
        }
        ::SetEvent(pong);
    });
}

// The read-lock contention row. Each helper has a control block of its own; per round it sleeps
// on "<control>-start" until the benchmark sets it, then takes and releases the read lock as
// fast as it goes while `go` is set, and reports: counts[0], then `rounds` + 1. Helpers left
// out of a round sleep, so they take no processor from those in it.
template <class Mapping>
int read_lock_loop(raw_control& control, const std::wstring& control_name, Mapping& mapping)
{
    HANDLE start = ::OpenEventW(SYNCHRONIZE, FALSE, (control_name + L"-start").c_str());
    if (start == nullptr) {
        return 3;
    }
    bench::control_block& b = *control.block;
    std::atomic_ref<std::uint32_t> go(b.go);
    ready(control_name);
    for (;;) {
        if (::WaitForSingleObject(start, INFINITE) != WAIT_OBJECT_0) {
            return 4;
        }
        if (control.stopped()) {
            return 0;
        }
        std::uint64_t count = 0;
        std::error_code ec;
        while (go.load(std::memory_order_acquire) != 0) {
            for (int i = 0; i < 256; ++i) {
                auto guard = mapping.try_lock_read(ec);
                count += guard.owns_lock() ? 1u : 0u;
            }
        }
        std::atomic_ref<std::uint64_t>(b.counts[0]).store(count, std::memory_order_relaxed);
        // release: the benchmark reads the count once it sees the round reported.
        std::atomic_ref<std::uint64_t>(b.rounds).fetch_add(1, std::memory_order_release);
    }
}

int read_lock(const std::wstring& control_name, const std::wstring& mapping_name, const std::wstring& policy)
{
    raw_control control(control_name);
    if (control.block == nullptr) {
        return 3;
    }
    std::error_code ec;
    if (policy == L"robust") {
        auto m = robust_memory_mapped_file::open(custom(mapping_name), ec);
        return ec ? 3 : read_lock_loop(control, control_name, m);
    }
    auto m = memory_mapped_file::open(custom(mapping_name), ec);
    return ec ? 3 : read_lock_loop(control, control_name, m);
}

// bench::wake_settle in QueryPerformanceCounter ticks.
std::int64_t settle_ticks_of(const LARGE_INTEGER& frequency)
{
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(bench::wake_settle).count();
    return frequency.QuadPart * us / 1000000;
}

// Lets `ticks` pass, yielding, and returns QueryPerformanceCounter at the end.
std::int64_t settle(std::int64_t ticks)
{
    LARGE_INTEGER now{};
    ::QueryPerformanceCounter(&now);
    const std::int64_t until = now.QuadPart + ticks;
    do {
        ::SwitchToThread();
        ::QueryPerformanceCounter(&now);
    } while (now.QuadPart < until);
    return now.QuadPart;
}

// The other side of the async wake-up what-if rows: raw events, no winmmf code. No reader
// announces itself here, so every request gets the whole settle before its wake-up.
int stamp_event(const std::wstring& control_name, const std::wstring& request_name, const std::wstring& wake_name)
{
    raw_control control(control_name);
    HANDLE request = ::OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, request_name.c_str());
    HANDLE wake = ::OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, wake_name.c_str());
    if (control.block == nullptr || request == nullptr || wake == nullptr) {
        return 3;
    }
    LARGE_INTEGER frequency{};
    ::QueryPerformanceFrequency(&frequency);
    const std::int64_t settle_ticks = settle_ticks_of(frequency);
    std::atomic_ref<std::int64_t> stamp(control.block->stamp);
    ready(control_name);
    return answer_each(control, request, [&] {
        // release: the benchmark reads the stamp after its wake-up (SetEvent orders it too).
        stamp.store(settle(settle_ticks), std::memory_order_release);
        ::SetEvent(wake);
    });
}

// The writer of the async wake-up rows. Each notify of <ack> (the benchmark's reader asking for
// the next frame) gets one frame, published only once the reader is asleep for it: announced in
// the channel's notification sibling, then given bench::wake_settle more to get into its kernel
// wait (the blocking form asks before it calls take(), and would otherwise sometimes find the
// frame without sleeping). Then the frame is stamped with QueryPerformanceCounter, a clock
// every process shares, and published: the benchmark measures from that stamp to its reader's
// completion. Frames that had to wait for the announcement are counted (the same rule for every
// form; the settle is not in the measured latency).
int publish_on_ack(const std::wstring& control_name, const std::wstring& channel_name, const std::wstring& ack_name)
{
    raw_control control(control_name);
    std::error_code ec;
    auto writer = frame_writer::create(custom(channel_name), {.max_frame_size = bench::wake_frame_bytes}, ec);
    auto ack = notification::open(custom(ack_name), ec);
    if (control.block == nullptr || !writer || !ack) {
        return 3;
    }
    std::atomic_ref<std::uint64_t> published(control.block->published);
    std::atomic_ref<std::uint64_t> held_back(control.block->held_back);
    LARGE_INTEGER frequency{};
    ::QueryPerformanceFrequency(&frequency);
    const std::int64_t settle_ticks = settle_ticks_of(frequency);
    std::vector<std::byte> frame(bench::wake_frame_bytes, std::byte{0x5A});
    std::uint64_t seen = ack.sequence();
    ready(control_name);
    for (;;) {
        seen = ack.wait(seen, acquire_mode::wait_for(std::chrono::hours(1)), ec);
        if (ec) {
            return 4;
        }
        if (control.stopped()) {
            return 0;
        }
        bool held = false;
        while (writer.waiting() == 0) {
            if (control.stopped()) {
                return 0;
            }
            held = true;
            ::SwitchToThread();
        }
        const std::int64_t now = settle(settle_ticks);
        std::memcpy(frame.data(), &now, sizeof now);
        writer.publish(frame, {}, ec);
        if (ec) {
            return 4;
        }
        // relaxed: counts the benchmark reads after the row, long after these stores.
        published.fetch_add(1, std::memory_order_relaxed);
        if (held) {
            held_back.fetch_add(1, std::memory_order_relaxed);
        }
    }
}

// Length-prefixed frames: 8 bytes of length (0: stop), the bytes, then one byte back.
template <class Read, class Write>
int answer_stream(Read read_exact, Write write_all)
{
    std::vector<char> frame(bench::frame_bytes);
    for (;;) {
        std::uint64_t length = 0;
        if (!read_exact(reinterpret_cast<char*>(&length), sizeof length)) {
            return 4;
        }
        if (length == 0) {
            return 0;
        }
        if (length > frame.size()) {
            frame.resize(static_cast<std::size_t>(length));
        }
        if (!read_exact(frame.data(), static_cast<std::size_t>(length))) {
            return 4;
        }
        sink = touch(frame.data(), static_cast<std::size_t>(length));
        const char ack = 1;
        if (!write_all(&ack, 1)) {
            return 4;
        }
    }
}

int pipe_client(const std::wstring& pipe_name, const std::wstring& control_name)
{
    HANDLE pipe = ::CreateFileW(pipe_name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
    if (pipe == INVALID_HANDLE_VALUE) {
        return 3;
    }
    ready(control_name);
    const auto read_exact = [pipe](char* p, std::size_t n) {
        while (n != 0) {
            DWORD got = 0;
            if (!::ReadFile(pipe, p, static_cast<DWORD>(n), &got, nullptr) || got == 0) {
                return false;
            }
            p += got;
            n -= got;
        }
        return true;
    };
    const auto write_all = [pipe](const char* p, std::size_t n) {
        DWORD put = 0;
        return ::WriteFile(pipe, p, static_cast<DWORD>(n), &put, nullptr) && put == n;
    };
    const int r = answer_stream(read_exact, write_all);
    ::CloseHandle(pipe);
    return r;
}

int tcp_client(unsigned short port, const std::wstring& control_name)
{
    WSADATA wsa{};
    if (::WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        return 3;
    }
    SOCKET s = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (s == INVALID_SOCKET) {
        return 3;
    }
    const int on = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&on), sizeof on);
    const int buffer = 8 << 20;
    ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, reinterpret_cast<const char*>(&buffer), sizeof buffer);
    ::setsockopt(s, SOL_SOCKET, SO_SNDBUF, reinterpret_cast<const char*>(&buffer), sizeof buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = ::htons(port);
    addr.sin_addr.s_addr = ::htonl(INADDR_LOOPBACK);
    if (::connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return 3;
    }
    ready(control_name);
    const auto read_exact = [s](char* p, std::size_t n) {
        while (n != 0) {
            const int got = ::recv(s, p, static_cast<int>(n), 0);
            if (got <= 0) {
                return false;
            }
            p += got;
            n -= static_cast<std::size_t>(got);
        }
        return true;
    };
    const auto write_all = [s](const char* p, std::size_t n) {
        return ::send(s, p, static_cast<int>(n), 0) == static_cast<int>(n);
    };
    const int r = answer_stream(read_exact, write_all);
    ::closesocket(s);
    ::WSACleanup();
    return r;
}

} // namespace

int main()
{
    int argc = 0;
    LPWSTR* argv = ::CommandLineToArgvW(::GetCommandLineW(), &argc);
    if (argv == nullptr || argc < 3) {
        std::fprintf(stderr, "usage: winmmf_bench_helper <mode> <control> [names...] (see bench_common.hpp)\n");
        return 1;
    }
    const std::wstring mode = argv[1];
    const std::wstring control = argv[2];
    const auto arg = [&](int i) { return i < argc ? std::wstring(argv[i]) : std::wstring(); };
    using namespace std::chrono;
    if (mode == L"spin-raw") {
        return spin_raw(control);
    }
    if (mode == L"spin-ours") {
        pin_to_second_processor();
        return notify_ours(control, arg(3), arg(4), acquire_mode::spin_forever());
    }
    if (mode == L"event-raw") {
        return event_raw(control, arg(3), arg(4));
    }
    if (mode == L"event-ours") {
        return notify_ours(control, arg(3), arg(4), acquire_mode::wait_for(hours(1)));
    }
    if (mode == L"channel-copy") {
        return channel_ours(control, arg(3), arg(4), false);
    }
    if (mode == L"channel-view") {
        return channel_ours(control, arg(3), arg(4), true);
    }
    if (mode == L"publish-on-ack") {
        return publish_on_ack(control, arg(3), arg(4));
    }
    if (mode == L"stamp-event") {
        return stamp_event(control, arg(3), arg(4));
    }
    if (mode == L"notify-raw") {
        return notify_raw(control, arg(3), arg(4));
    }
    if (mode == L"raw-view" || mode == L"raw-copy") {
        return raw_transfer(control, arg(3), arg(4), arg(5), mode == L"raw-view");
    }
    if (mode == L"read-lock") {
        return read_lock(control, arg(3), arg(4));
    }
    if (mode == L"pipe") {
        return pipe_client(arg(3), control);
    }
    if (mode == L"tcp") {
        return tcp_client(static_cast<unsigned short>(std::wcstoul(arg(3).c_str(), nullptr, 10)), control);
    }
    std::fprintf(stderr, "winmmf_bench_helper: unknown mode\n");
    return 1;
}
