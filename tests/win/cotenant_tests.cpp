// The co-tenant suite: other processes on the machine, doing only what another principal could
// do, cannot deny a writer its role, fake its liveness, crash or hang a reader, or get a wait
// past its bound. docs/explanation/trust-model.md lists every named object and what each kind of principal
// can make the others do; each case here is one line of that page, with real processes, real
// sections and real events under Wine.
//
// Wine runs everything as one user and barely enforces DACLs, so a co-tenant is a child process
// that keeps to a co-tenant's means (tests/child/cotenant_commands.cpp): names it could create,
// handles it could hold, and - where the case says it has write access - raw writes into the
// header. Where an owner matters, its objects carry an explicit foreign owner (O:SY).
#include <winmmf/frame_channel.hpp>
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/child.hpp"
#include "../child/frame_pattern.hpp"
#include "channel_fixtures.hpp"
#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
using child::exit_code_for;
using test::eventually;
using test::publish_pattern;

namespace {

// Starts a co-tenant child and waits until it has done its damage.
test::child_process start_cotenant(const std::string& name, std::vector<std::string> args)
{
    auto ready = test::named_event::create(name + "-cotenant-ready");
    args.push_back(name + "-cotenant-ready");
    auto child = test::child_process::start(L"winmmf_child.exe", args);
    REQUIRE(ready.wait_or_exit(child.handle()));
    return child;
}

// The reader's view of a restart or a death: takes until something other than a frame comes.
std::error_code drain(frame_reader& r, std::vector<std::byte>& buffer)
{
    std::error_code ec;
    for (int i = 0; i < 10000 && !ec; ++i) {
        (void)r.take(buffer, acquire_mode::wait_for(10s), ec);
    }
    return ec;
}

} // namespace

TEST_CASE("co-tenant: names squatted before the writer starts deny nothing", "[cotenant][channel]")
{
    const std::string name = test::unique_name("ct-before");
    auto squatter = start_cotenant(name, {"squat-guessable", "local", name});
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
    REQUIRE(w.is_open());
    auto r = frame_reader::open(local(name), {.access = access_mode::read_only});
    CHECK(r.can_wait());
    CHECK(r.writer_state() == writer_status::active);
    // A reader in another process sleeps and is woken by the next frame.
    auto taker = test::child_process::start(L"winmmf_child.exe", {"frame-take", "local", name, "120000"});
    REQUIRE(eventually([&] { return w.waiting() == 1 || taker.wait(0ms).has_value(); }));
    std::vector<std::byte> buffer(4096);
    publish_pattern(w, buffer);
    CHECK(taker.wait() == 0u);
    w.close();
    CHECK(r.writer_state() == writer_status::closed);
    // ...and a new writer takes over with the squatter still there.
    auto w2 = frame_writer::open(local(name));
    CHECK(w2.is_open());
    CHECK(r.writer_state() == writer_status::active);
}

TEST_CASE("co-tenant: a reader that squats the current sibling's waiter events costs sleeping, never frames",
          "[cotenant][channel]")
{
    const std::string name = test::unique_name("ct-sibling");
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
    auto squatter = start_cotenant(name, {"squat-sibling-events", "local", name});
    // Every waiter event is somebody else's: no waiter slot can be used, and a blocking take
    // polls instead, within its bound, and gets the frame.
    auto r = frame_reader::open(local(name), {.access = access_mode::read_only});
    std::vector<std::byte> out(4096);
    std::error_code ec;
    r.take(out, acquire_mode::wait_for(200ms), ec);
    CHECK(ec == errc::timeout);
    frame_info info;
    std::thread taker([&] { info = r.take(out, acquire_mode::wait_for(120s), ec); });
    ::Sleep(100);
    std::vector<std::byte> buffer(4096);
    publish_pattern(w, buffer);
    taker.join();
    CHECK_FALSE(ec);
    CHECK(info.sequence == 1);
    CHECK(test::frame_matches(std::span(out.data(), info.size), 1));
    CHECK(w.waiting() == 0); // nobody got a squatted slot
    // The next writer's sibling has a fresh name: the squatted events are nobody's business.
    w.close();
    auto w2 = frame_writer::open(local(name));
    std::thread sleeper([&] { info = r.take(out, acquire_mode::wait_for(120s), ec); });
    REQUIRE(eventually([&] { return w2.waiting() == 1; }));
    publish_pattern(w2, buffer);
    sleeper.join();
    CHECK_FALSE(ec);
    CHECK(info.sequence == 2);
}

