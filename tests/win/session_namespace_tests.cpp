// Session\<n>\ names: session(current_session_id(), x) is this session's Local\x, in both
// directions and across processes. (Under Wine every process runs in session 1.)
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../child/child.hpp"
#include <test_support.hpp>

#include <string>

using namespace winmmf;

namespace {

std::string hex(std::string_view s) { return test::to_hex(s.data(), s.size()); }

// The session as the token records it: a second source, independent of ProcessIdToSessionId.
std::uint32_t token_session()
{
    HANDLE token = nullptr;
    REQUIRE(::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token));
    detail::unique_handle owned(token);
    DWORD session = 0;
    DWORD length = 0;
    REQUIRE(::GetTokenInformation(token, TokenSessionId, &session, sizeof session, &length));
    return session;
}

std::string read_string(const memory_mapped_file& m, std::size_t offset, std::size_t length)
{
    std::string out(length, '\0');
    m.read(offset, std::as_writable_bytes(std::span(out)));
    return out;
}

} // namespace

TEST_CASE("current_session_id is the session the token records", "[session]")
{
    std::error_code ec;
    CHECK(current_session_id(ec) == token_session());
    CHECK_FALSE(ec);
    CHECK(current_session_id() == token_session());
}

TEST_CASE("Session\\<own id>\\x and Local\\x are one object", "[session]")
{
    const std::uint32_t me = current_session_id();
    const std::string a = test::unique_name("local-first");
    auto by_local = memory_mapped_file::create(local(a), 100);
    by_local.write(0, std::as_bytes(std::span(std::string_view("via Local"))));
    auto by_session = memory_mapped_file::open(session(me, a));
    CHECK(by_session.name().to_utf8() == "Session\\" + std::to_string(me) + "\\" + a);
    CHECK(read_string(by_session, 0, 9) == "via Local");

    const std::string b = test::unique_name("session-first");
    auto created = memory_mapped_file::create(session(me, b), 100);
    created.write(0, std::as_bytes(std::span(std::string_view("via Session"))));
    CHECK(read_string(memory_mapped_file::open(local(b)), 0, 11) == "via Session");
    std::error_code ec;
    auto twice = memory_mapped_file::create(local(b), 100, ec);
    CHECK(ec == errc::already_exists);
}

TEST_CASE("Session\\<n>\\ round trip between two processes", "[session][multiprocess]")
{
    const std::uint32_t me = current_session_id();

    // Parent creates Local\x; the child, working out its own session id, opens Session\<id>\x.
    const std::string name = test::unique_name("session-rt");
    auto m = memory_mapped_file::create(local(name), 4096);
    const std::string from_parent = "parent, in Local";
    m.write(0, std::as_bytes(std::span(from_parent)));
    REQUIRE(test::run_child({"session-roundtrip", name, hex(from_parent), "200", hex("child, via Session")}) == 0);
    CHECK(read_string(m, 200, 18) == "child, via Session");

    // The child creates Session\<our id>\y; the parent opens Local\y.
    const std::string other = test::unique_name("session-rt-child");
    auto ready = test::named_event::create(other + "-ready");
    auto release = test::named_event::create(other + "-release");
    auto child = test::child_process::start(
        L"winmmf_child.exe", {"create-hold", "session:" + std::to_string(me), other, "100",
                              hex("child, in Session"), other + "-ready", other + "-release"});
    REQUIRE(ready.wait_or_exit(child.handle()));
    auto opened = memory_mapped_file::open(local(other));
    CHECK(read_string(opened, 0, 17) == "child, in Session");
    release.set();
    CHECK(child.wait(test::child_timeout) == 0u);
}

TEST_CASE("another session's namespace does not hold our objects", "[session]")
{
    const std::uint32_t me = current_session_id();
    const std::string name = test::unique_name("not-elsewhere");
    auto m = memory_mapped_file::create(local(name), 100);
    std::error_code ec;
    auto elsewhere = memory_mapped_file::open(session(me + 1000, name), ec);
    CHECK(ec); // not_found, or ERROR_PATH_NOT_FOUND for a session namespace that does not exist
    CHECK_FALSE(elsewhere.is_open());
}
