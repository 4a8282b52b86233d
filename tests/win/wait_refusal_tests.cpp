// A wait that runs out says why: errc::timeout (or max_tries_reached) stays the error, and the
// reason the lock refused its last attempt is kept for the caller (last_wait_refusal) and put
// into the throwing overloads' messages.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <string>

using namespace winmmf;
using namespace std::chrono_literals;

namespace {

// The lock word of a mapping, written from outside the lock (as a peer or a crash leaves it).
void set_word(const memory_mapped_file& m, protocol::lock_word::word_type w)
{
    const detail::unique_view view(::MapViewOfFile(m.native_handle(), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 4));
    REQUIRE(view);
    std::atomic_ref<protocol::lock_word::word_type>(*reinterpret_cast<protocol::lock_word::word_type*>(view.get())).store(w);
}

} // namespace

TEST_CASE("a lock wait that runs out tells the last reason it was refused", "[lock][timeout]")
{
    const std::string name = test::unique_name("refusal");
    auto m = memory_mapped_file::create(local(name), 100);
    std::error_code ec;

    // A creator that never finished (WinMMF's "uninitialized").
    set_word(m, protocol::lock_word::uninitialized_value);
    (void)m.lock_read(acquire_mode::wait_for(30ms), ec);
    CHECK(ec == errc::timeout);
    CHECK(last_wait_refusal() == errc::uninitialized);
    (void)m.lock_write(acquire_mode::spin(100), ec);
    CHECK(ec == errc::max_tries_reached);
    CHECK(last_wait_refusal() == errc::uninitialized);
    try {
        (void)m.lock_read(acquire_mode::wait_for(30ms));
        FAIL("no exception");
    } catch (const std::system_error& e) {
        CHECK(e.code() == errc::timeout);
        const std::string what = e.what();
        CAPTURE(what);
        CHECK(what.find("last refused") != std::string::npos);
        CHECK(what.find("uninitialized") != std::string::npos);
    }

    // WinMMF's reader count full.
    set_word(m, protocol::lock_word::max_readers);
    (void)m.lock_read(acquire_mode::wait_for(30ms), ec);
    CHECK(ec == errc::timeout);
    CHECK(last_wait_refusal() == errc::max_readers);
    (void)m.lock_write(acquire_mode::wait_for(30ms), ec);
    CHECK(last_wait_refusal() == errc::read_locked);

    // A robust lock held by a live writer elsewhere (here, another handle of this process).
    auto r = robust_memory_mapped_file::create(local(name + "-robust"), 100);
    auto held = r.lock_write();
    auto other = robust_memory_mapped_file::open(local(name + "-robust"));
    (void)other.lock_read(acquire_mode::wait_for(30ms), ec);
    CHECK(ec == errc::timeout);
    CHECK(last_wait_refusal() == errc::write_locked);
}
