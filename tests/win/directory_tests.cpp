// list_named_objects (directory.hpp) against objects another process made, in Local\ and
// Global\; and the winmmf_name_check option of a mapping's create and open (name.hpp's
// check_winmmf_name, whose boundaries tests/unit/winmmf_name_tests.cpp pins down).
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "directory_fixture.hpp"
#include <test_support.hpp>

#include <algorithm>
#include <string>
#include <system_error>
#include <vector>

using namespace winmmf;

namespace {

const named_object* find(const object_listing& l, const std::string& full_utf8)
{
    for (const named_object& o : l.objects) {
        if (o.name.to_utf8() == full_utf8) {
            return &o;
        }
    }
    return nullptr;
}

std::vector<std::string> names_starting(const object_listing& l, const std::string& prefix, std::string_view type)
{
    std::vector<std::string> found;
    for (const named_object& o : l.objects) {
        const std::string n = o.name.to_utf8();
        if (o.type == type && n.rfind(prefix, 0) == 0) {
            found.push_back(n);
        }
    }
    return found;
}

inspection inspect_listed(const named_object& o)
{
    std::error_code ec;
    inspection i = inspect(custom(o.name.full()), ec);
    CAPTURE(o.name.to_utf8(), ec.message());
    REQUIRE_FALSE(ec);
    return i;
}

std::string ascii(std::size_t n, char c = 'a') { return std::string(n, c); }

} // namespace

TEST_CASE("list_named_objects finds what another process made, with its type and layout", "[directory]")
{
    const std::string scope = GENERATE("local", "global");
    test::objects_in_another_process made(scope);
    const name_scope s = scope == "global" ? name_scope::global : name_scope::local;
    const object_listing l = list_named_objects(s);

    const std::uint32_t session = current_session_id();
    CHECK(l.directory == (s == name_scope::global || session == 0
                              ? std::wstring(L"\\BaseNamedObjects")
                              : L"\\Sessions\\" + std::to_wstring(session) + L"\\BaseNamedObjects"));
    CHECK(l.skipped == 0);
    for (const named_object& o : l.objects) {
        CHECK(o.name.scope() == s); // named as this process opens them: Local\x or Global\x
    }

    const named_object* compat = find(l, made.full("-compat"));
    REQUIRE(compat != nullptr);
    CHECK(compat->type == "Section");
    CHECK(compat->is_section());
    inspection i = inspect_listed(*compat);
    CHECK(i.layout == layout_kind::compatible);
    CHECK(i.lock == lock_word_state::read_locked); // the child holds a read lock
    CHECK(i.readers == 1);
    CHECK(i.capacity == detail::system_memory_info().page_size - 4);

    const named_object* robust = find(l, made.full("-robust"));
    REQUIRE(robust != nullptr);
    CHECK(robust->type == "Section");
    CHECK(inspect_listed(*robust).layout == layout_kind::robust);

    const named_object* chan = find(l, made.full("-chan"));
    REQUIRE(chan != nullptr);
    CHECK(chan->type == "Section");
    i = inspect_listed(*chan);
    CHECK(i.layout == layout_kind::frame_channel);
    CHECK(i.channel.slots == 4);
    CHECK(i.channel.max_frame_size == 1024);
    CHECK(i.channel.published == 1);
    CHECK(i.channel.writer == writer_status::active);

    REQUIRE(made.sibling().rfind(made.full("-chan#"), 0) == 0);
    const named_object* sibling = find(l, made.sibling());
    REQUIRE(sibling != nullptr);
    CHECK(sibling->type == "Section");
    CHECK(inspect_listed(*sibling).layout == layout_kind::channel_notification);

    const named_object* companion = find(l, made.full("-compat.notify"));
    REQUIRE(companion != nullptr);
    CHECK(companion->type == "Section");
    CHECK(inspect_listed(*companion).layout == layout_kind::notification);
    const named_object* note = find(l, made.full("-note"));
    REQUIRE(note != nullptr);
    CHECK(inspect_listed(*note).layout == layout_kind::notification);

    // The waiters' events: "<sibling>w<slot>", "<notification>#<nonce>w<slot>".
    const std::vector<std::string> channel_events = names_starting(l, made.sibling() + "w", "Event");
    CHECK(channel_events.size() == 1);
    CHECK(names_starting(l, made.full("-note#"), "Event").size() == 1);
    CHECK(names_starting(l, made.full("-compat.notify#"), "Event").size() == 1);
    for (const std::string& e : channel_events) {
        CHECK(find(l, e)->is_event());
    }

    // The symbolic links every such directory holds (Windows and Wine alike).
    for (const char* link : {"Global", "Local", "Session"}) {
        const named_object* o = find(l, made.prefix() + link);
        CAPTURE(link);
        REQUIRE(o != nullptr);
        CHECK(o->type == "SymbolicLink");
    }

    // Gone with the process that made them.
    REQUIRE(made.release() == 0u);
    const object_listing after = list_named_objects(s);
    CHECK(find(after, made.full("-compat")) == nullptr);
    CHECK(find(after, made.sibling()) == nullptr);
    CHECK(names_starting(after, made.sibling(), "Event").empty());
    CHECK(names_starting(after, made.full("-note#"), "Event").empty());
    CHECK(names_starting(after, made.full("-compat.notify#"), "Event").empty());
}

