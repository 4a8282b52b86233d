// `winmmf list`, driven as a real process against objects another process made, in Local\ and
// Global\: every kind found with its type and layout, what belongs to what shown under it, the
// --json document parsed back, and a section this account may not open listed as denied.
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "directory_fixture.hpp"
#include <test_support.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace winmmf;

namespace {

// ---- the tool -----------------------------------------------------------------------------------

std::wstring tool_path() { return test::executable_dir() + L"..\\bin\\winmmf.exe"; }

struct result {
    long code = -1;
    std::string out;
    std::string err;
};

result run_tool(const std::vector<std::string>& args)
{
    test::captured_process p = test::captured_process::start(tool_path(), args);
    const std::optional<DWORD> code = p.wait();
    result r{code ? static_cast<long>(*code) : -1, p.out(), p.err()};
    UNSCOPED_INFO("winmmf stdout: " << r.out);
    UNSCOPED_INFO("winmmf stderr: " << r.err);
    return r;
}

#if defined(WINMMF_TEST_HAVE_TOOL)
constexpr bool tool_built = true;
#else
constexpr bool tool_built = false;
#endif
#define REQUIRE_TOOL()                                                                             \
    do {                                                                                           \
        if (!tool_built) {                                                                         \
            SKIP("winmmf.exe is not built (WINMMF_BUILD_TOOLS=OFF)");                              \
        }                                                                                          \
    } while (false)

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// The line of `text` in which `name` is the listed name: "  <indent><name>  <type>  ...".
std::string line_of(const std::string& text, const std::string& name, std::size_t* indent = nullptr)
{
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        const std::string line = text.substr(at, end - at);
        const std::size_t first = line.find_first_not_of(' ');
        if (first != std::string::npos && line.compare(first, name.size(), name) == 0 &&
            (line.size() == first + name.size() || line[first + name.size()] == ' ')) {
            if (indent != nullptr) {
                *indent = first;
            }
            return line;
        }
        at = end + 1;
    }
    return {};
}

// ---- just enough JSON to read the tool's document back -------------------------------------------

struct json {
    enum class kind { null, boolean, number, string, array, object } type = kind::null;
    bool b = false;
    double n = 0;
    std::string s;
    std::vector<json> items;          // an array's
    std::vector<std::string> keys;    // an object's, in order
    std::vector<json> values;         // keys[i]'s value

    const json& operator[](std::string_view key) const
    {
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (keys[i] == key) {
                return values[i];
            }
        }
        throw std::out_of_range("no member " + std::string(key));
    }
    bool has(std::string_view key) const
    {
        for (const std::string& k : keys) {
            if (k == key) {
                return true;
            }
        }
        return false;
    }
};

class json_parser {
public:
    explicit json_parser(std::string_view text) : text_(text) {}

    json document()
    {
        json v = value();
        space();
        if (at_ != text_.size()) {
            fail("text after the document");
        }
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& what) const
    {
        throw std::runtime_error("JSON: " + what + " at byte " + std::to_string(at_));
    }
    void space()
    {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t')) {
            ++at_;
        }
    }
    char peek()
    {
        space();
        if (at_ >= text_.size()) {
            fail("unexpected end");
        }
        return text_[at_];
    }
    void expect(char c)
    {
        if (peek() != c) {
            fail(std::string("expected '") + c + "'");
        }
        ++at_;
    }
    bool literal(std::string_view word)
    {
        if (text_.substr(at_, word.size()) == word) {
            at_ += word.size();
            return true;
        }
        return false;
    }
    std::string string()
    {
        expect('"');
        std::string out;
        for (;;) {
            if (at_ >= text_.size()) {
                fail("unterminated string");
            }
            const char c = text_[at_++];
            if (c == '"') {
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20) {
                fail("a control character in a string");
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_ >= text_.size()) {
                fail("unterminated escape");
            }
            const char e = text_[at_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                if (at_ + 4 > text_.size()) {
                    fail("short \\u escape");
                }
                const unsigned long code = std::stoul(std::string(text_.substr(at_, 4)), nullptr, 16);
                at_ += 4;
                if (code >= 0x80) {
                    fail("the tool escapes only control characters");
                }
                out += static_cast<char>(code);
                break;
            }
            default:
                fail("bad escape");
            }
        }
    }
    json value()
    {
        json v;
        const char c = peek();
        if (c == '{') {
            v.type = json::kind::object;
            ++at_;
            if (peek() == '}') {
                ++at_;
                return v;
            }
            for (;;) {
                v.keys.push_back(string());
                expect(':');
                v.values.push_back(value());
                if (peek() == ',') {
                    ++at_;
                    continue;
                }
                expect('}');
                return v;
            }
        }
        if (c == '[') {
            v.type = json::kind::array;
            ++at_;
            if (peek() == ']') {
                ++at_;
                return v;
            }
            for (;;) {
                v.items.push_back(value());
                if (peek() == ',') {
                    ++at_;
                    continue;
                }
                expect(']');
                return v;
            }
        }
        if (c == '"') {
            v.type = json::kind::string;
            v.s = string();
            return v;
        }
        if (literal("true") || literal("false")) {
            v.type = json::kind::boolean;
            v.b = text_[at_ - 1] == 'e' && text_[at_ - 2] == 'u';
            return v;
        }
        if (literal("null")) {
            return v;
        }
        const std::size_t start = at_;
        while (at_ < text_.size() && (text_[at_] == '-' || text_[at_] == '+' || text_[at_] == '.' ||
                                      text_[at_] == 'e' || text_[at_] == 'E' || (text_[at_] >= '0' && text_[at_] <= '9'))) {
            ++at_;
        }
        if (start == at_) {
            fail("not a value");
        }
        v.type = json::kind::number;
        v.n = std::stod(std::string(text_.substr(start, at_ - start)));
        return v;
    }

    std::string_view text_;
    std::size_t at_ = 0;
};

