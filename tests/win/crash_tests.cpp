// Real processes killed with TerminateProcess while they hold a lock, or while they create a
// mapping, and what the survivors find. The checks are about outcomes: the survivors get the
// lock (no process hangs; a generous hang guard, not the recovery bound, is asserted), they
// are told owner_dead exactly when a writer died holding the lock, and no byte outside the
// region the dead writer was writing has changed. The recovery bound itself is proved
// deterministically in tests/unit/robust_word_tests.cpp; here the latency from the kill to
// the survivor's acquisition is measured and printed, never asserted, because the machine
// running the tests is shared and noisy.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "../child/child.hpp"
#include <test_support.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
using child::exit_code_for;

namespace {

// tests/child/robust_commands.cpp computes the same.
constexpr std::byte sentinel(std::size_t offset, unsigned seed)
{
    return static_cast<std::byte>((offset * 131u + seed) & 0xFFu);
}
constexpr long exit_not_told = 20;
constexpr unsigned seed = 7;
constexpr std::size_t region_offset = 4096;
constexpr std::size_t region_length = 8192;
constexpr auto hang_guard = std::chrono::minutes(2);

std::uint64_t qpc_now()
{
    LARGE_INTEGER t{};
    ::QueryPerformanceCounter(&t);
    return static_cast<std::uint64_t>(t.QuadPart);
}

double qpc_ms(std::uint64_t from, std::uint64_t to)
{
    LARGE_INTEGER f{};
    ::QueryPerformanceFrequency(&f);
    return static_cast<double>(static_cast<std::int64_t>(to - from)) * 1000.0 / static_cast<double>(f.QuadPart);
}

template <class Mapping>
void fill_sentinel(Mapping& m)
{
    auto guard = m.lock_write();
    for (std::size_t i = 0; i < guard.size(); ++i) {
        guard.data()[i] = sentinel(i, seed);
    }
}

// The first byte outside [offset, offset + length) that lost its sentinel, or npos.
std::size_t first_damage(std::span<const std::byte> bytes, std::size_t offset, std::size_t length)
{
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if ((i < offset || i >= offset + length) && bytes[i] != sentinel(i, seed)) {
            return i;
        }
    }
    return std::string::npos;
}

// One scenario: a mapping with the sentinel everywhere, a results mapping for the waiters'
// timestamps, and helpers to start children in it.
struct scene {
    std::string name = test::unique_name("crash");
    std::string results_name = name + "-results";
    robust_memory_mapped_file m = robust_memory_mapped_file::create(local(name), 64 * 1024);
    memory_mapped_file results = memory_mapped_file::create(local(results_name), 4096);

    scene() { fill_sentinel(m); }

    test::child_process start_holder(const std::string& what, const std::string& ready)
    {
        if (what == "scribble") {
            return test::child_process::start(
                L"winmmf_child.exe", {"robust-scribble", "local", name, std::to_string(region_offset),
                                      std::to_string(region_length), ready});
        }
        return test::child_process::start(L"winmmf_child.exe", {"robust-hold", what, "local", name, ready});
    }

    test::child_process start_waiter(const std::string& mode, int index, bool repair = false)
    {
        auto waiting = test::named_event::create(name + "-waiting-" + std::to_string(index));
        std::vector<std::string> args{"robust-wait", mode, "local", name, name + "-waiting-" + std::to_string(index),
                                      results_name, std::to_string(index), std::to_string(region_offset),
                                      std::to_string(region_length), std::to_string(seed)};
        if (repair) {
            args.emplace_back("repair");
        }
        auto child = test::child_process::start(L"winmmf_child.exe", args);
        REQUIRE(waiting.wait_or_exit(child.handle()));
        return child;
    }

    std::uint64_t acquired_at(int index)
    {
        std::uint64_t t = 0;
        results.read(static_cast<std::size_t>(index) * sizeof t, std::as_writable_bytes(std::span(&t, 1)));
        return t;
    }
};

