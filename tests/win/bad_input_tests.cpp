// Bad input, as a table. Every row runs against two live "victim" mappings - one
// compatible_lock, one robust_lock, both full of known data - and must fail with its own,
// specific error. After every row, every byte of both sections (lock headers included) must be
// exactly as before: bad input is refused before anything shared is touched.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <array>
#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
namespace rw = winmmf::protocol::robust_word;

namespace {

constexpr std::size_t victim_size = 3000;

// A read-only raw view of a whole section: how the test sees "shared data" without going
// through the library under test, and what keeps the section alive while rows close or move
// the victims.
class raw_section {
public:
    explicit raw_section(const std::string& full_name)
    {
        section_ = detail::unique_handle(::OpenFileMappingW(FILE_MAP_READ, FALSE, test::widen(full_name).c_str()));
        REQUIRE(section_);
        view_ = detail::unique_view(::MapViewOfFile(section_.get(), FILE_MAP_READ, 0, 0, 0));
        REQUIRE(view_);
        std::error_code ec;
        size_ = detail::view_size(view_.get(), ec);
        REQUIRE_FALSE(ec);
    }
    std::vector<std::byte> bytes() const { return {view_.get(), view_.get() + size_}; }

private:
    detail::unique_handle section_;
    detail::unique_view view_;
    std::size_t size_ = 0;
};

// Writes into a section behind the library's back, to plant impossible lock states.
class raw_writer {
public:
    explicit raw_writer(const std::string& full_name)
    {
        section_ = detail::unique_handle(
            ::OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, test::widen(full_name).c_str()));
        REQUIRE(section_);
        view_ = detail::unique_view(::MapViewOfFile(section_.get(), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0));
        REQUIRE(view_);
    }
    template <class T>
    T exchange(std::size_t offset, T value)
    {
        T old{};
        std::memcpy(&old, view_.get() + offset, sizeof old);
        std::memcpy(view_.get() + offset, &value, sizeof value);
        return old;
    }

private:
    detail::unique_handle section_;
    detail::unique_view view_;
};

struct victims {
    std::string compat_name = test::unique_name("victim-compat");
    std::string robust_name = test::unique_name("victim-robust");
    memory_mapped_file compat = memory_mapped_file::create(local(compat_name), victim_size);
    robust_memory_mapped_file robust = robust_memory_mapped_file::create(local(robust_name), victim_size);
    raw_section compat_raw{"Local\\" + compat_name};
    raw_section robust_raw{"Local\\" + robust_name};

    victims()
    {
        std::vector<std::byte> data(compat.capacity());
        for (std::size_t i = 0; i < data.size(); ++i) {
            data[i] = static_cast<std::byte>(i * 7 + 3);
        }
        compat.write(0, data);
        robust.write(0, std::span(data).first(robust.capacity()));
    }
    std::vector<std::byte> snapshot() const
    {
        auto all = compat_raw.bytes();
        const auto r = robust_raw.bytes();
        all.insert(all.end(), r.begin(), r.end());
        return all;
    }
};

struct row {
    const char* description;
    std::function<std::error_code(victims&)> action;
    std::error_code expected;
};

std::error_code win32(DWORD code) { return {static_cast<int>(code), std::system_category()}; }

template <class Mapping>
std::error_code write_at(Mapping& m, std::size_t offset, std::size_t length)
{
    std::vector<std::byte> junk(length, std::byte{0xEE});
    std::error_code ec;
    m.write(offset, junk, ec);
    return ec;
}

template <class Mapping>
std::error_code read_at(const Mapping& m, std::size_t offset, std::size_t length)
{
    std::vector<std::byte> out(length);
    std::error_code ec;
    m.read(offset, out, ec);
    return ec;
}

template <class Mapping>
std::error_code create(const name_ref& name, std::size_t size)
{
    std::error_code ec;
    auto m = Mapping::create(name, size, ec);
    if (!ec && m.is_open()) {
        FAIL_CHECK("create succeeded");
    }
    return ec;
}

template <class Mapping>
std::error_code open(const name_ref& name, const open_options& options = {})
{
    std::error_code ec;
    auto m = Mapping::open(name, options, ec);
    if (!ec) {
        FAIL_CHECK("open succeeded");
    }
    return ec;
}

template <class Mapping>
std::error_code open_or_create(const name_ref& name, std::size_t size)
{
    std::error_code ec;
    auto m = Mapping::open_or_create(name, size, ec);
    if (!ec) {
        FAIL_CHECK("open_or_create succeeded");
    }
    return ec;
}

