// Telling errors apart (docs/explanation/concepts.md, "Errors"). Runs alone: nothing creates
// Global\cam0 here, so the open reports not_found, or, if another program made it, succeeds.
#include <winmmf/winmmf.hpp>

#include <cstdio>
#include <string>

namespace {

void log(const char* category, int value, const std::string& message)
{
    std::printf("%s %d: %s\n", category, value, message.c_str());
}

} // namespace

int main()
{
    // [snippet:errors]
    std::error_code ec;
    auto m = winmmf::memory_mapped_file::open(winmmf::global("cam0"), ec);
    if (ec == winmmf::errc::not_found) { /* not created yet */ }
    else if (ec == std::errc::permission_denied) { /* any "access denied": DACL, privilege, read-only */ }
    else if (ec) { log(ec.category().name(), ec.value(), ec.message()); }
    // [end:errors]

    // The throwing overloads say the same in what(), with the operation and the full name.
    // [snippet:exception]
    try {
        auto frames = winmmf::memory_mapped_file::open(winmmf::local("no-such-mapping"));
    } catch (const std::system_error& e) {
        // "winmmf: open Local\no-such-mapping: ..." (and a hint when Global\ has the name)
        std::fprintf(stderr, "%s\n", e.what());
        if (e.code() != winmmf::errc::not_found) {
            return 1;
        }
    }
    // [end:exception]
    return 0;
}