// Kills `victim` and returns the time just before TerminateProcess: the latency measured from
// it is an upper bound of the time from the death to the recovery.
std::uint64_t kill(test::child_process& victim)
{
    const std::uint64_t t = qpc_now();
    victim.kill();
    return t;
}

void print_latency(const char* what, double ms)
{
    std::printf("recovery latency (%s): %.2f ms after TerminateProcess\n", what, ms);
    std::fflush(stdout);
}

} // namespace

TEST_CASE("a writer killed mid-copy: waiting readers get in, are told, and the rest is intact", "[crash][robust]")
{
    scene s;
    auto ready = test::named_event::create(s.name + "-ready");
    auto writer = s.start_holder("scribble", s.name + "-ready");
    REQUIRE(ready.wait_or_exit(writer.handle()));

    std::vector<test::child_process> readers;
    for (int i = 0; i < 3; ++i) {
        readers.push_back(s.start_waiter("read", i));
    }
    ::Sleep(50); // they are now inside lock_read's wait
    const std::uint64_t killed = kill(writer);
    for (int i = 0; i < 3; ++i) {
        CHECK(readers[static_cast<std::size_t>(i)].wait(hang_guard) == 0u); // got in, told, intact
        print_latency("dead writer, waiting reader", qpc_ms(killed, s.acquired_at(i)));
    }

    // The dead writer's region is garbage; everything else is as it was. The survivors keep
    // being told until a writer has repaired the data.
    auto w = s.m.lock_write(acquire_mode::wait_for(hang_guard));
    CHECK(w.previous_owner_died());
    CHECK(first_damage(w.bytes(), region_offset, region_length) == std::string::npos);
    for (std::size_t i = region_offset; i < region_offset + region_length; ++i) {
        w.data()[i] = sentinel(i, seed);
    }
    w.unlock();
    auto r = s.m.lock_read();
    CHECK_FALSE(r.previous_owner_died());
    CHECK(first_damage(r.bytes(), 0, 0) == std::string::npos);
    r.unlock();
    CHECK(s.m.lock_policy().inspect().recoveries == 1);
    CHECK(s.m.lock_policy().inspect().writer_pid == 0);
}

TEST_CASE("a writer killed mid-copy: a waiting writer gets in, is told, and repairs", "[crash][robust]")
{
    scene s;
    auto ready = test::named_event::create(s.name + "-ready");
    auto writer = s.start_holder("scribble", s.name + "-ready");
    REQUIRE(ready.wait_or_exit(writer.handle()));
    auto survivor = s.start_waiter("write", 0, true);
    ::Sleep(50);
    const std::uint64_t killed = kill(writer);
    CHECK(survivor.wait(hang_guard) == 0u);
    print_latency("dead writer, waiting writer", qpc_ms(killed, s.acquired_at(0)));

    // The survivor repaired and unlocked, so the next reader is not told, and all is sentinel.
    std::vector<std::byte> all(s.m.capacity());
    std::error_code ec;
    s.m.read(0, all, ec);
    CHECK_FALSE(ec);
    CHECK(first_damage(all, 0, 0) == std::string::npos);
}

TEST_CASE("a writer killed with no one waiting: the next acquirer recovers at once", "[crash][robust]")
{
    scene s;
    auto ready = test::named_event::create(s.name + "-ready");
    auto writer = s.start_holder("write", s.name + "-ready");
    REQUIRE(ready.wait_or_exit(writer.handle()));
    kill(writer);
    // Even a single try finds the holder dead and takes over.
    std::error_code ec;
    std::array<std::byte, 16> out{};
    s.m.read(0, out, acquire_mode::try_once(), ec);
    CHECK(ec == errc::owner_dead);
    CHECK(std::memcmp(out.data(), s.m.unsynchronized_bytes().data(), out.size()) == 0);
    auto w = s.m.try_lock_write(ec);
    CHECK(ec == errc::owner_dead);
    CHECK(w.previous_owner_died());
}

