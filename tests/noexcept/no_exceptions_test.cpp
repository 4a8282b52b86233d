// tests/noexcept/no_exceptions_test.cpp - the library built without exceptions (-fno-exceptions,
// or MSVC /EHs-c- with _HAS_EXCEPTIONS=0): the headers compile, the throwing overloads are gone,
// and the std::error_code& forms do their work against real mappings. No Catch2 (it needs
// exceptions): each check prints a line when it fails, and the exit code counts the failures.
#include <winmmf/winmmf.hpp>

#include <winmmf/detail/win32.hpp>
#include <winmmf/frame_channel.hpp>
#include <winmmf/frame_reader.hpp>
#include <winmmf/frame_writer.hpp>

#include <array>
#include <atomic>
#include <coroutine>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#if defined(__cpp_exceptions) || defined(_CPPUNWIND)
#error "tests/noexcept must be compiled with exceptions off (-fno-exceptions, or /EHs-c- for MSVC)"
#endif
static_assert(WINMMF_EXCEPTIONS == 0, "WINMMF_EXCEPTIONS must follow the compiler's -fno-exceptions");

// Every member of the class templates, instantiated: a throwing overload left outside
// #if WINMMF_EXCEPTIONS would fail to compile here (its throw helper is gone).
template class winmmf::basic_memory_mapped_file<winmmf::compatible_lock>;
template class winmmf::basic_memory_mapped_file<winmmf::robust_lock>;
template class winmmf::basic_memory_mapped_file<winmmf::no_lock>;
template class winmmf::detail::basic_guard<winmmf::compatible_lock, const std::byte, false>;
template class winmmf::detail::basic_guard<winmmf::compatible_lock, std::byte, true>;
template class winmmf::detail::basic_guard<winmmf::robust_lock, const std::byte, false>;
template class winmmf::detail::basic_guard<winmmf::robust_lock, std::byte, true>;

