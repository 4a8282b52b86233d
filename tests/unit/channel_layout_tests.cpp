// The frame channel's layout arithmetic and its sequence-lock protocol, single-threaded: built
// for Windows and natively (the threaded versions are in tests/native/channel_*.cpp).
#include <winmmf/protocol/notify_state.hpp>
#include <winmmf/protocol/frame.hpp>
#include <winmmf/protocol/section.hpp>

#include <catch2/catch_test_macros.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <algorithm>
#include <chrono>
#include <vector>

using namespace winmmf;
using namespace winmmf::protocol::frame_layout;

namespace {

// Page-aligned, zero-filled memory standing in for a fresh section.
struct fake_section {
    explicit fake_section(std::size_t n) : size(n), storage(new std::uint64_t[n / 8 + 512]())
    {
        auto p = reinterpret_cast<std::uintptr_t>(storage.get());
        base = reinterpret_cast<std::byte*>((p + 4095) & ~std::uintptr_t{4095});
        std::memset(base, 0, size);
    }
    std::size_t size;
    std::unique_ptr<std::uint64_t[]> storage;
    std::byte* base = nullptr;
};

// A world in which every process lives and time moves only when someone pauses.
struct quiet_env {
    std::chrono::nanoseconds clock{0};
    std::chrono::nanoseconds now() const { return clock; }
    bool alive(protocol::identity) { return true; }
    void pause(std::chrono::nanoseconds d) { clock += std::max(d, std::chrono::nanoseconds(1)); }
    void relax() {}
};

constexpr protocol::identity creator{42, 7};

// A channel as its creator leaves it: the handshake's steps around the geometry.
channel_view make_channel(fake_section& s, const geometry& g)
{
    quiet_env env;
    REQUIRE(protocol::begin_creation(s.base, static_cast<std::size_t>(g.data_offset), creator, layout, env) == errc{});
    const channel_view v = channel_view::initialize(s.base, g);
    REQUIRE(protocol::publish_ready(s.base, creator, layout) == errc{});
    return v;
}

} // namespace

// The shared layout, pinned: a 32-bit build compiles these too (the i686 preset), so both
// widths agree on every offset.
static_assert(version == 3); // 1 had the waiter slots inside channel_control; 2 no handshake
static_assert(control_offset == 64);
// (channel_control, slot_record and records_offset are pinned beside their definitions.)
static_assert(notify_version == 2);
static_assert(offsetof(channel_header, marker) == offsetof(protocol::prologue, marker));
static_assert(offsetof(channel_header, version) == offsetof(protocol::prologue, version));
static_assert(offsetof(channel_header, init) == offsetof(protocol::prologue, init));
static_assert(offsetof(notify_header, init) == offsetof(protocol::prologue, init));
static_assert(sizeof(notify_header) == 64 && notify_header_size == 64);
static_assert(offsetof(protocol::waiter_block, waiting) == 0);
static_assert(offsetof(protocol::waiter_block, slots) == 64);
static_assert(notify_block_size == 64 + 8 * protocol::max_waiters);
// The standalone notification's block sits where it always did (at offset 64 of its mapping).
static_assert(offsetof(protocol::notify_block, sequence) == 0);
static_assert(offsetof(protocol::notify_block, waiters) + offsetof(protocol::waiter_block, waiting) == 64);
static_assert(offsetof(protocol::notify_block, waiters) + offsetof(protocol::waiter_block, slots) == 128);
// Four layouts, four markers: none can be taken for another.
static_assert(protocol::lock_word::channel_notify_marker == 0xFF434E54u);
static_assert(protocol::lock_word::channel_notify_marker != protocol::lock_word::channel_layout_marker);
static_assert(protocol::lock_word::channel_notify_marker != protocol::lock_word::notify_layout_marker);
static_assert(protocol::lock_word::channel_notify_marker != protocol::lock_word::robust_layout_marker);
static_assert(protocol::lock_word::classify(protocol::lock_word::channel_notify_marker) == protocol::lock_word::state::foreign);

