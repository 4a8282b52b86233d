#include <winmmf/detail/backoff.hpp>
#include <winmmf/protocol/lock_word.hpp>

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <cstdint>
#include <thread>

using namespace winmmf;
namespace lw = winmmf::protocol::lock_word;

TEST_CASE("the masks are WinMMF's", "[lock_word]")
{
    STATIC_CHECK(lw::initialize_mask == 0xFF000000u);
    STATIC_CHECK(lw::write_lock_mask == 0x80000000u);
    STATIC_CHECK(lw::read_lock_mask == 0x00FFFFFFu);
    STATIC_CHECK(sizeof(lw::word_type) == 4);
}

TEST_CASE("classify covers every value a peer can produce, and names the rest", "[lock_word]")
{
    using s = lw::state;
    STATIC_CHECK(lw::classify(0) == s::free);
    STATIC_CHECK(lw::classify(1) == s::read_locked);
    STATIC_CHECK(lw::classify(0x00FFFFFF) == s::read_locked);
    STATIC_CHECK(lw::classify(0x80000000u) == s::write_locked);
    STATIC_CHECK(lw::classify(0xFF000000u) == s::uninitialized);
    STATIC_CHECK(lw::classify(0xFF000001u) == s::foreign);
    STATIC_CHECK(lw::classify(0xFFFFFFFFu) == s::foreign);
    STATIC_CHECK(lw::classify(0x80000001u) == s::corrupt);   // writer and reader together
    STATIC_CHECK(lw::classify(0x01000000u) == s::corrupt);   // unused bit 24
    STATIC_CHECK(lw::classify(0x7F000000u) == s::corrupt);
    STATIC_CHECK(lw::classify(0xFE000000u) == s::corrupt);
}

namespace {
struct word_fixture {
    alignas(4) std::uint32_t value = 0;
    std::atomic_ref<std::uint32_t> ref() { return std::atomic_ref<std::uint32_t>(value); }
};
} // namespace

TEST_CASE("readers share, a writer excludes, and refusals leave the word alone", "[lock_word]")
{
    word_fixture w;
    REQUIRE(lw::try_lock_read(w.ref()) == errc{});
    REQUIRE(lw::try_lock_read(w.ref()) == errc{});
    CHECK(w.value == 2);
    CHECK(lw::try_lock_write(w.ref()) == errc::read_locked);
    CHECK(w.value == 2);
    REQUIRE(lw::unlock_read(w.ref()) == errc{});
    REQUIRE(lw::unlock_read(w.ref()) == errc{});
    CHECK(w.value == 0);
    CHECK(lw::unlock_read(w.ref()) == errc::lock_violation);
    CHECK(w.value == 0);

    REQUIRE(lw::try_lock_write(w.ref()) == errc{});
    CHECK(w.value == 0x80000000u);
    CHECK(lw::try_lock_write(w.ref()) == errc::write_locked);
    CHECK(lw::try_lock_read(w.ref()) == errc::write_locked);
    CHECK(lw::unlock_read(w.ref()) == errc::write_locked);
    CHECK(w.value == 0x80000000u);
    REQUIRE(lw::unlock_write(w.ref()) == errc{});
    CHECK(w.value == 0);
    CHECK(lw::unlock_write(w.ref()) == errc::lock_violation);
    CHECK(w.value == 0);
}

TEST_CASE("the reader count saturates with max_readers", "[lock_word]")
{
    word_fixture w;
    w.value = lw::max_readers - 1;
    REQUIRE(lw::try_lock_read(w.ref()) == errc{});
    CHECK(w.value == lw::max_readers);
    CHECK(lw::try_lock_read(w.ref()) == errc::max_readers);
    CHECK(w.value == lw::max_readers); // never carries into the unused bits
}

TEST_CASE("uninitialized, foreign and corrupt words refuse every operation unchanged", "[lock_word]")
{
    struct expectation {
        std::uint32_t value;
        errc refusal;
    };
    for (const expectation e : {expectation{0xFF000000u, errc::uninitialized},
                                expectation{0xFF52424Fu, errc::wrong_lock_policy},
                                expectation{0x80000003u, errc::corrupt_lock_word},
                                expectation{0x12345678u, errc::corrupt_lock_word}}) {
        CAPTURE(e.value);
        word_fixture w;
        w.value = e.value;
        CHECK(lw::try_lock_read(w.ref()) == e.refusal);
        CHECK(lw::unlock_read(w.ref()) == e.refusal);
        CHECK(lw::try_lock_write(w.ref()) == e.refusal);
        CHECK(lw::unlock_write(w.ref()) == e.refusal);
        CHECK(w.value == e.value);
    }
}

TEST_CASE("initialize follows WinMMF's creation sequence", "[lock_word]")
{
    word_fixture w;
    REQUIRE(lw::initialize(w.ref()) == errc{});
    CHECK(w.value == 0);
    CHECK(lw::try_lock_write(w.ref()) == errc{});
}

namespace {

// Counts the calls and remembers the last loss number it was given.
struct counting_backoff {
    unsigned* calls;
    unsigned* last;
    void operator()(unsigned lost) const noexcept
    {
        ++*calls;
        *last = lost;
    }
};

} // namespace

TEST_CASE("the back-off runs after a lost exchange only, and the words written stay WinMMF's", "[lock_word]")
{
    std::uint32_t word = 0;
    std::atomic_ref<std::uint32_t> w(word);
    unsigned calls = 0, last = 99;
    const counting_backoff counted{&calls, &last};

    // Uncontended: the guess (free) is right, nothing is lost.
    CHECK(lw::try_lock_read(w, counted) == errc{});
    CHECK(word == 1);
    CHECK(calls == 0);
    // Another reader in: the free guess loses once (loss 0), the retry from the fresh value wins.
    CHECK(lw::try_lock_read(w, counted) == errc{});
    CHECK(word == 2);
    CHECK(calls == 1);
    CHECK(last == 0);
    // A refusal is no loss: nothing is written and the back-off never runs.
    calls = 0;
    CHECK(lw::try_lock_write(w, counted) == errc::read_locked);
    CHECK(word == 2);
    CHECK(calls == 0);
    CHECK(lw::unlock_read(w, counted) == errc{}); // guesses 1, finds 2: one loss
    CHECK(calls == 1);
    CHECK(lw::unlock_read(w, counted) == errc{});
    CHECK(word == 0);
}

TEST_CASE("readers on two threads with the library's back-off leave the word free", "[lock_word][threads]")
{
    std::uint32_t word = 0;
    constexpr int rounds = 100000;
    std::atomic<int> refused{0};
    const auto reader = [&] {
        std::atomic_ref<std::uint32_t> w(word);
        for (int i = 0; i < rounds; ++i) {
            // Catch2's assertions are not for other threads: count, and check after the join.
            if (lw::try_lock_read(w, detail::lock_word_backoff{}) != errc{} ||
                lw::unlock_read(w, detail::lock_word_backoff{}) != errc{}) {
                refused.fetch_add(1, std::memory_order_relaxed);
            }
        }
    };
    std::thread a(reader), b(reader);
    a.join();
    b.join();
    CHECK(refused.load() == 0);
    CHECK(std::atomic_ref<std::uint32_t>(word).load() == 0);
}