TEST_CASE("list_named_objects: a session's namespace by number, and what it refuses", "[directory]")
{
    const std::string name = test::unique_name("dir-session");
    auto m = memory_mapped_file::create(local(name), 100);
    const std::uint32_t id = current_session_id();

    std::error_code ec;
    const object_listing l = list_named_objects(name_scope::session, id, ec);
    REQUIRE_FALSE(ec);
    const std::string as_session = "Session\\" + std::to_string(id) + "\\" + name;
    const named_object* o = find(l, as_session);
    REQUIRE(o != nullptr);
    CHECK(o->name.scope() == name_scope::session);
    CHECK(o->name.session_id() == id);
    CHECK(inspect(custom(o->name.full())).layout == layout_kind::compatible); // Session\<own>\x is Local\x
    CHECK(find(list_named_objects(name_scope::local), "Local\\" + name) != nullptr);

    // custom names no directory.
    const object_listing none = list_named_objects(name_scope::custom, 0, ec);
    CHECK(ec == std::error_code(ERROR_INVALID_PARAMETER, std::system_category()));
    CHECK(none.objects.empty());
    CHECK_THROWS_AS(list_named_objects(name_scope::custom), std::system_error);

    // A session that does not exist: its directory is not there (Windows and Wine say
    // STATUS_OBJECT_NAME_NOT_FOUND or STATUS_OBJECT_PATH_NOT_FOUND).
    (void)list_named_objects(name_scope::session, 4000000, ec);
    CAPTURE(ec.value(), ec.message());
    CHECK((ec == std::error_code(ERROR_FILE_NOT_FOUND, std::system_category()) ||
           ec == std::error_code(ERROR_PATH_NOT_FOUND, std::system_category())));
    try {
        (void)list_named_objects(name_scope::session, 4000000);
        FAIL("no exception");
    } catch (const std::system_error& e) {
        CHECK(e.code() == ec);
        CHECK(std::string(e.what()).find("list_named_objects") != std::string::npos);
    }

    CHECK(named_object_directory(name_scope::global, 0, ec) == L"\\BaseNamedObjects");
    CHECK(named_object_directory(name_scope::session, 3, ec) == L"\\Sessions\\3\\BaseNamedObjects");
    CHECK(named_object_directory(name_scope::session, 0, ec) == L"\\BaseNamedObjects"); // session 0's Local\ .
}

TEST_CASE("list_named_objects sees a mapping the moment it exists and not after it is closed", "[directory]")
{
    const std::string name = test::unique_name("dir-lifetime");
    {
        auto m = memory_mapped_file::create(global(name), 100);
        const named_object* o = nullptr;
        const object_listing l = list_named_objects(name_scope::global);
        o = find(l, "Global\\" + name);
        REQUIRE(o != nullptr);
        CHECK(o->type == "Section");
    }
    CHECK(find(list_named_objects(name_scope::global), "Global\\" + name) == nullptr);
}

