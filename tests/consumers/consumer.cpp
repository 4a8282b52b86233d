// A program that uses winmmf as a consumer's would: create, open a second handle, write through
// one, read through the other. tests/consumers builds it each way a project can take winmmf in
// (one include path, find_package, add_subdirectory, FetchContent, the vcpkg port).
#include <winmmf/winmmf.hpp>

#include <cstdio>
#include <exception>
#include <span>
#include <string>
#include <string_view>

#if !defined(WINMMF_CONSUMER_HOW)
#define WINMMF_CONSUMER_HOW "one include path"
#endif

int main()
{
    try {
        const std::string name = "winmmf-consumer-" + std::to_string(::GetCurrentProcessId());
        auto creator = winmmf::memory_mapped_file::create(winmmf::local(name), 64);
        auto opener = winmmf::memory_mapped_file::open(winmmf::local(name));

        const std::string_view message = "consumed via " WINMMF_CONSUMER_HOW;
        creator.write(0, std::as_bytes(std::span(message)));
        std::string seen(message.size(), '\0');
        {
            auto guard = opener.lock_read();
            seen.assign(reinterpret_cast<const char*>(guard.data()), message.size());
        }
        if (seen != message || opener.capacity() != creator.capacity()) {
            std::fprintf(stderr, "consumer: read \"%s\" back, expected \"%s\"\n", seen.c_str(),
                         std::string(message).c_str());
            return 1;
        }
        std::printf("consumer: %s (%zu bytes usable)\n", seen.c_str(), opener.capacity());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
        return 1;
    }
}