// Plants `value` at `offset` of the section, runs `op`, checks that `op` left the planted
// state exactly as it was, and puts the original back.
template <class T, class Op>
std::error_code with_planted(const std::string& full_name, std::size_t offset, T value, Op op)
{
    raw_writer w(full_name);
    raw_section look(full_name);
    const T original = w.exchange(offset, value);
    const auto planted = look.bytes();
    const std::error_code ec = op();
    CHECK(look.bytes() == planted);
    w.exchange(offset, original);
    return ec;
}

// Where the robust header keeps reader slot i, and the summary word that holds its bit.
constexpr std::size_t slot_offset(std::size_t i) { return offsetof(rw::header, readers) + 8 * i; }
constexpr std::size_t summary_offset(std::size_t i) { return offsetof(rw::header, occupied) + 8 * rw::summary_index(i); }

// A section made without winmmf, whose first word no winmmf policy writes.
std::error_code open_garbage_section(bool robust)
{
    const std::string name = test::unique_name("garbage");
    const detail::unique_handle section(::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0,
                                                            8192, test::widen("Local\\" + name).c_str()));
    REQUIRE(section);
    {
        raw_writer w("Local\\" + name);
        w.exchange<std::uint32_t>(0, 0x12345678u);
        w.exchange<std::uint32_t>(100, 0xCAFEF00Du);
    }
    raw_section look("Local\\" + name);
    const auto before = look.bytes();
    const std::error_code ec = robust ? open<robust_memory_mapped_file>(local(name))
                                      : open<memory_mapped_file>(local(name));
    CHECK(look.bytes() == before);
    return ec;
}

