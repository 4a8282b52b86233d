// hello_writer: creates Local\winmmf-hello, writes a few messages, and prints the replies a
// hello_reader process writes back. Run hello_writer first, then hello_reader.
//
// Layout of the user data (after winmmf's 4-byte lock word):
//   [0, 8)     round number the writer is on (uint64)
//   [8, 136)   the writer's message, NUL-terminated
//   [136, 144) round number the reader has answered (uint64)
//   [144, 272) the reader's reply, NUL-terminated
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

std::uint64_t load_u64(std::span<const std::byte> data, std::size_t at)
{
    std::uint64_t value;
    std::memcpy(&value, data.data() + at, sizeof value); // user data is only 4-byte aligned
    return value;
}

} // namespace

int main()
{
    using namespace std::chrono_literals;
    try {
        auto mmf = winmmf::memory_mapped_file::create(winmmf::local("winmmf-hello"), 4096);
        std::printf("writer: created %s, %zu bytes usable (asked for %zu)\n",
                    mmf.name().to_utf8().c_str(), mmf.capacity(), mmf.size());

        for (std::uint64_t round = 1; round <= 3; ++round) {
            {
                auto guard = mmf.lock_write(winmmf::acquire_mode::wait_for(5s));
                const std::string message = "hello #" + std::to_string(round) + " from the writer";
                std::memset(guard.data() + message_at, 0, text_size);
                std::memcpy(guard.data() + message_at, message.data(), message.size());
                std::memcpy(guard.data() + round_at, &round, sizeof round);
                std::printf("writer: sent     \"%s\"\n", message.c_str());
            }
            // Wait for the reader's answer to this round (up to 30 s).
            const auto deadline = std::chrono::steady_clock::now() + 30s;
            for (;;) {
                auto guard = mmf.lock_read(winmmf::acquire_mode::wait_for(5s));
                if (load_u64(guard.bytes(), answered_at) == round) {
                    std::printf("writer: received \"%s\"\n",
                                reinterpret_cast<const char*>(guard.data() + reply_at));
                    break;
                }
                guard.unlock();
                if (std::chrono::steady_clock::now() > deadline) {
                    std::fprintf(stderr, "writer: no reply to round %llu\n",
                                 static_cast<unsigned long long>(round));
                    return 1;
                }
                std::this_thread::sleep_for(10ms);
            }
        }
        std::printf("writer: done\n");
        return 0;
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "writer: %s\n", e.what());
        return 1;
    }
}
