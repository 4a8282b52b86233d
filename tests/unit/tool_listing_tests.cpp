// The platform-independent half of `winmmf list` (tools/winmmf/listing.hpp): which objects
// belong to which by the names the library gives them, how an open's failure is shown (an
// access-denied section is listed, not skipped), and JSON strings. Runs natively and under Wine.
#include "../../tools/winmmf/listing.hpp"

#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

using namespace winmmf;
using namespace winmmf::cli;

namespace {

const std::string nonce = "#0123456789abcdef";

std::vector<std::string> order(const std::vector<placed_object>& placed, const std::vector<listed_object>& shown)
{
    std::vector<std::string> out;
    for (const placed_object& p : placed) {
        out.push_back(std::string(2 * p.depth, ' ') + shown[p.index].name);
    }
    return out;
}

const placed_object& placement_of(const std::vector<placed_object>& placed, const std::vector<listed_object>& shown,
                                  const std::string& name)
{
    for (const placed_object& p : placed) {
        if (shown[p.index].name == name) {
            return p;
        }
    }
    FAIL("not placed: " << name);
    return placed.front();
}

} // namespace

TEST_CASE("list: the library's derived names are recognised exactly", "[tool][list]")
{
    CHECK(is_nonce_tag(nonce));
    CHECK_FALSE(is_nonce_tag("#0123456789ABCDEF")); // the library writes lowercase
    CHECK_FALSE(is_nonce_tag("#0123456789abcde"));
    CHECK_FALSE(is_nonce_tag("0123456789abcdef0"));
    CHECK(is_slot_number("0"));
    CHECK(is_slot_number("63"));
    CHECK_FALSE(is_slot_number("64"));
    CHECK_FALSE(is_slot_number("07"));
    CHECK_FALSE(is_slot_number(""));
    CHECK(sibling_base("cam0" + nonce) == "cam0");
    CHECK_FALSE(sibling_base(nonce)); // nothing before the tag
    CHECK_FALSE(sibling_base("cam0#xyz"));
    CHECK(waiter_prefix("cam0" + nonce + "w12") == "cam0" + nonce);
    CHECK_FALSE(waiter_prefix("cam0" + nonce + "w"));
    CHECK_FALSE(waiter_prefix("cam0" + nonce + "w64"));
    CHECK_FALSE(waiter_prefix("cam0w1"));
}

TEST_CASE("list: what belongs to an object is placed under it, by name", "[tool][list]")
{
    const std::vector<listed_object> all = {
        {"zeta", "Section"},
        {"cam0" + nonce + "w1", "Event"},
        {"data.notify", "Section"},
        {"cam0", "Section"},
        {"cam0" + nonce, "Section"},
        {"data", "Section"},
        {"cam0" + nonce + "w0", "Event"},
        {"note", "Section"},
        {"note#fedcba9876543210w3", "Event"},
        {"data.notify#00000000000000aaw0", "Event"},
        {"lonely.notify", "Section"},           // no "lonely": just a notification named so
        {"gone#1111111111111111", "Section"},   // a sibling whose channel is not there
        {"gone2#2222222222222222w5", "Event"},  // an event whose notification is not there
        {"Local", "SymbolicLink"},
    };
    const std::vector<placed_object> placed = arrange(all, all);
    CHECK(order(placed, all) == std::vector<std::string>{
                                    "Local",
                                    "cam0",
                                    "  cam0" + nonce,
                                    "    cam0" + nonce + "w0",
                                    "    cam0" + nonce + "w1",
                                    "data",
                                    "  data.notify",
                                    "    data.notify#00000000000000aaw0",
                                    "gone#1111111111111111",
                                    "gone2#2222222222222222w5",
                                    "lonely.notify",
                                    "note",
                                    "  note#fedcba9876543210w3",
                                    "zeta",
                                });
    const placed_object& sibling = placement_of(placed, all, "cam0" + nonce);
    CHECK(sibling.role == object_role::channel_sibling);
    CHECK(sibling.owner == "cam0");
    CHECK(sibling.owner_present);
    const placed_object& event = placement_of(placed, all, "cam0" + nonce + "w0");
    CHECK(event.role == object_role::waiter_event);
    CHECK(event.owner == "cam0" + nonce);
    const placed_object& note_event = placement_of(placed, all, "note#fedcba9876543210w3");
    CHECK(note_event.role == object_role::waiter_event);
    CHECK(note_event.owner == "note");
    const placed_object& companion = placement_of(placed, all, "data.notify");
    CHECK(companion.role == object_role::companion_notification);
    CHECK(companion.owner == "data");
    CHECK(placement_of(placed, all, "lonely.notify").role == object_role::none);
    const placed_object& orphan = placement_of(placed, all, "gone#1111111111111111");
    CHECK(orphan.role == object_role::channel_sibling);
    CHECK(orphan.owner == "gone");
    CHECK_FALSE(orphan.owner_present);
    CHECK(orphan.depth == 0);
    const placed_object& orphan_event = placement_of(placed, all, "gone2#2222222222222222w5");
    CHECK(orphan_event.role == object_role::waiter_event);
    CHECK(orphan_event.owner == "gone2");
    CHECK_FALSE(orphan_event.owner_present);
    // An event named like a sibling's, but a Section: not a waiter's event.
    const std::vector<listed_object> odd = {{"x" + nonce + "w0", "Section"}};
    CHECK(arrange(odd, odd).front().role == object_role::none);
    // A "sibling" that is an Event is not one either.
    const std::vector<listed_object> odd2 = {{"x", "Section"}, {"x" + nonce, "Event"}};
    CHECK(placement_of(arrange(odd2, odd2), odd2, "x" + nonce).role == object_role::none);
}

