// Eight real processes mixing readers and writers on one mapping, tens of thousands of
// operations each, for both lock policies. The worker (tests/child/stress_commands.cpp)
// checks under every lock that the pattern is whole and the counters add up; here the final
// counters must be exact. A broken lock fails this: see docs/explanation/reliability.md for the
// deliberately broken builds it was run against.
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

namespace {

// tests/child/stress_commands.cpp uses the same layout and plan.
constexpr std::size_t pattern_offset = 256;
constexpr std::size_t pattern_words = 64;
constexpr std::uint64_t pattern_word(std::uint64_t total, std::size_t j)
{
    return total * 0x100000001B3ull + j;
}
constexpr bool is_write(std::uint64_t i, std::uint64_t k, std::uint64_t permille)
{
    return (i * 2654435761u + k * 40503u) % 1000 < permille;
}

std::uint64_t load(std::span<const std::byte> bytes, std::size_t offset)
{
    std::uint64_t v = 0;
    std::memcpy(&v, bytes.data() + offset, sizeof v);
    return v;
}

template <class Mapping>
void run_stress(const std::string& policy)
{
    constexpr int processes = 8;
    constexpr std::uint64_t ops = 50000;
    // Two write-heavy, two balanced, four read-heavy processes.
    constexpr std::uint64_t permille[processes] = {800, 800, 300, 300, 50, 50, 50, 50};

    const std::string name = test::unique_name("stress-" + policy);
    auto m = Mapping::create(local(name), 4096);
    {
        // Total 0: the pattern of total 0, every count 0.
        auto guard = m.lock_write();
        for (std::size_t j = 0; j < pattern_words; ++j) {
            const std::uint64_t v = pattern_word(0, j);
            std::memcpy(guard.data() + pattern_offset + 8 * j, &v, sizeof v);
        }
    }
    auto start = test::named_event::create(name + "-start");
    std::vector<test::named_event> ready;
    std::vector<test::child_process> children;
    for (int k = 0; k < processes; ++k) {
        ready.push_back(test::named_event::create(name + "-start-ready-" + std::to_string(k)));
        children.push_back(test::child_process::start(
            L"winmmf_child.exe", {"stress", policy, "local", name, std::to_string(ops),
                                  std::to_string(permille[k]), std::to_string(k), name + "-start"}));
    }
    for (int k = 0; k < processes; ++k) {
        REQUIRE(ready[static_cast<std::size_t>(k)].wait_or_exit(children[static_cast<std::size_t>(k)].handle()));
    }
    const auto began = std::chrono::steady_clock::now();
    start.set(); // all eight are waiting for it: they run together
    for (auto& c : children) {
        CHECK(c.wait(std::chrono::minutes(10)) == 0u); // 10 = torn pattern or counters off
    }
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();

    auto r = m.lock_read();
    std::uint64_t expected_total = 0;
    std::uint64_t reads = 0;
    for (int k = 0; k < processes; ++k) {
        std::uint64_t writes = 0;
        for (std::uint64_t i = 0; i < ops; ++i) {
            if (is_write(i, static_cast<std::uint64_t>(k), permille[k])) {
                ++writes;
            }
        }
        reads += ops - writes;
        CAPTURE(k);
        CHECK(load(r.bytes(), 8 + 8 * static_cast<std::size_t>(k)) == writes);
        expected_total += writes;
    }
    CHECK(load(r.bytes(), 0) == expected_total);
    for (std::size_t j = 0; j < pattern_words; ++j) {
        CHECK(load(r.bytes(), pattern_offset + 8 * j) == pattern_word(expected_total, j));
    }
    CHECK_FALSE(r.previous_owner_died());
    std::printf("stress (%s): %d processes, %llu writes + %llu reads in %.2f s\n", policy.c_str(), processes,
                static_cast<unsigned long long>(expected_total), static_cast<unsigned long long>(reads), seconds);
    std::fflush(stdout);
}

} // namespace

TEST_CASE("8 processes x 50,000 mixed operations on a compatible_lock mapping", "[stress][compatible]")
{
    run_stress<memory_mapped_file>("compatible");
}

TEST_CASE("8 processes x 50,000 mixed operations on a robust_lock mapping", "[stress][robust]")
{
    run_stress<robust_memory_mapped_file>("robust");
}
