// robust_lock against the real Win32 API: its layout, how it and WinMMF-layout mappings
// refuse each other, the process liveness rules it relies on, and that a live holder in
// another process is waited for and never robbed. Crashes are in crash_tests.cpp.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/child.hpp"
#include <test_support.hpp>

#include <array>
#include <bit>
#include <cstring>
#include <string>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
namespace rw = winmmf::protocol::robust_word;

namespace {

// A raw, read-only look at a section, as another program would have it.
struct raw_view {
    HANDLE section = nullptr;
    const unsigned char* bytes = nullptr;
    explicit raw_view(const std::string& full_name)
    {
        section = ::OpenFileMappingW(FILE_MAP_READ, FALSE, test::widen(full_name).c_str());
        REQUIRE(section != nullptr);
        bytes = static_cast<const unsigned char*>(::MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0));
        REQUIRE(bytes != nullptr);
    }
    ~raw_view()
    {
        ::UnmapViewOfFile(bytes);
        ::CloseHandle(section);
    }
    template <class T>
    T at(std::size_t offset) const
    {
        T v{};
        std::memcpy(&v, bytes + offset, sizeof v);
        return v;
    }
    std::vector<unsigned char> copy(std::size_t n) const { return {bytes, bytes + n}; }
};

std::string hex(std::string_view s) { return test::to_hex(s.data(), s.size()); }

constexpr long peer_uninitialized = 40;

} // namespace

TEST_CASE("a robust mapping starts with the marker, and user data at offset 1024", "[robust]")
{
    const std::string name = test::unique_name("robust-layout");
    auto m = robust_memory_mapped_file::create(local(name), 100);
    CHECK(m.created());
    CHECK(robust_memory_mapped_file::header_size == 1024);
    CHECK(m.capacity() == detail::system_memory_info().page_size - 1024);
    const std::string text = "robust data";
    m.write(0, std::as_bytes(std::span(text)));

    raw_view raw("Local\\" + name);
    CHECK(raw.at<std::uint32_t>(0) == protocol::lock_word::robust_layout_marker);
    CHECK(raw.at<std::uint64_t>(8) == rw::ready_value);
    // Layout version 3 (the reader summary, opened by the common handshake), 120 reader slots:
    // spelled out, so that changing the layout without changing its version cannot go unnoticed.
    CHECK(raw.at<std::uint64_t>(8) == ((std::uint64_t{1} << 63) | (std::uint64_t{3} << 16) | 120u));
    CHECK(raw.at<std::uint32_t>(4) == 3); // the prologue's version word
    CHECK(raw.at<std::uint64_t>(16) == 0);
    CHECK(raw.at<std::uint64_t>(32) == 0);
    CHECK(raw.at<std::uint64_t>(40) == 0);
    CHECK(std::memcmp(raw.bytes + 1024, text.data(), text.size()) == 0);

    const rw::identity me = detail::current_robust_identity();
    CHECK(me.pid == ::GetCurrentProcessId());
    {
        auto w = m.lock_write();
        CHECK_FALSE(w.previous_owner_died());
        CHECK(raw.at<std::uint64_t>(16) == (rw::pack(me) | rw::held_bit));
    }
    CHECK(raw.at<std::uint64_t>(16) == 0);
    {
        auto r1 = m.lock_read();
        auto r2 = m.lock_read();
        CHECK(m.lock_policy().inspect().readers == 2);
        // Each reader's slot names this process, and the summary at offset 32 has its bit.
        const int bits = std::popcount(raw.at<std::uint64_t>(32)) + std::popcount(raw.at<std::uint64_t>(40));
        CHECK(bits == 2);
        for (std::size_t i = 0; i < rw::reader_slots; ++i) {
            const bool bit = ((raw.at<std::uint64_t>(32 + 8 * (i / 64)) >> (i % 64)) & 1) != 0;
            CHECK((raw.at<std::uint64_t>(64 + 8 * i) == rw::pack(me)) == bit);
        }
        std::error_code ec;
        auto w = m.try_lock_write(ec);
        CHECK(ec == errc::read_locked);
        CHECK(raw.at<std::uint64_t>(16) == 0); // the refused writer gave its claim back
    }
    CHECK(m.lock_policy().inspect().readers == 0);
    CHECK(raw.at<std::uint64_t>(32) == 0);
    CHECK(raw.at<std::uint64_t>(40) == 0);
    CHECK_FALSE(m.lock_policy().inspect().corrupt);

    auto opened = robust_memory_mapped_file::open(local(name));
    CHECK_FALSE(opened.created());
    CHECK(opened.capacity() == m.capacity());
    std::string back(text.size(), '\0');
    opened.read(0, std::as_writable_bytes(std::span(back)));
    CHECK(back == text);
}