TEST_CASE("a reader killed while holding: a waiting writer gets in and is not told", "[crash][robust]")
{
    scene s;
    auto ready = test::named_event::create(s.name + "-ready");
    auto reader = s.start_holder("read", s.name + "-ready");
    REQUIRE(ready.wait_or_exit(reader.handle()));
    auto other_reader = s.m.lock_read(); // a live reader too: the writer must wait for it
    auto writer = s.start_waiter("write", 0);
    ::Sleep(50);
    const std::uint64_t killed = kill(reader);
    // The waiting writer clears the dead reader's slot; ours, a live reader's, stays.
    const auto guard_end = std::chrono::steady_clock::now() + hang_guard;
    while (s.m.lock_policy().inspect().readers != 1 && std::chrono::steady_clock::now() < guard_end) {
        ::Sleep(1);
    }
    const std::uint64_t cleared = qpc_now();
    REQUIRE(s.m.lock_policy().inspect().readers == 1);
    print_latency("dead reader cleared by a waiting writer", qpc_ms(killed, cleared));
    CHECK(writer.wait(0ms) == std::nullopt); // still waiting: a live reader holds the lock
    other_reader.unlock();
    CHECK(writer.wait(hang_guard) == static_cast<DWORD>(exit_not_told)); // readers change no data
    auto r = s.m.lock_read();
    CHECK_FALSE(r.previous_owner_died());
    CHECK(first_damage(r.bytes(), 0, 0) == std::string::npos);
    CHECK(s.m.lock_policy().inspect().recoveries == 1);
}

TEST_CASE("killed in the middle of create: openers finish the creation, or refuse, and never hang", "[crash][robust]")
{
    const std::string phase = GENERATE("marked", "claimed", "locked", "none");
    CAPTURE(phase);
    const std::string name = test::unique_name("create-crash-" + phase);
    const std::string full = "Local\\" + name;
    auto ready = test::named_event::create(name + "-ready");
    auto creator = test::child_process::start(L"winmmf_child.exe",
                                              {"robust-create-stall", "local", name, "5000", phase, name + "-ready"});
    REQUIRE(ready.wait_or_exit(creator.handle()));
    // Keep the section alive across the creator's death, as any opener would.
    const HANDLE keep = ::OpenFileMappingW(FILE_MAP_READ, FALSE, test::widen(full).c_str());
    REQUIRE(keep != nullptr);

    std::error_code ec;
    if (phase != "none") {
        // While the creator lives - stalled for as long as it likes - an opener waits for it,
        // boundedly, and changes nothing: a slow creator is never overtaken.
        const auto before = test::section_bytes(full, 1024);
        auto early = robust_memory_mapped_file::open(local(name), ec);
        CHECK(ec == (phase == "marked" ? make_error_code(errc::timeout) : make_error_code(errc::wrong_lock_policy)));
        CHECK_FALSE(early.is_open());
        CHECK(test::section_bytes(full, 1024) == before);
        // WinMMF-layout openers and a WinMMF peer cannot lock it.
        if (phase == "marked") {
            (void)memory_mapped_file::open(local(name), ec);
            CHECK(ec == errc::wrong_lock_policy);
            CHECK(test::run_peer({"try-write", full, "5000"}) == 40);
        }
    }
    const std::uint64_t killed = kill(creator);
    if (phase == "marked") {
        // A read-only view cannot finish someone else's initialisation: it says so, unharmed.
        (void)robust_memory_mapped_file::open(local(name), open_options{.access = access_mode::read_only}, ec);
        CHECK(ec == errc::uninitialized);
    }
    auto m = robust_memory_mapped_file::open(local(name), ec);
    const std::uint64_t opened = qpc_now();
    if (phase != "marked") {
        // Killed before its marker: the first word is 0 or WinMMF's write lock, exactly what a
        // WinMMF mapping (or writer) leaves, so it is refused after the bounded wait and never
        // taken over. It goes away with the last handle.
        CHECK(ec == errc::wrong_lock_policy);
        CHECK_FALSE(m.is_open());
    } else {
        REQUIRE_FALSE(ec);
        print_latency(("creator killed after step '" + phase + "', opener").c_str(), qpc_ms(killed, opened));
        CHECK(m.lock_policy().inspect().ready);
        CHECK(m.lock_policy().inspect().recoveries == 1);
        auto w = m.try_lock_write(ec);
        CHECK_FALSE(ec); // nobody had data to lose: no owner_dead
        CHECK(w.size() == m.capacity());
        w.unlock();
        CHECK(test::run_child({"try-write", "local", name}) == exit_code_for(errc::wrong_lock_policy));
    }
    ::CloseHandle(keep);
}

