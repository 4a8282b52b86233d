// hello_reader: opens Local\winmmf-hello (made by hello_writer), answers each message, and
// prints what it read. The mapping's size is not known here: it comes from the kernel.
#include <winmmf/winmmf.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {
constexpr std::size_t round_at = 0, message_at = 8, answered_at = 136, reply_at = 144;
constexpr std::size_t text_size = 128;
} // namespace

int main()
{
    using namespace std::chrono_literals;
    std::error_code ec;
    winmmf::memory_mapped_file mmf;
    // The writer may not have started yet: retry "not found" for a while.
    for (int attempt = 0; attempt < 300; ++attempt) {
        mmf = winmmf::memory_mapped_file::open(winmmf::local("winmmf-hello"), ec);
        if (ec != winmmf::errc::not_found) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    if (ec) {
        std::fprintf(stderr, "reader: cannot open Local\\winmmf-hello: %s\n", ec.message().c_str());
        return 1;
    }
    std::printf("reader: opened %s, %zu bytes usable\n", mmf.name().to_utf8().c_str(), mmf.capacity());

    try {
        std::uint64_t answered = 0;
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (answered < 3 && std::chrono::steady_clock::now() < deadline) {
            auto guard = mmf.lock_write(winmmf::acquire_mode::wait_for(5s));
            std::uint64_t round;
            std::memcpy(&round, guard.data() + round_at, sizeof round);
            if (round > answered) {
                const char* message = reinterpret_cast<const char*>(guard.data() + message_at);
                std::printf("reader: received \"%s\"\n", message);
                const std::string reply = "got #" + std::to_string(round) + ", thanks";
                std::memset(guard.data() + reply_at, 0, text_size);
                std::memcpy(guard.data() + reply_at, reply.data(), reply.size());
                std::memcpy(guard.data() + answered_at, &round, sizeof round);
                std::printf("reader: replied  \"%s\"\n", reply.c_str());
                answered = round;
            }
            guard.unlock();
            std::this_thread::sleep_for(10ms);
        }
        return answered == 3 ? 0 : 1;
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "reader: %s\n", e.what());
        return 1;
    }
}