TEST_CASE("list: with some types left out, owners are still known, and what they own stands alone", "[tool][list]")
{
    const std::vector<listed_object> all = {
        {"cam0", "Section"},
        {"cam0" + nonce, "Section"},
        {"cam0" + nonce + "w0", "Event"},
    };
    const std::vector<listed_object> events = {all[2]};
    const std::vector<placed_object> placed = arrange(events, all);
    REQUIRE(placed.size() == 1);
    CHECK(placed[0].depth == 0);
    CHECK(placed[0].role == object_role::waiter_event);
    CHECK(placed[0].owner == "cam0" + nonce);
    CHECK(placed[0].owner_present);
    CHECK(arrange({}, all).empty());
}

TEST_CASE("list: a section this account may not open is listed as access denied, not skipped", "[tool][list]")
{
    // What inspect() reports for each case, as the tool decides from it.
    CHECK(classify_open({}) == open_outcome::opened);
    CHECK(classify_open(std::error_code(win32_error::access_denied, std::system_category())) ==
          open_outcome::access_denied);
    CHECK(classify_open(make_error_code(errc::not_found)) == open_outcome::gone);
    CHECK(classify_open(std::error_code(win32_error::file_not_found, std::system_category())) == open_outcome::gone);
    CHECK(classify_open(std::error_code(win32_error::invalid_handle, std::system_category())) == open_outcome::gone);
    CHECK(classify_open(make_error_code(errc::read_only)) == open_outcome::failed);
    CHECK(classify_open(std::error_code(1455, std::system_category())) == open_outcome::failed);
    // access_denied in another category is not Win32's.
    CHECK(classify_open(std::make_error_code(std::errc::permission_denied)) == open_outcome::failed);
    CHECK(outcome_key(open_outcome::access_denied) == "denied");
    CHECK(outcome_key(open_outcome::opened) == "ok");
}

TEST_CASE("list: JSON strings are escaped for any name", "[tool][list]")
{
    CHECK(json_string("Local\\x") == "\"Local\\\\x\"");
    CHECK(json_string("a\"b") == "\"a\\\"b\"");
    CHECK(json_string(std::string("a\0b", 3)) == "\"a\\u0000b\"");
    CHECK(json_string("\t\n\r\b\f") == "\"\\t\\n\\r\\b\\f\"");
    CHECK(json_string("\x1f\x7f") == "\"\\u001f\\u007f\"");
    CHECK(json_string("caf\xc3\xa9") == "\"caf\xc3\xa9\""); // UTF-8 as it is
    CHECK(json_string("") == "\"\"");
    CHECK(json_error({}) == "null");
    const std::string e = json_error(make_error_code(errc::not_found));
    CHECK(e.rfind("{\"category\":\"winmmf\",\"value\":12,\"message\":\"", 0) == 0);
    CHECK(role_key(object_role::channel_sibling) == "channel_sibling");
}