TEST_CASE("compatible_lock: a killed writer blocks only as long as callers allow, then force_unlock_stale_lock", "[crash][compatible]")
{
    const std::string name = test::unique_name("compat-crash");
    auto m = memory_mapped_file::create(local(name), 4096);
    fill_sentinel(m);
    auto ready = test::named_event::create(name + "-ready");
    auto release = test::named_event::create(name + "-never");
    auto holder = test::child_process::start(L"winmmf_child.exe",
                                             {"hold-write", "local", name, name + "-ready", name + "-never"});
    REQUIRE(ready.wait_or_exit(holder.handle()));
    kill(holder);

    // No owner identity, so nobody can know: every call gives up when its mode says so.
    std::error_code ec;
    std::array<std::byte, 8> out{};
    m.read(0, out, ec); // the default mode: a 1 s wait
    CHECK(ec == errc::timeout);
    auto w = m.lock_write(acquire_mode::wait_for(100ms), ec);
    CHECK(ec == errc::timeout);
    auto r = m.lock_read(acquire_mode::spin(10000), ec);
    CHECK(ec == errc::max_tries_reached);
    CHECK(test::run_child({"try-read", "local", name}) == exit_code_for(errc::write_locked));
    CHECK(m.lock_policy().value() == protocol::lock_word::write_lock_mask);

    // We killed it, so we know: reset the stale lock.
    auto ro = memory_mapped_file::open(local(name), open_options{.access = access_mode::read_only});
    (void)ro.force_unlock_stale_lock(ec);
    CHECK(ec == errc::read_only);
    CHECK(m.force_unlock_stale_lock() == protocol::lock_word::write_lock_mask);
    CHECK(m.lock_policy().value() == 0);
    m.read(0, out, ec);
    CHECK_FALSE(ec);
    CHECK(first_damage(m.unsynchronized_bytes(), 0, 0) == std::string::npos);
    CHECK(test::run_child({"try-write", "local", name}) == 0);
}

TEST_CASE("compatible_lock: a creator killed between WinMMF's two creation steps is recovered explicitly", "[crash][compatible]")
{
    const std::string name = test::unique_name("compat-create-crash");
    auto ready = test::named_event::create(name + "-ready");
    auto creator = test::child_process::start(L"winmmf_child.exe",
                                              {"compat-create-stall", "local", name, "1000", name + "-ready"});
    REQUIRE(ready.wait_or_exit(creator.handle()));
    // The creator may still be running: opening accepts "uninitialized", locking waits for it.
    auto m = memory_mapped_file::open(local(name));
    kill(creator);
    CHECK(m.lock_policy().value() == protocol::lock_word::uninitialized_value);
    std::error_code ec;
    auto w = m.lock_write(acquire_mode::wait_for(100ms), ec);
    CHECK(ec == errc::timeout);
    CHECK(test::run_peer({"try-write", "Local\\" + name, "1000"}) == 40); // a WinMMF peer agrees

    CHECK(m.force_unlock_stale_lock() == protocol::lock_word::uninitialized_value);
    m.write(0, std::as_bytes(std::span(std::string_view("alive"))));
    CHECK(test::run_peer({"expect", "Local\\" + name, "1000", test::to_hex("alive", 5)}) == 0);
}
