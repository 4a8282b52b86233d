#include "child.hpp"

#include <winmmf/detail/win32.hpp>

#include <test_support.hpp>

#include <cstdio>
#include <exception>
#include <shellapi.h>

namespace winmmf::child {

int report(const std::error_code& ec, const char* what)
{
    if (!ec) {
        return exit_ok;
    }
    std::fprintf(stderr, "winmmf_child: %s: %s (%s %d)\n", what, ec.message().c_str(),
                 ec.category().name(), ec.value());
    return ec.category() == winmmf_category() ? exit_winmmf_base + ec.value() : exit_other_error;
}

} // namespace winmmf::child

// Arguments are read as UTF-16 and passed on as UTF-8, so non-ASCII mapping names survive the
// trip through CreateProcessW.
int main()
{
    using namespace winmmf;
    int argc = 0;
    LPWSTR* argv = ::CommandLineToArgvW(::GetCommandLineW(), &argc);
    if (argv == nullptr || argc < 2) {
        std::fprintf(stderr, "usage: winmmf_child <command> [args...]\n");
        return child::exit_usage;
    }
    child::args args;
    for (int i = 2; i < argc; ++i) {
        args.push_back(test::narrow(argv[i]));
    }
    const std::string name = test::narrow(argv[1]);
    ::LocalFree(argv);

    const auto found = child::registry().find(name);
    if (found == child::registry().end()) {
        std::fprintf(stderr, "winmmf_child: unknown command %s\n", name.c_str());
        return child::exit_usage;
    }
    try {
        return found->second(args);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "winmmf_child %s: %s\n", name.c_str(), e.what());
        return child::exit_exception;
    }
}