TEST_CASE("co-tenant: with write access to the frames, pointing readers at a sibling of its own costs them sleeping",
          "[cotenant][channel]")
{
    const std::string name = test::unique_name("ct-repoint");
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
    // A well-formed sibling, but made by another account, under a nonce of the co-tenant's choice.
    const auto foreign = security_descriptor::from_sddl("O:SYG:SYD:(A;;GA;;;WD)");
    constexpr std::uint64_t nonce = 0x0123456789abcdefull;
    object_name planted_name;
    REQUIRE_FALSE(detail::sibling_name(w.name(), nonce, planted_name));
    detail::mapped_section planted;
    REQUIRE_FALSE(detail::open_sibling(detail::open_mode::create_only, planted_name, true, foreign.attributes(), planted));
    const detail::unique_view raw(::MapViewOfFile(
        detail::unique_handle(::OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, w.name().c_str())).get(),
        FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0));
    REQUIRE(raw);
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(
                                       raw.get() + protocol::frame_layout::control_offset +
                                       offsetof(protocol::frame_layout::channel_control, sibling)))
        .store(nonce);
    // A reader follows the header, finds a sibling that is not the channel's owner's, and does
    // without it: no sleeping, and the frames as ever.
    auto r = frame_reader::open(local(name), {.access = access_mode::read_only});
    CHECK_FALSE(r.can_wait());
    CHECK(r.wait_refusal() == errc::foreign_owner);
    std::vector<std::byte> buffer(4096);
    std::error_code ec;
    r.take(buffer, acquire_mode::wait_for(10s), ec);
    CHECK(ec == errc::foreign_owner);
    const std::uint64_t next = publish_pattern(w, buffer);
    CHECK(r.take(buffer, acquire_mode::spin_forever()).sequence == next);
}

TEST_CASE("a reader that comes before the writer's sibling polls: a blocking take gets the next frame",
          "[channel][startup]")
{
    // The window between a writer taking the channel and publishing its sibling, held open: the
    // header says "no sibling yet" while the writer is alive (a service's readers start at boot
    // and may open in that window).
    const std::string name = test::unique_name("startup-sibling");
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
    const detail::unique_view raw(::MapViewOfFile(
        detail::unique_handle(::OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, w.name().c_str())).get(),
        FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0));
    REQUIRE(raw);
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(
                                       raw.get() + protocol::frame_layout::control_offset +
                                       offsetof(protocol::frame_layout::channel_control, sibling)))
        .store(0);
    auto r = frame_reader::open(local(name), {.access = access_mode::read_only});
    CHECK_FALSE(r.can_wait());
    CHECK(r.wait_refusal() == errc::not_found);
    CHECK(r.writer_state() == writer_status::active);
    std::vector<std::byte> buffer(4096);
    std::error_code ec;
    std::atomic<bool> taking{false};
    std::uint64_t taken = 0;
    std::thread taker([&] {
        taking = true;
        taken = r.take(buffer, acquire_mode::wait_for(30s), ec).sequence;
    });
    REQUIRE(eventually([&] { return taking.load(); }));
    ::Sleep(100); // the take is polling by now (or about to): either way it must get the frame
    std::vector<std::byte> frame(4096);
    const std::uint64_t next = publish_pattern(w, frame);
    taker.join();
    CHECK_FALSE(ec);
    CHECK(taken == next);
    // With no frame to come, the same wait ends at its bound, as a timeout.
    const auto start = std::chrono::steady_clock::now();
    r.take(buffer, acquire_mode::wait_for(300ms), ec);
    CHECK(ec == errc::timeout);
    CHECK(std::chrono::steady_clock::now() - start >= 300ms);
}

TEST_CASE("co-tenant: after the writer dies, re-created names and pinned handles do not make it look alive",
          "[cotenant][channel]")
{
    const std::string name = test::unique_name("ct-dead");
    auto ready = test::named_event::create(name + "-writer-ready");
    auto writer = test::child_process::start(L"winmmf_child.exe",
                                             {"channel-writer", "local", name, "4096", "create", name + "-writer-ready"});
    REQUIRE(ready.wait_or_exit(writer.handle()));
    auto r = frame_reader::open(local(name), {.access = access_mode::read_only});
    CHECK(r.writer_state() == writer_status::active);
    // Another process keeps a handle to the writer's process, and takes every guessable name.
    auto pinner = start_cotenant(name, {"pin-process", std::to_string(::GetProcessId(writer.handle()))});
    writer.kill();
    auto squatter = start_cotenant(name, {"squat-guessable", "local", name});
    CHECK(r.writer_state() == writer_status::gone);
    std::vector<std::byte> buffer(4096);
    CHECK(drain(r, buffer) == errc::writer_gone);
    // While the dead writer's process object lives on in the pinner, a new writer takes over.
    auto w = frame_writer::open_or_create(local(name), {.max_frame_size = 4096});
    CHECK(w.is_open());
    CHECK_FALSE(w.created());
    CHECK(r.writer_state() == writer_status::active);
    const std::uint64_t next = publish_pattern(w, buffer);
    CHECK(r.take(buffer, acquire_mode::wait_for(60s)).sequence == next);
}