// ---- the winmmf_name_check option ---------------------------------------------------------------

TEST_CASE("winmmf_name_check: create refuses, before any kernel call, what a WinMMF peer cannot name", "[name][winmmf-name]")
{
    // Unique and ASCII, padded to the exact length: "<unique>-aaaa...".
    const auto sized = [](std::size_t bytes) {
        std::string n = test::unique_name("wn");
        REQUIRE(n.size() < bytes);
        return n + "-" + ascii(bytes - n.size() - 1);
    };
    const create_options checked{.winmmf_name_check = true};
    std::error_code ec;

    const std::string fits_local = sized(57);
    auto a = memory_mapped_file::create(local(fits_local), 100, checked, ec);
    CHECK_FALSE(ec);
    CHECK(a.is_open());

    const std::string long_local = sized(58);
    auto b = memory_mapped_file::create(local(long_local), 100, checked, ec);
    CHECK(ec == errc::winmmf_name_too_long);
    CHECK_FALSE(b.is_open());
    // Nothing was made: the kernel never saw the name.
    CHECK(find(list_named_objects(name_scope::local), "Local\\" + long_local) == nullptr);
    (void)memory_mapped_file::open(local(long_local), ec);
    CHECK(ec == errc::not_found);

    const std::string fits_global = sized(56);
    auto c = memory_mapped_file::create(global(fits_global), 100, checked, ec);
    CHECK_FALSE(ec);
    const std::string long_global = sized(57);
    (void)memory_mapped_file::create(global(long_global), 100, checked, ec);
    CHECK(ec == errc::winmmf_name_too_long);
    (void)memory_mapped_file::open_or_create(global(long_global), 100, checked, ec);
    CHECK(ec == errc::winmmf_name_too_long);
    CHECK(find(list_named_objects(name_scope::global), "Global\\" + long_global) == nullptr);

    const std::string cafe = test::unique_name("caf\xc3\xa9");
    (void)memory_mapped_file::create(local(cafe), 100, checked, ec);
    CHECK(ec == errc::winmmf_name_not_ascii);
    CHECK_THROWS_AS(memory_mapped_file::create(local(cafe), 100, checked), std::system_error);
    // The option is opt-in: without it the same names are fine, as before.
    auto d = memory_mapped_file::create(local(cafe), 100, ec);
    CHECK_FALSE(ec);
    auto e = memory_mapped_file::create(local(long_local), 100, ec);
    CHECK_FALSE(ec);
    // The robust layout takes the same options.
    (void)robust_memory_mapped_file::create(local(sized(58)), 100, checked, ec);
    CHECK(ec == errc::winmmf_name_too_long);
}

TEST_CASE("winmmf_name_check: open refuses a name a WinMMF peer cannot name, even one that exists", "[name][winmmf-name]")
{
    const std::string base = test::unique_name("wn-open");
    const std::string long_name = base + "-" + ascii(58 - base.size() - 1);
    auto existing = memory_mapped_file::create(local(long_name), 100);
    const open_options checked{.winmmf_name_check = true};
    std::error_code ec;
    auto refused = memory_mapped_file::open(local(long_name), checked, ec);
    CHECK(ec == errc::winmmf_name_too_long);
    CHECK_FALSE(refused.is_open());
    auto opened = memory_mapped_file::open(local(long_name), ec);
    CHECK_FALSE(ec);
    CHECK(opened.is_open());
    // Before the kernel: a missing name with the option is refused for its name, not not_found.
    (void)memory_mapped_file::open(local(long_name + "x"), checked, ec);
    CHECK(ec == errc::winmmf_name_too_long);
    (void)memory_mapped_file::open(local(u8"caf\u00e9"), checked, ec);
    CHECK(ec == errc::winmmf_name_not_ascii);
    // A name that fits opens with the option.
    const std::string short_name = test::unique_name("wn-ok");
    auto made = memory_mapped_file::create(global(short_name), 100);
    auto again = memory_mapped_file::open(global(short_name), checked, ec);
    CHECK_FALSE(ec);
    CHECK(again.is_open());
}