TEST_CASE("channel geometry: page-aligned slots, checked arithmetic", "[channel][layout]")
{
    geometry g;
    REQUIRE(compute_geometry(6'220'800, 3, 4096, g) == errc{});
    CHECK(g.slot_count == 3);
    CHECK(g.max_frame_size == 6'220'800);
    CHECK(g.slot_stride == 6'221'824); // rounded to a page
    CHECK(g.data_offset == 4096);      // header, control and 3 records fit in one page
    CHECK(g.total_size == 4096 + 3 * 6'221'824);
    CHECK(g.data_offset % 4096 == 0);

    REQUIRE(compute_geometry(1, 64, 4096, g) == errc{});
    CHECK(g.data_offset == 8192); // 64 records (256 + 64 * 64 bytes) spill into a second page
    CHECK(g.total_size == 8192 + 64 * 4096);

    CHECK(compute_geometry(0, 3, 4096, g) == errc::zero_size);
    CHECK(compute_geometry(100, 1, 4096, g) == errc::invalid_slot_count);
    CHECK(compute_geometry(100, 65, 4096, g) == errc::invalid_slot_count);
    CHECK(compute_geometry(std::numeric_limits<std::uint64_t>::max(), 2, 4096, g) == errc::size_overflow);
    CHECK(compute_geometry(std::uint64_t{1} << 62, 8, 4096, g) == errc::size_overflow);
    CHECK(g.total_size == 0); // cleared on failure
}

TEST_CASE("a header that does not add up is refused before it is used", "[channel][layout]")
{
    geometry g;
    REQUIRE(compute_geometry(10000, 3, 4096, g) == errc{});
    channel_header h{};
    h.slot_count = g.slot_count;
    h.max_frame_size = g.max_frame_size;
    h.slot_stride = g.slot_stride;
    h.data_offset = g.data_offset;
    h.total_size = g.total_size;
    geometry out;
    CHECK(check_geometry(h, g.total_size, out) == errc{});
    CHECK(out.total_size == g.total_size);
    CHECK(check_geometry(h, g.total_size - 1, out) == errc::wrong_layout); // view too small

    channel_header bad = h;
    bad.slot_count = 1;
    CHECK(check_geometry(bad, g.total_size, out) == errc::wrong_layout);
    bad = h;
    bad.slot_stride = h.max_frame_size - 1;
    CHECK(check_geometry(bad, g.total_size, out) == errc::wrong_layout);
    bad = h;
    bad.data_offset = 64; // overlaps the records
    CHECK(check_geometry(bad, g.total_size, out) == errc::wrong_layout);
    bad = h;
    bad.slot_stride = std::numeric_limits<std::uint64_t>::max() / 2;
    CHECK(check_geometry(bad, std::numeric_limits<std::uint64_t>::max(), out) == errc::wrong_layout);
    bad = h;
    bad.total_size += 4096;
    CHECK(check_geometry(bad, g.total_size + 4096, out) == errc::wrong_layout);
}

TEST_CASE("a channel is ready only after the handshake, and other versions are refused", "[channel][layout]")
{
    geometry g;
    REQUIRE(compute_geometry(1000, 2, 4096, g) == errc{});
    fake_section s(static_cast<std::size_t>(g.total_size));
    quiet_env env;
    const protocol::identity opener{43, 8};
    // Nothing written yet: a fresh section, or a WinMMF one: waited for, then refused.
    CHECK(protocol::attach(s.base, records_offset, opener, layout, std::chrono::milliseconds(250),
                           std::chrono::milliseconds(100), env, false)
              .error == errc::wrong_layout);
    CHECK(env.clock >= std::chrono::milliseconds(250));
    make_channel(s, g);
    CHECK(protocol::attach(s.base, records_offset, opener, layout, {}, std::chrono::milliseconds(100), env, false)
              .error == errc{});
    channel_view v;
    CHECK(channel_view::attach(s.base, g.total_size, v) == errc{});
    CHECK(v.shape().max_frame_size == 1000);
    CHECK(channel_view::attach(s.base, 100, v) == errc::wrong_layout);
    reinterpret_cast<channel_header*>(s.base)->version = version + 1;
    CHECK(protocol::attach(s.base, records_offset, opener, layout, {}, std::chrono::milliseconds(100), env, false)
              .error == errc::unsupported_layout_version);
    // A channel of an earlier layout (version at offset 4, no handshake) is refused, not misread.
    for (const std::uint32_t earlier : {1u, 2u}) {
        std::memset(s.base, 0, 64);
        auto* h = reinterpret_cast<channel_header*>(s.base);
        h->marker = protocol::lock_word::channel_layout_marker;
        h->version = earlier;
        h->init = 3; // version 2's slot_count lay here
        CHECK(protocol::attach(s.base, records_offset, opener, layout, {}, std::chrono::milliseconds(100), env, false)
                  .error == errc::unsupported_layout_version);
    }
}