const json* object_named(const json& ns, const std::string& name)
{
    for (const json& o : ns["objects"].items) {
        if (o["name"].s == name) {
            return &o;
        }
    }
    return nullptr;
}

} // namespace

TEST_CASE("tool: list shows what another process made, each kind with its layout, grouped by owner", "[tool][directory]")
{
    REQUIRE_TOOL();
    const std::string scope = GENERATE("local", "global");
    test::objects_in_another_process made(scope);
    const result r = run_tool({"list", scope == "global" ? "--global" : "--local"});
    REQUIRE(r.code == 0);
    const std::uint32_t session = current_session_id();
    if (scope == "global" || session == 0) {
        CHECK(contains(r.out, made.prefix() + " - \\BaseNamedObjects: "));
    } else {
        CHECK(contains(r.out, "Local\\ - \\Sessions\\" + std::to_string(session) + "\\BaseNamedObjects: "));
    }

    std::size_t chan_indent = 0, sibling_indent = 0, event_indent = 0, compat_indent = 0, companion_indent = 0;
    const std::string compat = line_of(r.out, made.full("-compat"), &compat_indent);
    CHECK(contains(compat, "Section"));
    CHECK(contains(compat, "WinMMF-compatible, 4092 bytes, lock held by 1 reader"));
    const std::string companion = line_of(r.out, made.full("-compat.notify"), &companion_indent);
    CHECK(contains(companion, "notification, sequence 0"));
    CHECK(contains(companion, "(notification of " + made.full("-compat") + ")"));
    CHECK(companion_indent == compat_indent + 2);
    CHECK(contains(line_of(r.out, made.full("-robust")), "robust lock, "));
    const std::string chan = line_of(r.out, made.full("-chan"), &chan_indent);
    CHECK(contains(chan, "frame channel, 4 slots of up to 1024 bytes, newest #1, writer running"));
    const std::string sibling = line_of(r.out, made.sibling(), &sibling_indent);
    CHECK(contains(sibling, "frame channel's notification sibling"));
    CHECK(contains(sibling, "(notification sibling of frame channel " + made.full("-chan") + ")"));
    CHECK(sibling_indent == chan_indent + 2);
    const std::string event = line_of(r.out, made.sibling() + "w0", &event_indent);
    CHECK(contains(event, "Event"));
    CHECK(contains(event, "waiter event of " + made.sibling()));
    CHECK(event_indent == sibling_indent + 2);
    CHECK(contains(line_of(r.out, made.full("-note")), "notification, sequence 0, 0 waiters"));
    // Under what they belong to: the channel's line comes first, then its sibling, then the event.
    CHECK(r.out.find(chan) < r.out.find(sibling));
    CHECK(r.out.find(sibling) < r.out.find(event));
    // By default sections and events only; --type all adds the symbolic links.
    CHECK(line_of(r.out, made.prefix() + "Local").empty());
    const result all = run_tool({"list", scope == "global" ? "--global" : "--local", "--type", "all"});
    CHECK(contains(line_of(all.out, made.prefix() + "Local"), "SymbolicLink"));
    const result sections = run_tool({"list", scope == "global" ? "--global" : "--local", "--type", "section"});
    CHECK(line_of(sections.out, made.sibling() + "w0").empty());
    CHECK_FALSE(line_of(sections.out, made.sibling()).empty());
    const result events = run_tool({"list", scope == "global" ? "--global" : "--local", "--type", "event"});
    CHECK(line_of(events.out, made.full("-chan")).empty());
    CHECK(contains(line_of(events.out, made.sibling() + "w0"), "waiter event of " + made.sibling()));
}

