#include <winmmf/acquire.hpp>
#include <winmmf/lock.hpp>

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

using namespace winmmf;
using namespace std::chrono_literals;

namespace {
struct attempts {
    int calls = 0;
    int succeed_at;
    errc failure;
    errc operator()()
    {
        ++calls;
        return calls >= succeed_at ? errc{} : failure;
    }
};
} // namespace

TEST_CASE("try_once makes exactly one attempt and reports the state's reason", "[acquire]")
{
    attempts a{0, 2, errc::write_locked};
    CHECK(detail::acquire_with(acquire_mode::try_once(), std::ref(a)) == errc::write_locked);
    CHECK(a.calls == 1);
}

TEST_CASE("spin(n) stops after n attempts with max_tries_reached", "[acquire]")
{
    attempts a{0, 1000, errc::read_locked};
    CHECK(detail::acquire_with(acquire_mode::spin(10), std::ref(a)) == errc::max_tries_reached);
    CHECK(a.calls == 10);

    attempts b{0, 5, errc::read_locked};
    CHECK(detail::acquire_with(acquire_mode::spin(10), std::ref(b)) == errc{});
    CHECK(b.calls == 5);
}

TEST_CASE("permanent refusals end every mode at once", "[acquire]")
{
    for (const errc permanent : {errc::corrupt_lock_word, errc::wrong_lock_policy, errc::lock_violation}) {
        attempts a{0, 1000, permanent};
        CHECK(detail::acquire_with(acquire_mode::wait_for(10s), std::ref(a)) == permanent);
        CHECK(a.calls == 1);
        attempts b{0, 1000, permanent};
        CHECK(detail::acquire_with(acquire_mode::spin_forever(), std::ref(b)) == permanent);
        CHECK(b.calls == 1);
    }
}

TEST_CASE("wait_for gives up with timeout once the deadline passes", "[acquire]")
{
    attempts a{0, 1 << 30, errc::write_locked};
    const auto start = std::chrono::steady_clock::now();
    CHECK(detail::acquire_with(acquire_mode::wait_for(50ms), std::ref(a)) == errc::timeout);
    // Only a lower bound: an upper bound would make the test depend on machine load.
    CHECK(std::chrono::steady_clock::now() - start >= 50ms);
    CHECK(a.calls > 1);
}

TEST_CASE("a waiting reader gets the lock once another thread releases it", "[acquire]")
{
    alignas(4) std::uint32_t word = 0;
    std::atomic_ref<std::uint32_t> ref(word);
    REQUIRE(protocol::lock_word::try_lock_write(ref) == errc{});
    std::thread releaser([&] {
        std::this_thread::sleep_for(20ms);
        REQUIRE(protocol::lock_word::unlock_write(ref) == errc{});
    });
    const errc result = detail::acquire_with(acquire_mode::wait_for(60s),
                                             [&] { return protocol::lock_word::try_lock_read(ref); });
    releaser.join();
    CHECK(result == errc{});
    CHECK(ref.load() == 1);
}

TEST_CASE("huge and negative timeouts are safe", "[acquire]")
{
    CHECK(acquire_mode::wait_for(-5s).timeout() == 0ns);
    attempts a{0, 3, errc::write_locked};
    CHECK(detail::acquire_with(acquire_mode::wait_for(std::chrono::hours::max()), std::ref(a)) == errc{});
    attempts b{0, 1000, errc::write_locked};
    CHECK(detail::acquire_with(acquire_mode::wait_for(-1s), std::ref(b)) == errc::timeout);
}
