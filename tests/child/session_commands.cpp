// Child commands for the Session\<n>\ tests: the child names its own session itself.
#include "child.hpp"

#include <winmmf/winmmf.hpp>

#include <test_support.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace winmmf::child {
namespace {

// session-roundtrip <name> <expect-hex> <reply-offset> <reply-hex>: opens Session\<own id>\<name>,
// which the parent created as Local\<name>, checks the parent's bytes at offset 0, and writes
// a reply for the parent to find.
int session_roundtrip(const args& a)
{
    if (a.size() != 4) {
        return exit_usage;
    }
    std::error_code ec;
    const std::uint32_t id = current_session_id(ec);
    if (ec) {
        return report(ec, "current_session_id");
    }
    auto m = memory_mapped_file::open(session(id, a[0]), ec);
    if (ec) {
        return report(ec, "open");
    }
    if (m.name().to_utf8() != "Session\\" + std::to_string(id) + "\\" + a[0]) {
        return exit_mismatch;
    }
    const auto expected = test::from_hex(a[1]);
    std::vector<std::byte> actual(expected.size());
    m.read(0, actual, ec);
    if (ec) {
        return report(ec, "read");
    }
    if (actual != expected) {
        std::fprintf(stderr, "session-roundtrip: got %s\n", test::to_hex(actual.data(), actual.size()).c_str());
        return exit_mismatch;
    }
    m.write(std::stoul(a[2]), test::from_hex(a[3]), ec);
    return report(ec, "write");
}

const registrar r1{"session-roundtrip", session_roundtrip};

} // namespace
} // namespace winmmf::child