TEST_CASE("robust and WinMMF-layout mappings refuse each other, and nothing is changed", "[robust]")
{
    const std::string robust_name = test::unique_name("robust-vs-compat");
    auto robust = robust_memory_mapped_file::create(local(robust_name), 4096);
    robust.write(0, std::as_bytes(std::span(std::string_view("keep me"))));
    raw_view robust_raw("Local\\" + robust_name);
    const auto robust_before = robust_raw.copy(2048);

    std::error_code ec;
    (void)memory_mapped_file::open(local(robust_name), ec);
    CHECK(ec == errc::wrong_lock_policy);
    (void)basic_memory_mapped_file<no_lock>::open(local(robust_name), ec);
    CHECK(ec == errc::wrong_lock_policy); // no_lock's data would overlap the robust header
    (void)memory_mapped_file::open_or_create(local(robust_name), 100, ec);
    CHECK(ec == errc::wrong_lock_policy);
    CHECK(robust_raw.copy(2048) == robust_before);

    const std::string compat_name = test::unique_name("compat-vs-robust");
    auto compat = memory_mapped_file::create(local(compat_name), 4096);
    raw_view compat_raw("Local\\" + compat_name);
    // A free, all-zero WinMMF mapping looks exactly like a robust one whose creator has not
    // started yet, so it is refused only after the opener's bounded wait.
    (void)robust_memory_mapped_file::open(local(compat_name), ec);
    CHECK(ec == errc::wrong_lock_policy);
    CHECK(compat_raw.copy(2048) == std::vector<unsigned char>(2048, 0));
    // With data, or with a reader in, it is refused at once.
    compat.write(0, std::as_bytes(std::span(std::string_view("winmmf data"))));
    const auto compat_before = compat_raw.copy(2048);
    (void)robust_memory_mapped_file::open(local(compat_name), ec);
    CHECK(ec == errc::wrong_lock_policy);
    {
        auto reader = compat.lock_read();
        (void)robust_memory_mapped_file::open_or_create(local(compat_name), 100, ec);
        CHECK(ec == errc::wrong_lock_policy);
        CHECK(compat.lock_policy().value() == 1);
    }
    CHECK(compat_raw.copy(2048) == compat_before);
}

TEST_CASE("a WinMMF peer sees a robust mapping as uninitialized and never changes it", "[robust][peer]")
{
    const std::string name = test::unique_name("robust-peer");
    const std::string full = "Local\\" + name;
    auto m = robust_memory_mapped_file::create(local(name), 4096);
    m.write(0, std::as_bytes(std::span(std::string_view("robust"))));
    raw_view raw(full);
    const auto before = raw.copy(4096);
    CHECK(test::run_peer({"try-read", full, "4096"}) == peer_uninitialized);
    CHECK(test::run_peer({"try-write", full, "4096"}) == peer_uninitialized);
    CHECK(test::run_peer({"write", full, "4096", hex("CLOBBERED BY A PEER")}) == peer_uninitialized);
    CHECK(test::run_peer({"expect", full, "4096", hex("robust")}) == peer_uninitialized);
    CHECK(raw.copy(4096) == before);
    // And the mapping still works for robust processes.
    std::error_code ec;
    auto w = m.try_lock_write(ec);
    CHECK_FALSE(ec);
}

TEST_CASE("liveness: only a certainly dead holder counts as dead", "[robust][process]")
{
    const rw::identity me = detail::current_robust_identity();
    CHECK(detail::robust_holder_alive(me));
    // Our id with another creation time: a process that reused the id of a dead holder.
    CHECK_FALSE(detail::robust_holder_alive({me.pid, me.tag ^ 1}));

    // A real child: alive while it runs, dead once killed (even while we hold its handle).
    const std::string name = test::unique_name("liveness");
    auto m = robust_memory_mapped_file::create(local(name), 100);
    auto ready = test::named_event::create(name + "-ready");
    auto child = test::child_process::start(L"winmmf_child.exe",
                                            {"robust-hold", "read", "local", name, name + "-ready"});
    REQUIRE(ready.wait_or_exit(child.handle()));
    const DWORD pid = ::GetProcessId(child.handle());
    std::uint64_t created = 0;
    REQUIRE(detail::process_creation_time(child.handle(), created));
    const rw::identity holder{pid, rw::creation_tag(created)};
    CHECK(m.lock_policy().inspect().readers == 1);
    CHECK(detail::robust_holder_alive(holder));
    const auto probe = detail::probe_process(pid);
    CHECK(probe.open == protocol::process_facts::opened::yes);
    CHECK_FALSE(probe.signalled);
    CHECK(probe.has_creation_time);
    CHECK(probe.creation_time == created);
    // The fallback for processes that may not be opened reads the same creation time from the
    // system's process list.
    std::uint64_t listed = 0;
    CHECK(detail::find_in_process_list(pid, listed) == detail::listed_process::present);
    CHECK(listed == created);
    child.kill();
    CHECK_FALSE(detail::robust_holder_alive(holder));
    // Our handle keeps the dead process's object (and its id) alive: it is signalled, so dead.
    CHECK(detail::probe_process(pid).signalled);
    CHECK(detail::find_in_process_list(pid, listed) == detail::listed_process::absent);
}

