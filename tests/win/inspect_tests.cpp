// winmmf::inspect describes every layout without locking or changing it: the data behind
// `winmmf info` and users' monitoring tools.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <cstring>
#include <string>
#include <vector>

using namespace winmmf;

TEST_CASE("inspect: a WinMMF-compatible mapping, free, read-locked, write-locked", "[inspect]")
{
    const std::string name = test::unique_name("inspect-compat");
    auto m = memory_mapped_file::create(local(name), 100);
    inspection i = inspect(local(name));
    CHECK(i.layout == layout_kind::compatible);
    CHECK(i.name == m.name());
    CHECK(i.section_size == m.section_size());
    CHECK(i.capacity == m.capacity());
    CHECK(i.lock == lock_word_state::free);
    CHECK(i.writable);
    CHECK_FALSE(i.refusal);
    {
        auto r1 = m.lock_read();
        auto r2 = m.lock_read();
        i = inspect(local(name));
        CHECK(i.lock == lock_word_state::read_locked);
        CHECK(i.readers == 2);
    }
    {
        auto w = m.lock_write();
        CHECK(inspect(local(name)).lock == lock_word_state::write_locked);
    }
    std::error_code ec;
    (void)inspect(local(name + "-missing"), ec);
    CHECK(ec == errc::not_found);
    CHECK_THROWS_AS(inspect(local(name + "-missing")), std::system_error);
}

TEST_CASE("inspect: a robust mapping, a frame channel, its sibling, a notification", "[inspect]")
{
    const std::string name = test::unique_name("inspect-layouts");
    auto robust = robust_memory_mapped_file::create(local(name + "-robust"), 100);
    {
        auto w = robust.lock_write();
        const inspection i = inspect(local(name + "-robust"));
        CHECK(i.layout == layout_kind::robust);
        CHECK(i.robust.ready);
        CHECK(i.robust.version == 3);
        CHECK(i.robust.writer_pid == ::GetCurrentProcessId());
        CHECK(i.robust.writer_holds);
        CHECK(i.robust_writer_alive);
        CHECK(i.capacity == robust.capacity());
        CHECK_FALSE(i.refusal);
    }

    auto writer = frame_writer::create(local(name + "-channel"), {.max_frame_size = 64, .slots = 4});
    std::vector<std::byte> frame(64);
    writer.publish(frame);
    const inspection c = inspect(local(name + "-channel"));
    CHECK(c.layout == layout_kind::frame_channel);
    CHECK(c.channel.slots == 4);
    CHECK(c.channel.max_frame_size == 64);
    CHECK(c.channel.published == 1);
    CHECK(c.channel.writer == writer_status::active);
    CHECK(c.channel.writer_pid == ::GetCurrentProcessId());
    CHECK(c.channel.notification == writer.notification_name());
    CHECK(c.channel.can_wait);
    const inspection sibling = inspect(custom(writer.notification_name().full()));
    CHECK(sibling.layout == layout_kind::channel_notification);
    CHECK(sibling.notification_waiting == 0);
    writer.close();
    CHECK(inspect(local(name + "-channel")).channel.writer == writer_status::closed);

    auto n = notification::create(local(name + "-notification"));
    n.notify();
    n.notify();
    const inspection ni = inspect(local(name + "-notification"));
    CHECK(ni.layout == layout_kind::notification);
    CHECK(ni.notification_sequence == 2);
    CHECK(ni.notification_waiting == 0);
}

TEST_CASE("inspect: headers that openers would refuse are described, with the refusal", "[inspect]")
{
    const std::string name = test::unique_name("inspect-refused");
    auto m = memory_mapped_file::create(local(name), 100);
    const detail::unique_view view(::MapViewOfFile(m.native_handle(), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 4));
    REQUIRE(view);
    const std::uint32_t corrupt = 0x40000000u; // bit 30: no WinMMF process writes it
    std::memcpy(view.get(), &corrupt, 4);
    inspection i = inspect(local(name));
    CHECK(i.layout == layout_kind::compatible);
    CHECK(i.lock == lock_word_state::corrupt);
    CHECK(i.refusal == errc::corrupt_lock_word);
    const std::uint32_t unknown = 0xFF123456u; // a marker of no layout this version knows
    std::memcpy(view.get(), &unknown, 4);
    i = inspect(local(name));
    CHECK(i.layout == layout_kind::unknown_marker);
    CHECK(i.first_word == unknown);
    CHECK(i.refusal == errc::wrong_layout);
}