std::vector<row> table()
{
    const std::string long_name(100000, 'n');
    const std::string one_too_long(max_name_length - 6 + 1, 'x'); // "Local\" is 6 units
    const std::string just_fits(max_name_length - 6, 'y');
    const char16_t lone_high[] = {u'a', 0xD800, u'b'};
    const char16_t lone_low[] = {0xDC00, u'a'};
    const char32_t beyond_unicode[] = {U'a', 0x110000};
    static const HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, L"Local\\winmmf-bad-input-event");

    return {
        // ---- names --------------------------------------------------------------------------------
        {"create: empty name", [](victims&) { return create<memory_mapped_file>(local(""), 100); }, errc::empty_name},
        {"open: empty name", [](victims&) { return open<memory_mapped_file>(local("")); }, errc::empty_name},
        {"robust create: empty global name", [](victims&) { return create<robust_memory_mapped_file>(global(""), 100); }, errc::empty_name},
        {"create: name one unit over MAX_PATH - 1", [=](victims&) { return create<memory_mapped_file>(local(one_too_long), 100); }, errc::name_too_long},
        {"create: 100,000-character name", [=](victims&) { return create<memory_mapped_file>(local(long_name), 100); }, errc::name_too_long},
        {"open: longest valid name is tried, not refused", [=](victims&) { return open<memory_mapped_file>(local(just_fits)); }, errc::not_found},
        {"create: lone UTF-8 continuation byte", [](victims&) { return create<memory_mapped_file>(local("a\x80"), 100); }, errc::invalid_utf8},
        {"create: overlong UTF-8 for '/'", [](victims&) { return create<memory_mapped_file>(local("\xC0\xAF"), 100); }, errc::invalid_utf8},
        {"create: UTF-8-encoded surrogate", [](victims&) { return create<memory_mapped_file>(local("\xED\xA0\x80"), 100); }, errc::invalid_utf8},
        {"create: truncated UTF-8 sequence", [](victims&) { return create<memory_mapped_file>(local("abc\xE2\x82"), 100); }, errc::invalid_utf8},
        {"create: UTF-8 beyond U+10FFFF", [](victims&) { return create<memory_mapped_file>(local("\xF4\x90\x80\x80"), 100); }, errc::invalid_utf8},
        {"create: unpaired high surrogate (UTF-16)", [=](victims&) { return create<memory_mapped_file>(local(std::u16string_view(lone_high, 3)), 100); }, errc::invalid_utf16},
        {"create: lone low surrogate (UTF-16)", [=](victims&) { return create<memory_mapped_file>(local(std::u16string_view(lone_low, 2)), 100); }, errc::invalid_utf16},
        {"create: UTF-32 beyond U+10FFFF", [=](victims&) { return create<memory_mapped_file>(local(std::u32string_view(beyond_unicode, 2)), 100); }, errc::invalid_utf16},
        {"create: embedded NUL", [](victims&) { return create<memory_mapped_file>(local(std::string_view("ab\0cd", 5)), 100); }, errc::name_contains_nul},
        {"open: victim's name + NUL + tail is not truncated to the victim", [](victims& v) {
             const std::string n = v.compat_name + std::string(1, '\0') + "tail";
             return open<memory_mapped_file>(local(std::string_view(n)));
         }, errc::name_contains_nul},
        {"create: backslash in a Local\\ name", [](victims&) { return create<memory_mapped_file>(local("a\\b"), 100); }, errc::name_contains_backslash},
        {"create: a namespace smuggled into a Global\\ name", [](victims&) { return create<memory_mapped_file>(global("Local\\x"), 100); }, errc::name_contains_backslash},
        {"open: backslash in a Session\\1\\ name", [](victims&) { return open<robust_memory_mapped_file>(session(1, "x\\y")); }, errc::name_contains_backslash},
        {"create: bad namespace Bogus\\", [](victims&) { return create<memory_mapped_file>(custom("Bogus\\" + test::unique_name("ns")), 100); }, win32(ERROR_PATH_NOT_FOUND)},
        {"create: name held by an event", [](victims&) {
             REQUIRE(event != nullptr);
             return create<memory_mapped_file>(local("winmmf-bad-input-event"), 100);
         }, win32(ERROR_INVALID_HANDLE)},
        {"create: the victim's own name", [](victims& v) { return create<memory_mapped_file>(local(v.compat_name), 100); }, errc::already_exists},
        {"robust create: the compatible victim's name", [](victims& v) { return create<robust_memory_mapped_file>(local(v.compat_name), 1 << 20); }, errc::already_exists},

        // ---- sizes --------------------------------------------------------------------------------
        {"create: size 0", [](victims&) { return create<memory_mapped_file>(local(test::unique_name("z")), 0); }, errc::zero_size},
        {"robust create: size 0", [](victims&) { return create<robust_memory_mapped_file>(local(test::unique_name("z")), 0); }, errc::zero_size},
        {"create: SIZE_MAX", [](victims&) { return create<memory_mapped_file>(local(test::unique_name("s")), SIZE_MAX); }, errc::size_overflow},
        {"create: SIZE_MAX - 4 (fits the header, overflows the rounding)", [](victims&) { return create<memory_mapped_file>(local(test::unique_name("s")), SIZE_MAX - 4); }, errc::size_overflow},
        {"create: one byte past the last page that fits", [](victims&) { return create<memory_mapped_file>(local(test::unique_name("s")), SIZE_MAX - 4095 - 4 + 1); }, errc::size_overflow},
        {"robust create: SIZE_MAX - 1023 (overflows with the 1 KiB header)", [](victims&) { return create<robust_memory_mapped_file>(local(test::unique_name("s")), SIZE_MAX - 1023); }, errc::size_overflow},
        {"open_or_create: larger than the existing mapping", [](victims& v) { return open_or_create<memory_mapped_file>(local(v.compat_name), v.compat.capacity() + 1); }, errc::too_large},
        {"robust open_or_create: larger than the existing mapping", [](victims& v) { return open_or_create<robust_memory_mapped_file>(local(v.robust_name), v.robust.capacity() + 1); }, errc::too_large},
        {"open: expected_size larger than the mapping", [](victims& v) { return open<memory_mapped_file>(local(v.compat_name), {.expected_size = v.compat.capacity() + 1}); }, errc::too_large},
        {"open_or_create: size 0 on an existing mapping", [](victims& v) { return open_or_create<memory_mapped_file>(local(v.compat_name), 0); }, errc::zero_size},

        // ---- offsets and lengths -----------------------------------------------------------------
        {"write: one byte at capacity", [](victims& v) { return write_at(v.compat, v.compat.capacity(), 1); }, errc::out_of_bounds},
        {"write: whole capacity at offset 1", [](victims& v) { return write_at(v.compat, 1, v.compat.capacity()); }, errc::out_of_bounds},
        {"write: offset SIZE_MAX wraps around", [](victims& v) { return write_at(v.compat, SIZE_MAX, 2); }, errc::out_of_bounds},
        {"read: offset SIZE_MAX - 1, length 2 wraps around", [](victims& v) { return read_at(v.compat, SIZE_MAX - 1, 2); }, errc::out_of_bounds},
        {"read: capacity + 1 bytes", [](victims& v) { return read_at(v.compat, 0, v.compat.capacity() + 1); }, errc::out_of_bounds},
        {"write: zero bytes past the end", [](victims& v) { return write_at(v.compat, v.compat.capacity() + 1, 0); }, errc::out_of_bounds},
        {"read: zero bytes at the very end is fine", [](victims& v) { return read_at(v.compat, v.compat.capacity(), 0); }, {}},
        {"robust write: offset wraps around", [](victims& v) { return write_at(v.robust, SIZE_MAX - 7, 16); }, errc::out_of_bounds},
        {"robust write: one byte past capacity (the header is not reachable)", [](victims& v) { return write_at(v.robust, v.robust.capacity(), 1); }, errc::out_of_bounds},

        // ---- locks --------------------------------------------------------------------------------
        {"compatible: unlock without lock", [](victims& v) { std::error_code ec; v.compat.lock_policy().unlock(ec); return ec; }, errc::lock_violation},
        {"compatible: unlock_shared without lock", [](victims& v) { std::error_code ec; v.compat.lock_policy().unlock_shared(ec); return ec; }, errc::lock_violation},
        {"compatible: double unlock of a guard", [](victims& v) {
             auto g = v.compat.lock_write();
             g.unlock();
             std::error_code ec;
             g.unlock(ec);
             return ec;
         }, errc::lock_violation},
        {"robust: unlock without lock", [](victims& v) { std::error_code ec; v.robust.lock_policy().unlock(ec); return ec; }, errc::lock_violation},
        {"robust: unlock_shared without lock", [](victims& v) { std::error_code ec; v.robust.lock_policy().unlock_shared(ec); return ec; }, errc::lock_violation},
        {"robust: double unlock of a read guard", [](victims& v) {
             auto g = v.robust.lock_read();
             g.unlock();
             std::error_code ec;
             g.unlock(ec);
             return ec;
         }, errc::lock_violation},
        {"read-only view: write lock", [](victims& v) {
             auto ro = memory_mapped_file::open(local(v.compat_name), {.access = access_mode::read_only});
             std::error_code ec;
             auto g = ro.lock_write(ec);
             return ec;
         }, errc::read_only},
        {"read-only view: read lock (it would write the lock word)", [](victims& v) {
             auto ro = memory_mapped_file::open(local(v.compat_name), {.access = access_mode::read_only});
             std::error_code ec;
             auto g = ro.lock_read(ec);
             return ec;
         }, errc::read_only},
        {"read-only robust view: read lock (it would write a reader slot)", [](victims& v) {
             auto ro = robust_memory_mapped_file::open(local(v.robust_name), {.access = access_mode::read_only});
             std::error_code ec;
             auto g = ro.lock_read(ec);
             return ec;
         }, errc::read_only},
        {"read-only view: write()", [](victims& v) {
             auto ro = robust_memory_mapped_file::open(local(v.robust_name), {.access = access_mode::read_only});
             return write_at(ro, 0, 4);
         }, errc::read_only},
        {"compatible: lock word in an impossible state, lock_read", [](victims& v) {
             return with_planted<std::uint32_t>("Local\\" + v.compat_name, 0, 0x80000005u, [&] {
                 std::error_code ec;
                 auto g = v.compat.lock_read(acquire_mode::wait_for(10s), ec);
                 return ec;
             });
         }, errc::corrupt_lock_word},
        {"compatible: lock word in an impossible state, open", [](victims& v) {
             return with_planted<std::uint32_t>("Local\\" + v.compat_name, 0, 0x40000000u,
                                               [&] { return open<memory_mapped_file>(local(v.compat_name)); });
         }, errc::corrupt_lock_word},
        {"robust: writer word with held but no owner, lock_write", [](victims& v) {
             return with_planted<std::uint64_t>("Local\\" + v.robust_name, 16, rw::held_bit, [&] {
                 std::error_code ec;
                 auto g = v.robust.lock_write(acquire_mode::wait_for(10s), ec);
                 return ec;
             });
         }, errc::corrupt_lock_word},
        {"robust: reader slot with flag bits and its summary bit, lock_write", [](victims& v) {
             const std::string full = "Local\\" + v.robust_name;
             return with_planted<std::uint64_t>(full, slot_offset(17), rw::dirty_bit | 1234u, [&] {
                 return with_planted<std::uint64_t>(full, summary_offset(17), rw::summary_bit(17), [&] {
                     std::error_code ec;
                     auto g = v.robust.lock_write(acquire_mode::wait_for(10s), ec);
                     return ec;
                 });
             });
         }, errc::corrupt_lock_word},
        {"robust: reader slot with flag bits, summary bit clear, open", [](victims& v) {
             return with_planted<std::uint64_t>("Local\\" + v.robust_name, slot_offset(17), rw::dirty_bit | 1234u,
                                               [&] { return open<robust_memory_mapped_file>(local(v.robust_name)); });
         }, errc::corrupt_lock_word},
        {"robust: reader slot with no process id, a waiting lock_read", [](victims& v) {
             // The lock is held by a writer of this very process, so the reader waits, and its
             // first liveness check reads every slot.
             const std::string full = "Local\\" + v.robust_name;
             return with_planted<std::uint64_t>(full, slot_offset(99), std::uint64_t{5} << 32, [&] {
                 const auto writer = rw::pack(detail::current_robust_identity()) | rw::held_bit;
                 return with_planted<std::uint64_t>(full, 16, writer, [&] {
                     std::error_code ec;
                     auto g = v.robust.lock_read(acquire_mode::wait_for(10s), ec);
                     return ec;
                 });
             });
         }, errc::corrupt_lock_word},
        {"robust: summary bit past the last reader slot, lock_write", [](victims& v) {
             return with_planted<std::uint64_t>("Local\\" + v.robust_name, 40, std::uint64_t{1} << 60, [&] {
                 std::error_code ec;
                 auto g = v.robust.lock_write(acquire_mode::wait_for(10s), ec);
                 return ec;
             });
         }, errc::corrupt_lock_word},
        {"robust: init word of another robust layout version, open", [](victims& v) {
             const std::uint64_t version1 = rw::ready_family | (std::uint64_t{1} << 16) | rw::reader_slots;
             return with_planted<std::uint64_t>("Local\\" + v.robust_name, 8, version1,
                                               [&] { return open<robust_memory_mapped_file>(local(v.robust_name)); });
         }, errc::unsupported_layout_version},
        {"robust: init word no step writes, open", [](victims& v) {
             return with_planted<std::uint64_t>("Local\\" + v.robust_name, 8, rw::held_bit | 99u,
                                               [&] { return open<robust_memory_mapped_file>(local(v.robust_name)); });
         }, errc::corrupt_lock_word},

        // ---- the wrong policy, or not a winmmf mapping at all --------------------------------------
        {"compatible open of a robust mapping", [](victims& v) { return open<memory_mapped_file>(local(v.robust_name)); }, errc::wrong_lock_policy},
        {"no_lock open of a robust mapping", [](victims& v) { return open<basic_memory_mapped_file<no_lock>>(local(v.robust_name)); }, errc::wrong_lock_policy},
        {"robust open of a WinMMF-layout mapping", [](victims& v) { return open<robust_memory_mapped_file>(local(v.compat_name)); }, errc::wrong_lock_policy},
        {"robust open_or_create of a WinMMF-layout mapping", [](victims& v) { return open_or_create<robust_memory_mapped_file>(local(v.compat_name), 10); }, errc::wrong_lock_policy},
        {"compatible open of a section that is not winmmf's", [](victims&) { return open_garbage_section(false); }, errc::corrupt_lock_word},
        {"robust open of a section that is not winmmf's", [](victims&) { return open_garbage_section(true); }, errc::not_winmmf_mapping},

        // ---- use after close, use after move -------------------------------------------------------
        {"read after close", [](victims& v) { v.compat.close(); return read_at(v.compat, 0, 1); }, errc::not_open},
        {"write after move", [](victims& v) { auto moved = std::move(v.compat); return write_at(v.compat, 0, 1); }, errc::not_open},
        {"lock_read after close", [](victims& v) {
             v.compat.close();
             std::error_code ec;
             auto g = v.compat.lock_read(ec);
             return ec;
         }, errc::not_open},
        {"robust lock_write after move", [](victims& v) {
             auto moved = std::move(v.robust);
             std::error_code ec;
             auto g = v.robust.lock_write(ec);
             return ec;
         }, errc::not_open},
        {"robust read after close", [](victims& v) { v.robust.close(); return read_at(v.robust, 0, 1); }, errc::not_open},
        {"force_unlock_stale_lock after close", [](victims& v) {
             v.compat.close();
             std::error_code ec;
             (void)v.compat.force_unlock_stale_lock(ec);
             return ec;
         }, errc::not_open},
        {"force_unlock_stale_lock through a read-only view", [](victims& v) {
             auto ro = memory_mapped_file::open(local(v.compat_name), {.access = access_mode::read_only});
             std::error_code ec;
             (void)ro.force_unlock_stale_lock(ec);
             return ec;
         }, errc::read_only},
    };
}

} // namespace

TEST_CASE("bad input: each case gets its own error and leaves shared data unchanged", "[bad_input]")
{
    const auto rows = table();
    CHECK(rows.size() >= 40);
    for (const row& r : rows) {
        CAPTURE(r.description);
        victims v;
        const auto before = v.snapshot();
        const std::error_code ec = r.action(v);
        CHECK(ec == r.expected);
        CAPTURE(ec.message());
        CHECK(v.snapshot() == before);
    }
}