namespace {

using namespace std::chrono_literals;
using winmmf::errc;

// ---- what must not exist: the throwing forms ------------------------------------------------

template <class M>
concept opens_without_ec = requires(const winmmf::name_ref& n) { M::open(n); };
template <class M>
concept creates_without_ec = requires(const winmmf::name_ref& n) { M::create(n, std::size_t{64}); };
template <class M>
concept locks_without_ec = requires(M& m) { m.lock_write(); } || requires(const M& m) { m.lock_read(); };
template <class M>
concept reads_without_ec = requires(const M& m, std::span<std::byte> out) { m.read(std::size_t{0}, out); } ||
                           requires(const M& m) { m.template read<std::uint32_t>(std::size_t{0}); };
template <class G>
concept as_without_ec = requires(const G& g) { g.template as<std::uint32_t>(std::size_t{0}); } ||
                        requires(const G& g) { g.template as<std::uint32_t>(); };
template <class N, class X = winmmf::notification>
concept notification_without_ec = requires(const N& n) { X::open(n); } || requires(X& x) { x.notify(); };
template <class N>
concept frames_without_ec = requires(const N& n) { winmmf::frame_reader::open(n); } ||
                            requires(const N& n) { winmmf::frame_writer::create(n, winmmf::writer_options{}); };
template <class N>
concept inspects_without_ec = requires(const N& n) { winmmf::inspect(n); };
template <class S>
concept sddl_without_ec = requires(const S& s) { winmmf::security_descriptor::from_sddl(s); };

static_assert(!opens_without_ec<winmmf::memory_mapped_file>);
static_assert(!opens_without_ec<winmmf::robust_memory_mapped_file>);
static_assert(!creates_without_ec<winmmf::memory_mapped_file>);
static_assert(!locks_without_ec<winmmf::memory_mapped_file>);
static_assert(!reads_without_ec<winmmf::memory_mapped_file>);
static_assert(!as_without_ec<winmmf::write_guard>);
static_assert(!as_without_ec<winmmf::read_guard>);
static_assert(!notification_without_ec<winmmf::name_ref>);
static_assert(!frames_without_ec<winmmf::name_ref>);
static_assert(!inspects_without_ec<winmmf::name_ref>);
static_assert(!sddl_without_ec<std::string_view>);
static_assert(!std::is_default_constructible_v<winmmf::cancel_token>);
static_assert(!std::is_constructible_v<winmmf::object_name, winmmf::name_ref>);
// ... and what must: the error_code forms.
static_assert(requires(const winmmf::name_ref& n, std::error_code& ec) { winmmf::memory_mapped_file::open(n, ec); });
static_assert(std::is_constructible_v<winmmf::cancel_token, std::error_code&>);
// The coroutine forms that throw are gone too; those that set an error_code stay.
template <class R>
concept awaits_take_without_ec = requires(R& r, std::span<std::byte> out) { r.async_take(out, winmmf::acquire_mode::try_once()); };
static_assert(!awaits_take_without_ec<winmmf::frame_reader>);
static_assert(requires(winmmf::frame_reader& r, std::span<std::byte> out, std::error_code& ec) {
    r.async_take(out, winmmf::acquire_mode::try_once(), ec);
});

// ---- checking without a framework -----------------------------------------------------------

int failures = 0;
int checks = 0;

void check(bool ok, const char* what, int line, const std::error_code& ec)
{
    ++checks;
    if (!ok) {
        ++failures;
        std::printf("FAILED (line %d): %s [error_code: %s %d, %s]\n", line, what, ec.category().name(), ec.value(),
                    ec.message().c_str());
    }
}
#define CHECK(cond) check((cond), #cond, __LINE__, ec)

std::string unique(std::string_view tag)
{
    static unsigned counter = 0;
    return "winmmf-noexcept-" + std::to_string(::GetCurrentProcessId()) + "-" + std::to_string(counter++) + "-" +
           std::string(tag);
}

std::span<const std::byte> bytes_of(std::string_view text)
{
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

// ---- the checks -----------------------------------------------------------------------------

void names()
{
    std::error_code ec;
    const winmmf::object_name name = winmmf::object_name::make(winmmf::local("plain"), ec);
    CHECK(!ec && name.to_utf8() == "Local\\plain");
    const winmmf::object_name bad = winmmf::object_name::make(winmmf::local("a\\b"), ec);
    CHECK(ec == errc::name_contains_backslash && bad.empty());
    const std::uint32_t session = winmmf::current_session_id(ec);
    CHECK(!ec);
    static_cast<void>(session);
}

template <class Mapping>
void mapping_round_trip(const char* tag)
{
    std::error_code ec;
    const std::string text = unique(tag);
    const winmmf::name_ref name = winmmf::local(text);

    Mapping creator = Mapping::create(name, 4096, ec);
    CHECK(!ec && creator.is_open() && creator.created());
    Mapping again = Mapping::create(name, 4096, ec);
    CHECK(ec == errc::already_exists && !again.is_open());
    Mapping opener = Mapping::open(name, ec);
    CHECK(!ec && opener.is_open() && !opener.created());
    Mapping either = Mapping::open_or_create(name, 4096, ec);
    CHECK(!ec && either.is_open() && !either.created());
    Mapping too_big = Mapping::open_or_create(name, 1u << 20, ec);
    CHECK(ec == errc::too_large && !too_big.is_open());

    // Bytes: write through one object, read through another.
    creator.write(0, bytes_of("hello"), ec);
    CHECK(!ec);
    std::array<std::byte, 5> out{};
    opener.read(0, std::span<std::byte>(out), ec);
    CHECK(!ec && std::memcmp(out.data(), "hello", 5) == 0);
    opener.read(opener.capacity(), std::span<std::byte>(out), ec);
    CHECK(ec == errc::out_of_bounds);

    // Typed copies.
    creator.write(8, std::uint32_t{0xC0FFEE}, ec);
    CHECK(!ec);
    const auto value = opener.template read<std::uint32_t>(8, ec);
    CHECK(!ec && value == 0xC0FFEE);
    const auto past = opener.template read<std::uint64_t>(opener.capacity() - 4, ec);
    CHECK(ec == errc::out_of_bounds && past == 0);

    // Guards and in-place access.
    {
        auto guard = creator.lock_write(ec);
        CHECK(!ec && guard.owns_lock());
        std::uint32_t* slot = guard.template as<std::uint32_t>(16, ec);
        CHECK(!ec && slot != nullptr);
        if (slot != nullptr) {
            *slot = 42;
        }
        // The data are 4-byte aligned in either layout, so offset 2 is never aligned for 4 bytes.
        CHECK(guard.template as<std::uint32_t>(2, ec) == nullptr && ec == errc::misaligned);
        CHECK(guard.template as<std::uint32_t>(guard.size(), ec) == nullptr && ec == errc::out_of_bounds);

        auto refused = opener.lock_read(winmmf::acquire_mode::try_once(), ec);
        CHECK(ec && !refused.owns_lock());
        guard.unlock(ec);
        CHECK(!ec && !guard.owns_lock());
        guard.unlock(ec);
        CHECK(ec == errc::lock_violation);
    }
    {
        auto guard = opener.lock_read(ec);
        CHECK(!ec && guard.owns_lock());
        const std::uint32_t* slot = guard.template as<std::uint32_t>(16, ec);
        CHECK(!ec && slot != nullptr && *slot == 42);
        auto second = opener.try_lock_read(ec);
        CHECK(!ec && second.owns_lock());
        auto writer = creator.try_lock_write(ec);
        CHECK(ec && !writer.owns_lock());
    }

    creator.close(ec);
    CHECK(!ec && !creator.is_open());
    creator.write(0, bytes_of("x"), ec);
    CHECK(ec == errc::not_open);
}

void missing_names()
{
    std::error_code ec;
    const std::string text = unique("missing");
    const winmmf::memory_mapped_file m = winmmf::memory_mapped_file::open(winmmf::local(text), ec);
    CHECK(ec == errc::not_found && !m.is_open());
    const winmmf::robust_memory_mapped_file r = winmmf::robust_memory_mapped_file::open(winmmf::local(text), ec);
    CHECK(ec == errc::not_found && !r.is_open());
    const winmmf::notification n = winmmf::notification::open(winmmf::local(text), ec);
    CHECK(ec == errc::not_found && !n.is_open());
    const winmmf::frame_reader f = winmmf::frame_reader::open(winmmf::local(text), ec);
    CHECK(ec == errc::not_found && !f.is_open());
    const winmmf::inspection i = winmmf::inspect(winmmf::local(text), ec);
    CHECK(ec == errc::not_found);
    static_cast<void>(i);
}

void notifications()
{
    std::error_code ec;
    const std::string text = unique("notify");
    winmmf::notification creator = winmmf::notification::create(winmmf::local(text), ec);
    CHECK(!ec && creator.is_open() && creator.created());
    winmmf::notification opener = winmmf::notification::open(winmmf::local(text), ec);
    CHECK(!ec && opener.is_open() && !opener.created());
    winmmf::notification either = winmmf::notification::open_or_create(winmmf::local(text), ec);
    CHECK(!ec && either.is_open() && !either.created());

    const std::uint64_t seen = opener.sequence();
    opener.wait(seen, winmmf::acquire_mode::wait_for(20ms), ec);
    CHECK(ec == errc::timeout);
    creator.notify(ec);
    CHECK(!ec);
    const std::uint64_t now = opener.wait(seen, winmmf::acquire_mode::wait_for(5s), ec);
    CHECK(!ec && now == seen + 1);

    winmmf::cancel_token token(ec);
    CHECK(!ec);
    token.cancel();
    opener.wait(now, winmmf::acquire_mode::wait_for(60s).with_cancel(token), ec);
    CHECK(ec == errc::cancelled);

    opener.reclaim_abandoned_waiters(ec);
    CHECK(!ec);
}

void change_notification()
{
    std::error_code ec;
    const std::string text = unique("changes");
    winmmf::memory_mapped_file writer =
        winmmf::memory_mapped_file::create(winmmf::local(text), 256, winmmf::create_options{.change_notification = true}, ec);
    CHECK(!ec && writer.has_change_notification());
    winmmf::memory_mapped_file reader =
        winmmf::memory_mapped_file::open(winmmf::local(text), winmmf::open_options{.change_notification = true}, ec);
    CHECK(!ec && reader.has_change_notification());
    const std::uint64_t seen = reader.change_sequence();
    writer.write(0, bytes_of("changed"), ec);
    CHECK(!ec);
    const std::uint64_t now = reader.wait_for_change(seen, winmmf::acquire_mode::wait_for(5s), ec);
    CHECK(!ec && now != seen);

    winmmf::memory_mapped_file plain = winmmf::memory_mapped_file::open(winmmf::local(text), ec);
    CHECK(!ec);
    plain.wait_for_change(0, winmmf::acquire_mode::try_once(), ec);
    CHECK(ec == errc::no_change_notification);
}

void frames()
{
    std::error_code ec;
    const std::string text = unique("frames");
    const winmmf::name_ref name = winmmf::local(text);
    winmmf::frame_writer writer = winmmf::frame_writer::create(name, winmmf::writer_options{.max_frame_size = 64}, ec);
    CHECK(!ec && writer.is_open());
    const std::uint64_t first = writer.publish(bytes_of("frame one"), winmmf::frame_meta{.user_tag = 7}, ec);
    CHECK(!ec && first == 1);

    winmmf::frame_reader reader = winmmf::frame_reader::open(name, ec);
    CHECK(!ec && reader.is_open());
    std::array<std::byte, 64> out{};
    const winmmf::frame_info info = reader.take(std::span<std::byte>(out), winmmf::acquire_mode::wait_for(5s), ec);
    CHECK(!ec && info.sequence == 1 && info.size == 9 && info.meta.user_tag == 7);
    CHECK(std::memcmp(out.data(), "frame one", 9) == 0);
    winmmf::frame_info none;
    CHECK(!reader.try_take(std::span<std::byte>(out), none, ec) && !ec);
    reader.take(std::span<std::byte>(out), winmmf::acquire_mode::wait_for(20ms), ec);
    CHECK(ec == errc::timeout);

    // Zero-copy, both ways.
    winmmf::writable_frame frame = writer.begin_frame(ec);
    CHECK(!ec && static_cast<bool>(frame));
    if (frame) {
        std::memcpy(frame.bytes().data(), "two", 3);
    }
    const std::uint64_t second = frame.publish(3, winmmf::frame_meta{}, ec);
    CHECK(!ec && second == 2);
    const winmmf::frame_view view = reader.acquire(winmmf::acquire_mode::wait_for(5s), ec);
    CHECK(!ec && static_cast<bool>(view) && view.info().sequence == 2 && view.bytes().size() == 3);
    CHECK(view.bytes().size() == 3 && std::memcmp(view.bytes().data(), "two", 3) == 0);
    const winmmf::frame_view nothing = reader.try_acquire(ec);
    CHECK(!ec && !nothing);

    // Too big for the channel.
    const std::array<std::byte, 65> big{};
    writer.publish(std::span<const std::byte>(big), winmmf::frame_meta{}, ec);
    CHECK(ec == errc::too_large);

    // Another writer is refused while this one lives; after close the stream ends.
    winmmf::frame_writer second_writer = winmmf::frame_writer::open(name, ec);
    CHECK(ec == errc::channel_has_writer && !second_writer.is_open());
    writer.close(ec);
    CHECK(!ec && !writer.is_open());
    reader.take(std::span<std::byte>(out), winmmf::acquire_mode::wait_for(5s), ec);
    CHECK(ec == errc::end_of_stream);
    winmmf::frame_writer successor =
        winmmf::frame_writer::open_or_create(name, winmmf::writer_options{.max_frame_size = 64}, ec);
    CHECK(!ec && successor.is_open() && !successor.created());
}

void inspection()
{
    std::error_code ec;
    const std::string compatible = unique("inspect");
    const winmmf::memory_mapped_file m = winmmf::memory_mapped_file::create(winmmf::local(compatible), 100, ec);
    CHECK(!ec);
    const winmmf::inspection a = winmmf::inspect(winmmf::local(compatible), ec);
    CHECK(!ec && a.layout == winmmf::layout_kind::compatible && a.lock == winmmf::lock_word_state::free);

    const std::string robust = unique("inspect-robust");
    const winmmf::robust_memory_mapped_file r = winmmf::robust_memory_mapped_file::create(winmmf::local(robust), 100, ec);
    CHECK(!ec);
    const winmmf::inspection b = winmmf::inspect(winmmf::local(robust), ec);
    CHECK(!ec && b.layout == winmmf::layout_kind::robust);
}

void security()
{
    std::error_code ec;
    const winmmf::security_descriptor sd = winmmf::security_descriptor::from_sddl("D:P(A;;GA;;;WD)", ec);
    CHECK(!ec && static_cast<bool>(sd) && sd.attributes() != nullptr);
    const winmmf::security_descriptor wide = winmmf::security_descriptor::from_sddl(L"D:P(A;;GA;;;WD)", ec);
    CHECK(!ec && static_cast<bool>(wide));
    const winmmf::security_descriptor bad = winmmf::security_descriptor::from_sddl("not SDDL", ec);
    CHECK(ec && !bad);
    const winmmf::security_descriptor preset =
        winmmf::security_descriptor::from_preset(winmmf::security_preset::current_user_only, ec);
    CHECK(!ec && static_cast<bool>(preset));
    const std::wstring back = sd.to_sddl(ec);
    CHECK(!ec && !back.empty());

    // Used for a real mapping.
    const std::string text = unique("secured");
    const winmmf::memory_mapped_file m = winmmf::memory_mapped_file::create(
        winmmf::local(text), 64, winmmf::create_options{.security_attributes = sd.attributes()}, ec);
    CHECK(!ec && m.is_open());
}

void directory()
{
    std::error_code ec;
    const std::string text = unique("listed");
    const winmmf::memory_mapped_file m = winmmf::memory_mapped_file::create(winmmf::local(text), 64, ec);
    CHECK(!ec);
    const winmmf::object_listing listing = winmmf::list_named_objects(winmmf::name_scope::local, ec);
    CHECK(!ec);
    bool found = false;
    for (const winmmf::named_object& o : listing.objects) {
        found = found || o.name.to_utf8() == "Local\\" + text;
    }
    CHECK(found);
    winmmf::query_privilege(winmmf::create_global_privilege_name, ec);
    CHECK(!ec);
}

// A coroutine type of our own: the awaitables need no framework.
struct fire_and_forget {
    struct promise_type {
        fire_and_forget get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept {}
    };
};

fire_and_forget await_frame(winmmf::frame_reader& r, std::span<std::byte> out, std::error_code& result,
                            std::atomic<bool>& finished)
{
    const winmmf::frame_info info = co_await r.async_take(out, winmmf::acquire_mode::wait_for(30s), result);
    (void)info;
    finished.store(true);
}

template <class Pred>
bool soon(Pred pred)
{
    for (int i = 0; i < 3000 && !pred(); ++i) {
        ::Sleep(10);
    }
    return pred();
}

void async_waits()
{
    std::error_code ec;
    const std::string text = unique("async");
    winmmf::notification n = winmmf::notification::create(winmmf::local(text + "-n"), ec);
    CHECK(!ec);
    std::atomic<int> woken{0};
    std::error_code wait_result = make_error_code(errc::timeout);
    winmmf::async_operation op =
        n.async_wait(0, winmmf::acquire_mode::wait_for(30s), [&](const std::error_code& e, std::uint64_t) noexcept {
            wait_result = e;
            woken.fetch_add(1);
        });
    CHECK(soon([&] { return n.waiting() == 1; }));
    n.notify(ec);
    CHECK(soon([&] { return woken.load() == 1; }) && !wait_result);

    winmmf::frame_writer w = winmmf::frame_writer::create(winmmf::local(text), winmmf::writer_options{.max_frame_size = 64}, ec);
    CHECK(!ec);
    winmmf::frame_reader r = winmmf::frame_reader::open(winmmf::local(text), ec);
    CHECK(!ec);
    std::array<std::byte, 64> frame{};
    std::error_code take_result = make_error_code(errc::timeout);
    std::atomic<bool> finished{false};
    await_frame(r, frame, take_result, finished);
    CHECK(soon([&] { return r.waiting() == 1; }));
    const std::array<std::byte, 4> payload{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    w.publish(payload, winmmf::frame_meta{}, ec);
    CHECK(!ec);
    CHECK(soon([&] { return finished.load(); }) && !take_result && frame[3] == std::byte{4});
}

} // namespace

int main()
{
    names();
    mapping_round_trip<winmmf::memory_mapped_file>("compatible");
    mapping_round_trip<winmmf::robust_memory_mapped_file>("robust");
    missing_names();
    notifications();
    change_notification();
    frames();
    inspection();
    security();
    directory();
    async_waits();
    std::printf("no-exceptions build: %d of %d checks passed\n", checks - failures, checks);
    return failures == 0 ? 0 : 1;
}