TEST_CASE("a live holder in another process is waited for and never robbed", "[robust][multiprocess]")
{
    const std::string name = test::unique_name("robust-live");
    auto m = robust_memory_mapped_file::create(local(name), 100);
    auto ready = test::named_event::create(name + "-ready");
    auto child = test::child_process::start(L"winmmf_child.exe",
                                            {"robust-hold", "write", "local", name, name + "-ready"});
    REQUIRE(ready.wait_or_exit(child.handle()));
    const auto held = m.lock_policy().inspect();
    CHECK(held.writer_pid == ::GetProcessId(child.handle()));
    CHECK(held.writer_holds);

    std::error_code ec;
    auto r = m.try_lock_read(ec);
    CHECK(ec == errc::write_locked);
    auto w = m.lock_write(acquire_mode::wait_for(300ms), ec); // several liveness checks
    CHECK(ec == errc::timeout);
    auto s = m.lock_read(acquire_mode::spin(20000), ec);
    CHECK(ec == errc::max_tries_reached);
    const auto after = m.lock_policy().inspect();
    CHECK(after.writer_pid == held.writer_pid);
    CHECK(after.recoveries == 0);
    CHECK(after.readers == 0);
    child.kill();
}

TEST_CASE("a robust handle holds one lock at a time; the bound is per handle and copied into guards", "[robust]")
{
    const std::string name = test::unique_name("robust-handle");
    auto m = robust_memory_mapped_file::create(local(name), 100);
    robust_lock handle = m.lock_policy();
    std::error_code ec;
    REQUIRE(handle.lock_shared(acquire_mode::try_once(), ec));
    CHECK(handle.holds_lock());
    CHECK_FALSE(handle.lock(acquire_mode::try_once(), ec));
    CHECK(ec == errc::lock_violation);
    handle.unlock(ec);
    CHECK(ec == errc::lock_violation); // it holds a shared lock, not the exclusive one
    handle.unlock_shared(ec);
    CHECK_FALSE(ec);
    handle.unlock_shared(ec);
    CHECK(ec == errc::lock_violation);
    CHECK(m.lock_policy().inspect().readers == 0);

    CHECK(m.lock_policy().recovery_bound() == robust_lock::default_recovery_bound);
    m.lock_policy().set_recovery_bound(20ms);
    CHECK(m.lock_policy().recovery_bound() == 20ms);
    m.lock_policy().set_recovery_bound(0ms);
    CHECK(m.lock_policy().recovery_bound() == robust_lock::min_recovery_bound);
    m.lock_policy().set_recovery_bound(std::chrono::hours(100));
    CHECK(m.lock_policy().recovery_bound() == robust_lock::max_recovery_bound);

    robust_lock closed;
    CHECK_FALSE(closed.lock(acquire_mode::try_once(), ec));
    CHECK(ec == errc::not_open);
}

TEST_CASE("robust guards survive a move of the mapping, and read/write report nothing when clean", "[robust]")
{
    const std::string name = test::unique_name("robust-guards");
    auto m = robust_memory_mapped_file::create(local(name), 100);
    auto w = m.lock_write();
    robust_memory_mapped_file moved = std::move(m);
    std::memcpy(w.data(), "ok", 2);
    w.unlock();
    std::array<std::byte, 2> out{};
    std::error_code ec;
    moved.read(0, out, ec);
    CHECK_FALSE(ec);
    CHECK(std::memcmp(out.data(), "ok", 2) == 0);
    CHECK(moved.lock_policy().inspect().writer_pid == 0);
}