TEST_CASE("co-tenant: a writer that lives cannot be taken over; one that is gone is", "[cotenant][channel]")
{
    const std::string name = test::unique_name("ct-takeover");
    auto ready = test::named_event::create(name + "-writer-ready");
    auto writer = test::child_process::start(L"winmmf_child.exe",
                                             {"channel-writer", "local", name, "4096", "create", name + "-writer-ready"});
    REQUIRE(ready.wait_or_exit(writer.handle()));
    std::error_code ec;
    auto refused = frame_writer::open_or_create(local(name), {.max_frame_size = 4096}, ec);
    CHECK(ec == errc::channel_has_writer);
    CHECK(test::run_child({"channel-writer", "local", name, "4096", "open_or_create", name + "-never"}) ==
          exit_code_for(errc::channel_has_writer));
    // Another geometry is never taken over, whatever the writer's state.
    auto other = frame_writer::open_or_create(local(name), {.max_frame_size = 4096, .slots = 2}, ec);
    CHECK(ec == errc::geometry_mismatch);
    auto bigger = frame_writer::open_or_create(local(name), {.max_frame_size = 8192}, ec);
    CHECK(ec == errc::too_large);
    writer.kill();
    auto w = frame_writer::open_or_create(local(name), {.max_frame_size = 4096});
    CHECK(w.is_open());
}

TEST_CASE("co-tenant: a channel somebody else created first under our name is not taken over",
          "[cotenant][channel]")
{
    // A section of the right shape, made first by "another account" (a foreign owner).
    const std::string name = test::unique_name("ct-foreign");
    const auto foreign = security_descriptor::from_sddl("O:SYG:SYD:(A;;GA;;;WD)");
    auto planted = frame_writer::create(local(name), {.max_frame_size = 4096, .security_attributes = foreign.attributes()});
    planted.close();
    std::error_code ec;
    auto w = frame_writer::open_or_create(local(name), {.max_frame_size = 4096}, ec);
    CHECK(ec == errc::foreign_owner);
    CHECK_FALSE(w.is_open());
    auto strict = frame_writer::create(local(name), {.max_frame_size = 4096}, ec);
    CHECK(ec == errc::already_exists);
}

TEST_CASE("co-tenant: a header rewritten while readers open never crashes them or reads outside the view",
          "[cotenant][channel]")
{
    const std::string name = test::unique_name("ct-flip");
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096, .slots = 2});
    std::vector<std::byte> buffer(4096);
    for (int i = 0; i < 5; ++i) {
        publish_pattern(w, buffer);
    }
    auto flipper = start_cotenant(name, {"flip-header", "local", name});
    test::captured_process hammer =
        test::captured_process::start(test::executable_dir() + L"winmmf_child.exe", {"open-hammer", "local", name, "3000"});
    const auto code = hammer.wait();
    UNSCOPED_INFO("hammer: " << hammer.out() << hammer.err());
    CHECK(code == 0u); // every open and take returned, and nothing faulted
    CHECK(hammer.out().find("opened ") != std::string::npos);
}

TEST_CASE("co-tenant: bumping the notify sequence cannot stretch a bounded wait", "[cotenant][channel]")
{
    const std::string name = test::unique_name("ct-bump");
    auto w = frame_writer::create(local(name), {.max_frame_size = 4096});
    auto bumper = start_cotenant(name, {"bump-forever", "local", name});
    // spin(n) is at most n tries and wait_for(d) at most d, however often the sequence moves.
    // The bumper never stops, so a wait that started its budget over would never end: the
    // children's hang guard (two minutes) is the assertion.
    CHECK(test::run_child({"take-mode", "local", name, "spin:200000", "20"}) == 0);
    CHECK(test::run_child({"take-mode", "local", name, "wait:200", "5"}) == 0);
}

TEST_CASE("co-tenant: a section that is reserved, not committed, is refused before a byte is read",
          "[cotenant][section]")
{
    const std::string name = test::unique_name("ct-reserve");
    const std::wstring full = test::widen("Local\\" + name);
    const detail::unique_handle squatter(
        ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE | SEC_RESERVE, 0, 1 << 20, full.c_str()));
    REQUIRE(squatter);
    std::error_code ec;
    (void)frame_reader::open(local(name), {.access = access_mode::read_only}, ec);
    CHECK(ec == errc::uncommitted_view);
    (void)frame_writer::open_or_create(local(name), {.max_frame_size = 4096}, ec);
    CHECK(ec == errc::uncommitted_view);
    (void)memory_mapped_file::open(local(name), ec);
    CHECK(ec == errc::uncommitted_view);
    (void)memory_mapped_file::open_or_create(local(name), 100, ec);
    CHECK(ec == errc::uncommitted_view);
    (void)robust_memory_mapped_file::open(local(name), ec);
    CHECK(ec == errc::uncommitted_view);
    (void)notification::open(local(name), ec);
    CHECK(ec == errc::uncommitted_view);
    try {
        (void)memory_mapped_file::open(local(name));
        FAIL("no exception");
    } catch (const std::system_error& e) {
        CHECK(e.code() == errc::uncommitted_view);
        CHECK(std::string(e.what()).find(name) != std::string::npos); // the message names the object
    }
}
