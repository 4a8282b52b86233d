// [snippet:reader]
// reader.cpp: opens the mapping and prints what is there.
#include <winmmf/winmmf.hpp>
#include <cstdio>

int main()
{
    std::error_code ec;                                       // the non-throwing overloads
    auto m = winmmf::memory_mapped_file::open(winmmf::local("getting-started"), ec);
    if (ec) {
        std::fprintf(stderr, "reader: %s\n", ec.message().c_str());
        return ec == winmmf::errc::not_found ? 2 : 1;
    }
    auto guard = m.lock_read(winmmf::acquire_mode::wait_for(std::chrono::seconds(1)));
    std::printf("read: %s\n", reinterpret_cast<const char*>(guard.data()));
}
// [end:reader]