TEST_CASE("tool: list --json is one document a script can read", "[tool][directory]")
{
    REQUIRE_TOOL();
    const std::string scope = GENERATE("local", "global");
    test::objects_in_another_process made(scope);
    const result r = run_tool({"list", "--all", "--json"});
    REQUIRE(r.code == 0);
    json doc;
    REQUIRE_NOTHROW(doc = json_parser(r.out).document());
    const std::vector<json>& namespaces = doc["namespaces"].items;
    REQUIRE(!namespaces.empty());
    const json* ns = nullptr;
    for (const json& n : namespaces) {
        if (n["prefix"].s == made.prefix() || (n["also_local"].b && made.prefix() == "Local\\")) {
            ns = &n;
        }
    }
    REQUIRE(ns != nullptr);
    CHECK((*ns)["error"].type == json::kind::null);
    CHECK((*ns)["skipped"].n == 0);
    const std::string prefix = (*ns)["prefix"].s; // Global\ for both in session 0

    const std::string base = prefix + made.base();
    const json* compat = object_named(*ns, base + "-compat");
    REQUIRE(compat != nullptr);
    CHECK((*compat)["type"].s == "Section");
    CHECK((*compat)["access"].s == "ok");
    CHECK((*compat)["layout"].s == "compatible");
    CHECK((*compat)["capacity"].n == 4092);
    CHECK((*compat)["lock"].s == "read_locked");
    CHECK((*compat)["readers"].n == 1);
    CHECK((*compat)["role"].s == "none");
    CHECK((*compat)["owner"].type == json::kind::null);

    const json* chan = object_named(*ns, base + "-chan");
    REQUIRE(chan != nullptr);
    CHECK((*chan)["layout"].s == "frame_channel");
    CHECK((*chan)["channel"]["slots"].n == 4);
    CHECK((*chan)["channel"]["published"].n == 1);
    CHECK((*chan)["channel"]["writer"].s == "active");
    const std::string sibling_name = (*chan)["channel"]["notification"].s;
    CHECK(sibling_name.rfind(base + "-chan#", 0) == 0);
    const json* sibling = object_named(*ns, sibling_name);
    REQUIRE(sibling != nullptr);
    CHECK((*sibling)["layout"].s == "channel_notification");
    CHECK((*sibling)["role"].s == "channel_sibling");
    CHECK((*sibling)["owner"].s == base + "-chan");
    CHECK((*sibling)["owner_present"].b);
    CHECK((*sibling)["depth"].n == 1);
    const json* event = object_named(*ns, sibling_name + "w0");
    REQUIRE(event != nullptr);
    CHECK((*event)["type"].s == "Event");
    CHECK((*event)["role"].s == "waiter_event");
    CHECK((*event)["owner"].s == sibling_name);
    CHECK_FALSE(event->has("access")); // only sections are opened

    const json* robust = object_named(*ns, base + "-robust");
    REQUIRE(robust != nullptr);
    CHECK((*robust)["layout"].s == "robust");
    CHECK((*robust)["robust"]["ready"].b);
    const json* companion = object_named(*ns, base + "-compat.notify");
    REQUIRE(companion != nullptr);
    CHECK((*companion)["layout"].s == "notification");
    CHECK((*companion)["role"].s == "companion_notification");
    CHECK((*companion)["owner"].s == base + "-compat");
}