TEST_CASE("the geometry is judged from one snapshot of the header", "[channel][layout]")
{
    geometry g;
    REQUIRE(compute_geometry(1000, 2, 4096, g) == errc{});
    fake_section s(static_cast<std::size_t>(g.total_size));
    make_channel(s, g);
    const channel_header snap = snapshot_header(s.base);
    // Changing the shared header afterwards changes nothing about what was checked and used.
    reinterpret_cast<channel_header*>(s.base)->slot_count = 60;
    geometry out;
    CHECK(check_geometry(snap, g.total_size, out) == errc{});
    CHECK(out.slot_count == 2);
    CHECK(check_geometry(snapshot_header(s.base), g.total_size, out) == errc::wrong_layout);
}

TEST_CASE("frames go round the slots; readers take the newest and count what they skipped", "[channel][layout]")
{
    geometry g;
    REQUIRE(compute_geometry(64, 3, 4096, g) == errc{});
    fake_section s(static_cast<std::size_t>(g.total_size));
    const channel_view w = make_channel(s, g);
    std::vector<std::byte> out(64);
    frame_info info;
    std::uint64_t retries = 0;

    CHECK(w.read_latest(0, out, info, retries) == channel_view::read_status::no_new_frame);
    for (std::uint64_t seq = 1; seq <= 7; ++seq) {
        std::vector<std::byte> frame(static_cast<std::size_t>(seq * 8), static_cast<std::byte>(seq));
        frame_meta meta;
        meta.width = static_cast<std::uint32_t>(seq);
        meta.user_tag = seq * 100;
        w.write(seq, frame, static_cast<std::int64_t>(seq), meta);
        CHECK(w.published() == seq);
        CHECK(w.slot_of(seq) == (seq - 1) % 3);
    }
    REQUIRE(w.read_latest(2, out, info, retries) == channel_view::read_status::frame);
    CHECK(info.sequence == 7);
    CHECK(info.skipped == 4); // 3, 4, 5, 6
    CHECK(info.size == 56);
    CHECK(info.meta.width == 7);
    CHECK(info.meta.user_tag == 700);
    CHECK(info.publish_time == 7);
    CHECK(out[55] == std::byte{7});
    CHECK(w.read_latest(7, out, info, retries) == channel_view::read_status::no_new_frame);

    std::vector<std::byte> small(10);
    CHECK(w.read_latest(6, small, info, retries) == channel_view::read_status::too_small);
    CHECK(info.size == 56);

    // A frame begun but not committed is invisible; the newest complete one stays readable
    // until the writer comes back to its slot.
    const auto begun = w.begin_write(8);
    CHECK(begun.data() == w.payload(w.slot_of(8)));
    REQUIRE(w.read_latest(6, out, info, retries) == channel_view::read_status::frame);
    CHECK(info.sequence == 7);

    std::uint32_t slot = 0;
    std::uint64_t stamp = 0;
    REQUIRE(w.peek_latest(0, info, slot, stamp, retries) == channel_view::read_status::frame);
    CHECK(stamp == 14);
    CHECK(w.still_valid(slot, stamp));
    w.commit(8, 8, 0, {});
    w.write(9, std::vector<std::byte>(8), 0, {});
    CHECK(w.still_valid(slot, stamp));
    (void)w.begin_write(10); // slot of frame 7 again
    CHECK_FALSE(w.still_valid(slot, stamp));
    CHECK(retries == 0); // single-threaded: nothing ever raced a read
}

