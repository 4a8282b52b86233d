// Recovering from a process that died (docs/how-to/crash-recovery.md). The program plays both
// sides: it starts copies of itself that take a lock, or the writer role of a frame channel, and
// die without letting go (TerminateProcess, as a crash would), and then recovers. Runs alone.
#include <winmmf/winmmf.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr const char* robust_name = "ledger";
constexpr const char* compatible_name = "ledger-compatible";
constexpr const char* channel_name = "cam1";
constexpr std::size_t frame_bytes = 4096;

std::wstring my_path()
{
    wchar_t path[MAX_PATH];
    const DWORD n = ::GetModuleFileNameW(nullptr, path, MAX_PATH);
    return std::wstring(path, n);
}

// Runs a copy of this program with `role`; returns its process handle.
HANDLE spawn(const wchar_t* role)
{
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    std::wstring command = L"\"" + my_path() + L"\" " + role;
    if (!::CreateProcessW(nullptr, command.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi)) {
        throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(), "CreateProcessW");
    }
    ::CloseHandle(pi.hThread);
    return pi.hProcess;
}

void wait_and_close(HANDLE process)
{
    ::WaitForSingleObject(process, 60000);
    ::CloseHandle(process);
}

[[noreturn]] void crash()
{
    ::TerminateProcess(::GetCurrentProcess(), 3);
    ::ExitProcess(3);
}

// The children: each takes something and dies holding it.
int child(std::string_view role)
{
    if (role == "--die-holding-robust") {
        auto m = winmmf::robust_memory_mapped_file::open(winmmf::local(robust_name));
        auto guard = m.lock_write();
        std::memset(guard.data(), 0xEE, 8); // half-way through an update
        crash();
    }
    if (role == "--die-holding-compatible") {
        auto m = winmmf::memory_mapped_file::open(winmmf::local(compatible_name));
        auto guard = m.lock_write();
        crash();
    }
    if (role == "--die-writing-frames") {
        auto writer = winmmf::frame_writer::open_or_create(winmmf::local(channel_name), {.max_frame_size = frame_bytes});
        std::vector<std::byte> frame(frame_bytes, std::byte{1});
        writer.publish(frame);
        // Die once the reader has the channel open and has taken the frame (it then waits).
        while (writer.waiting() == 0) {
            ::Sleep(1);
        }
        crash();
    }
    return 2;
}

void repair(std::span<std::byte> data) { std::memset(data.data(), 0, 8); }

} // namespace

int main(int argc, char** argv)
try {
    if (argc > 1) {
        return child(argv[1]);
    }
    bool ok = true;

    // 1. A robust lock whose writer died: the next locker is told, repairs, and unlocks.
    {
        // [snippet:robust-open]
        auto m = winmmf::robust_memory_mapped_file::open_or_create(winmmf::local("ledger"), 4096);
        m.lock_policy().set_recovery_bound(std::chrono::milliseconds(50));   // default 100 ms
        // [end:robust-open]
        wait_and_close(spawn(L"--die-holding-robust"));

        // [snippet:robust-lock]
        std::error_code ec;
        auto guard = m.lock_write(winmmf::acquire_mode::wait_for(1s), ec);
        if (ec == winmmf::errc::owner_dead) {
            // The lock is held, but its previous owner died holding it: the data may be half-written.
            repair(guard.bytes());
        } else if (ec) {
            throw std::system_error(ec, "lock ledger");
        }
        // ... update the data ...
        guard.unlock();   // a writer's normal unlock declares the data consistent again
        // [end:robust-lock]
        ok = ok && ec == winmmf::errc::owner_dead;

        // [snippet:robust-throwing]
        auto again = m.lock_write();               // the throwing form does not throw for owner_dead:
        if (again.previous_owner_died()) {         // ask the guard
            repair(again.bytes());
        }
        // [end:robust-throwing]
        ok = ok && !again.previous_owner_died();
    }

    // 2. The WinMMF-compatible lock has no owner: a dead holder's lock stays until reset.
    {
        auto m = winmmf::memory_mapped_file::create(winmmf::local(compatible_name), 4096);
        wait_and_close(spawn(L"--die-holding-compatible"));
        // [snippet:compatible-stale]
        std::error_code ec;
        auto guard = m.lock_write(winmmf::acquire_mode::wait_for(100ms), ec);
        if (ec == winmmf::errc::timeout && winmmf::last_wait_refusal() == winmmf::errc::write_locked) {
            // Only once you know the holder is gone (you saw it die): clear the word.
            const std::uint32_t replaced = m.force_unlock_stale_lock();   // 0x80000000: a writer
            std::printf("cleared a stale lock word 0x%08x\n", static_cast<unsigned>(replaced));
            guard = m.lock_write();
        }
        // [end:compatible-stale]
        ok = ok && ec == winmmf::errc::timeout && guard.owns_lock();
    }

    // 3. A frame channel whose writer died: readers see writer_gone, a new writer takes over.
    {
        const HANDLE old_writer = spawn(L"--die-writing-frames");
        winmmf::frame_reader reader;
        for (int i = 0; i < 3000 && !reader; ++i) {
            std::error_code open_ec;
            reader = winmmf::frame_reader::open(winmmf::local(channel_name), open_ec);
            ::Sleep(10);
        }
        std::vector<std::byte> frame(frame_bytes);
        std::uint64_t sequences = 0;
        // [snippet:follow-restart]
        for (;;) {
            std::error_code ec;
            const winmmf::frame_info info = reader.take(frame, winmmf::acquire_mode::wait_for(5s), ec);
            if (ec == winmmf::errc::writer_gone || ec == winmmf::errc::end_of_stream) {
                break;   // the writer crashed or stopped; keep the reader to follow a restart
            }
            if (ec) throw std::system_error(ec, "take");
            // ... use frame and info ...
            // [end:follow-restart]
            sequences += info.sequence;
            // [snippet:follow-restart]
        }
        // [end:follow-restart]
        wait_and_close(old_writer);

        const std::size_t size = frame_bytes;
        // [snippet:takeover]
        auto writer = winmmf::frame_writer::open_or_create(winmmf::local("cam1"), {.max_frame_size = size});
        if (!writer.created()) {
            std::printf("took over %s from the previous writer (frames continue at #%llu)\n",
                        writer.name().to_utf8().c_str(), static_cast<unsigned long long>(writer.published() + 1));
        }
        // [end:takeover]
        writer.publish(frame);
        const winmmf::frame_info next = reader.take(frame, winmmf::acquire_mode::wait_for(5s));
        ok = ok && sequences == 1 && !writer.created() && next.sequence == 2;
    }

    std::printf("%s\n", ok ? "recovered from every death" : "a recovery went otherwise");
    return ok ? 0 : 1;
} catch (const std::system_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