TEST_CASE("tool: list refuses bad options and reports a namespace it cannot read", "[tool][directory]")
{
    REQUIRE_TOOL();
    result r = run_tool({"list", "--help"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "usage: winmmf list"));
    r = run_tool({"--help"});
    CHECK(contains(r.out, "  list "));
    r = run_tool({"list", "--global", "--all"});
    CHECK(r.code == 1);
    r = run_tool({"list", "--local", "--session", "1"});
    CHECK(r.code == 1);
    r = run_tool({"list", "--type", "mutex"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "--type needs section, event or all"));
    r = run_tool({"list", "extra"});
    CHECK(r.code == 1);
    // No session 4000000: its directory is not there.
    r = run_tool({"list", "--session", "4000000"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "\\Sessions\\4000000\\BaseNamedObjects"));
    r = run_tool({"list", "--session", "4000000", "--json"});
    CHECK(r.code == 2);
    json doc;
    REQUIRE_NOTHROW(doc = json_parser(r.out).document());
    CHECK(doc["namespaces"].items.at(0)["error"]["category"].s == "system");
    // This session by number: Session\<n>\ names.
    const std::string name = test::unique_name("tool-list-session");
    auto m = memory_mapped_file::create(local(name), 100);
    const std::string id = std::to_string(current_session_id());
    r = run_tool({"list", "--session", id});
    CHECK(r.code == 0);
    CHECK(contains(line_of(r.out, "Session\\" + id + "\\" + name), "WinMMF-compatible, 4092 bytes, lock free"));
}

TEST_CASE("tool: list shows a section this account may not open as access denied", "[tool][directory]")
{
    REQUIRE_TOOL();
    // A DACL that grants nobody anything (Wine 8 enforces this one on OpenFileMappingW: measured).
    // The creator's own handle keeps the section alive.
    const std::string name = test::unique_name("tool-list-denied");
    auto sd = security_descriptor::from_sddl("D:P");
    auto m = memory_mapped_file::create(local(name), 100, create_options{.security_attributes = sd.attributes()});
    std::error_code ec;
    (void)inspect(local(name), ec);
    if (!ec) {
        // The decision itself (an open refused with ERROR_ACCESS_DENIED is listed, as "access
        // denied") is tests/unit/tool_list_tests.cpp's.
        SKIP("this system lets the creator open a section whose DACL grants nobody anything "
             "(Wine stores DACLs but barely enforces them)");
    }
    REQUIRE(ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category()));
    result r = run_tool({"list"});
    CHECK(r.code == 0);
    CHECK(contains(line_of(r.out, "Local\\" + name), "access denied"));
    r = run_tool({"list", "--json"});
    json doc;
    REQUIRE_NOTHROW(doc = json_parser(r.out).document());
    const json* o = object_named(doc["namespaces"].items.at(0), "Local\\" + name);
    REQUIRE(o != nullptr);
    CHECK((*o)["access"].s == "denied");
    CHECK((*o)["error"]["value"].n == ERROR_ACCESS_DENIED);
}

TEST_CASE("tool: info warns when a WinMMF peer cannot share the name, without changing the exit code", "[tool][winmmf-name]")
{
    REQUIRE_TOOL();
    const std::string base = test::unique_name("info-warn");
    const std::string long_name = base + "-" + std::string(58 - base.size() - 1, 'a'); // 64 bytes with Local\ .
    auto too_long = memory_mapped_file::create(local(long_name), 100);
    result r = run_tool({"info", long_name});
    CHECK(r.code == 0);
    CHECK(contains(r.err, "warning: a Rust WinMMF peer cannot share the name Local\\" + long_name));
    CHECK(contains(r.err, "it is 64 bytes"));
    CHECK(contains(r.err, "opens Local\\" + long_name.substr(0, 57)));

    const std::string fits = base + "-" + std::string(57 - base.size() - 1, 'a');
    auto ok = memory_mapped_file::create(local(fits), 100);
    r = run_tool({"info", fits});
    CHECK(r.code == 0);
    CHECK_FALSE(contains(r.err, "warning"));

    const std::string cafe = test::unique_name("caf\xc3\xa9");
    auto non_ascii = memory_mapped_file::create(local(cafe), 100);
    r = run_tool({"info", cafe});
    CHECK(r.code == 0);
    CHECK(contains(r.err, "it is not ASCII"));

    // Not shared with WinMMF peers whatever its name: no warning for another layout.
    auto note = notification::create(local(long_name + "n"));
    r = run_tool({"info", long_name + "n"});
    CHECK(r.code == 0);
    CHECK_FALSE(contains(r.err, "warning"));

    // The exit code of a refused mapping stays what it was: 7 for a corrupt lock word (bits 24-30
    // set), made without winmmf.
    const std::wstring global_name = test::widen("Global\\" + long_name);
    const detail::unique_handle section(
        ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, 4096, global_name.c_str()));
    REQUIRE(section);
    const detail::unique_view view(::MapViewOfFile(section.get(), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0));
    REQUIRE(view);
    const std::uint32_t bad = 0x7F000000u;
    std::memcpy(view.get(), &bad, sizeof bad);
    r = run_tool({"info", "Global\\" + long_name});
    CHECK(r.code == 7);
    CHECK(contains(r.err, "it is 65 bytes"));
}