TEST_CASE("a channel's notify sequence lives in the channel, its waiters in the sibling", "[channel][notify][layout]")
{
    geometry g;
    REQUIRE(compute_geometry(64, 2, 4096, g) == errc{});
    fake_section s(static_cast<std::size_t>(g.total_size));
    const channel_view w = make_channel(s, g);
    auto waiters = std::make_unique<protocol::waiter_block>();
    std::memset(waiters.get(), 0, sizeof *waiters);

    // The writer's state: the channel's sequence, the sibling's block.
    protocol::notify_state writer = w.notify(waiters.get());
    CHECK(writer.has_waiters());
    CHECK(w.notify_sequence() == 0);
    CHECK(writer.bump() == 0);
    CHECK(w.notify_sequence() == 1);
    auto* control = reinterpret_cast<channel_control*>(s.base + control_offset);
    CHECK(control->notify_sequence == 1);

    // A reader that may not write the sibling: reads the sequence, announces nobody.
    const protocol::notify_state polling = w.notify(nullptr);
    CHECK(polling.valid());
    CHECK_FALSE(polling.has_waiters());
    CHECK(polling.sequence() == 1);
    CHECK(polling.waiting_count() == 0);

    // A reader that may: announces in the sibling, sees the channel's sequence.
    protocol::notify_state sleeper = w.notify(waiters.get());
    CHECK(sleeper.announce(3) == 1);
    CHECK(waiters->waiting == protocol::notify_state::bit(3));
    CHECK(writer.bump() == protocol::notify_state::bit(3));
    CHECK(sleeper.sequence() == 2);
    sleeper.withdraw(3);
    CHECK(writer.bump() == 0);

    // Whatever someone else writes into the sibling, the notifier's answer is a 64-bit mask:
    // at most one signal per slot, every index in range. The frames are not touched.
    waiters->waiting = ~std::uint64_t{0};
    for (auto& slot : waiters->slots) {
        slot = 0xDEADBEEFDEADBEEFull;
    }
    CHECK(writer.bump() == ~std::uint64_t{0});
    CHECK(writer.waiting_count() == protocol::max_waiters);
    CHECK(w.notify_sequence() == 4);
    CHECK(w.published() == 0);
    CHECK(w.shape().slot_count == 2);
    CHECK(writer.slot_address(63) == &waiters->slots[63]);
}

TEST_CASE("the notification block's words", "[notify][layout]")
{
    auto block = std::make_unique<protocol::notify_block>();
    std::memset(block.get(), 0, sizeof *block);
    protocol::notify_state n(block.get());
    CHECK(n.bump() == 0); // nobody announced: no one to signal
    CHECK(n.sequence() == 1);
    CHECK(n.announce(5) == 1);
    CHECK(n.announce(63) == 1);
    CHECK(n.waiting_count() == 2);
    CHECK(n.bump() == (protocol::notify_state::bit(5) | protocol::notify_state::bit(63)));
    n.withdraw(5);
    n.withdraw(63);
    CHECK(n.waiting_mask() == 0);
    CHECK(block->sequence == 2);
    CHECK(block->waiters.waiting == 0);

}

TEST_CASE("pixel formats and frame sizes", "[channel][layout]")
{
    CHECK(bytes_per_pixel(pixel_format::rgb24) == 3);
    CHECK(bytes_per_pixel(pixel_format::bgra32) == 4);
    CHECK(bytes_per_pixel(pixel_format::nv12) == 0);
    CHECK(std::size_t{1920} * 1080 * bytes_per_pixel(pixel_format::rgb24) == 6'220'800);
}
