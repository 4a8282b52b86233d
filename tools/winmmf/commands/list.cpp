// winmmf list: the named objects of a namespace (list_named_objects, directory.hpp) and, for
// every section, what inspect() finds - the `ipcs` Windows lacks. Nothing is locked or written.
#include "../command.hpp"
#include "../listing.hpp"

#include <winmmf/detail/utf.hpp>
#include <winmmf/directory.hpp>
#include <winmmf/inspect.hpp>
#include <winmmf/session.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace winmmf::tool {

using namespace winmmf::cli;

namespace {

enum class type_filter : std::uint8_t { sections_and_events, sections, events, all };

bool wanted(type_filter f, const named_object& o) noexcept
{
    switch (f) {
    case type_filter::sections_and_events:
        return o.is_section() || o.is_event();
    case type_filter::sections:
        return o.is_section();
    case type_filter::events:
        return o.is_event();
    case type_filter::all:
        break;
    }
    return true;
}

struct row {
    const named_object* object = nullptr;
    std::string name; // full, UTF-8: "Local\cam0"
    placed_object place;
    open_outcome outcome = open_outcome::opened;
    std::error_code error; // the open's, when outcome is not opened
    inspection facts;
    bool inspected = false; // a section: inspect() was asked
};

struct listed_namespace {
    std::string prefix;    // "Local\", "Global\", "Session\2\"
    std::string scope_key; // "local", "global", "session"
    std::optional<std::uint32_t> session;
    bool also_local = false; // session 0: its Local\ is this same directory
    std::error_code error;   // the directory could not be read
    object_listing listing;
    std::vector<row> rows;  // what is shown, in display order
    std::size_t hidden = 0; // objects of types --type leaves out
};

std::string utf8(std::wstring_view text) { return detail::utf::to_utf8_lossy(text); }

std::string plural(std::size_t n, std::string_view one, std::string_view many)
{
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

listed_namespace read_namespace(name_scope scope, std::uint32_t session_id, type_filter filter)
{
    listed_namespace ns;
    switch (scope) {
    case name_scope::global:
        ns.prefix = "Global\\";
        ns.scope_key = "global";
        break;
    case name_scope::session:
        ns.prefix = "Session\\" + std::to_string(session_id) + "\\";
        ns.scope_key = "session";
        ns.session = session_id;
        break;
    default: {
        ns.prefix = "Local\\";
        ns.scope_key = "local";
        std::error_code ec;
        const std::uint32_t own = current_session_id(ec);
        if (!ec) {
            ns.session = own;
        }
        break;
    }
    }
    ns.listing = list_named_objects(scope, session_id, ns.error);
    if (ns.error) {
        std::error_code ignored;
        ns.listing.directory = named_object_directory(scope, session_id, ignored); // for the message
        return ns;
    }

    std::vector<listed_object> all;
    std::vector<const named_object*> shown_objects;
    std::vector<listed_object> shown;
    all.reserve(ns.listing.objects.size());
    for (const named_object& o : ns.listing.objects) {
        listed_object l{utf8(o.name.object()), o.type};
        if (wanted(filter, o)) {
            shown.push_back(l);
            shown_objects.push_back(&o);
        } else {
            ++ns.hidden;
        }
        all.push_back(std::move(l));
    }
    for (const placed_object& p : arrange(shown, all)) {
        row r;
        r.object = shown_objects[p.index];
        r.name = r.object->name.to_utf8();
        r.place = p;
        if (r.object->is_section()) {
            r.inspected = true;
            r.facts = inspect(custom(r.object->name.full()), r.error);
            r.outcome = classify_open(r.error);
        }
        ns.rows.push_back(std::move(r));
    }
    return ns;
}

// ---- text ---------------------------------------------------------------------------------------

std::string lock_text(const inspection& i)
{
    switch (i.lock) {
    case lock_word_state::free:
        return "lock free";
    case lock_word_state::read_locked:
        return "lock held by " + plural(i.readers, "reader", "readers");
    case lock_word_state::write_locked:
        return "lock held by a writer";
    case lock_word_state::uninitialized:
        return "lock word uninitialized";
    case lock_word_state::corrupt:
        break;
    }
    return "lock word CORRUPT [" + hex32(i.first_word) + "]";
}

std::string robust_text(const inspection& i)
{
    const robust_lock_state& r = i.robust;
    if (!r.ready) {
        return r.initialiser_pid != 0 ? "being initialised by process " + std::to_string(r.initialiser_pid)
                                      : std::string("not initialised");
    }
    std::string text;
    if (r.writer_pid != 0) {
        text = "held by a writer, process " + std::to_string(r.writer_pid) +
               (i.robust_writer_alive ? "" : " (exited)");
    } else if (r.readers != 0) {
        text = "held by " + plural(r.readers, "reader", "readers");
    } else {
        text = "free";
    }
    return r.owner_died ? text + ", a writer died holding it" : text;
}

std::string layout_text(const inspection& i)
{
    std::string text;
    switch (i.layout) {
    case layout_kind::compatible:
        text = "WinMMF-compatible, " + std::to_string(i.capacity) + " bytes, " + lock_text(i);
        break;
    case layout_kind::robust:
        text = "robust lock, " + std::to_string(i.capacity) + " bytes, " + robust_text(i);
        break;
    case layout_kind::frame_channel: {
        if (i.refusal) {
            return "frame channel, unreadable: " + i.refusal.message();
        }
        const channel_inspection& c = i.channel;
        text = "frame channel, " + std::to_string(c.slots) + " slots of up to " + std::to_string(c.max_frame_size) +
               " bytes, " + (c.published == 0 ? std::string("no frame yet") : "newest #" + std::to_string(c.published));
        switch (c.writer) {
        case writer_status::active:
            text += ", writer running (process " + std::to_string(c.writer_pid) + ")";
            break;
        case writer_status::closed:
            text += ", no writer";
            break;
        case writer_status::gone:
            text += ", writer gone (process " + std::to_string(c.writer_pid) + " ended)";
            break;
        }
        break;
    }
    case layout_kind::channel_notification:
        text = "frame channel's notification sibling, " + plural(i.notification_waiting, "reader", "readers") +
               " asleep";
        break;
    case layout_kind::notification:
        text = "notification, sequence " + std::to_string(i.notification_sequence) + ", " +
               plural(i.notification_waiting, "waiter", "waiters");
        break;
    case layout_kind::unknown_marker:
        text = "unknown winmmf layout (first word " + hex32(i.first_word) + ")";
        break;
    }
    if (i.refusal && (i.layout == layout_kind::compatible || i.layout == layout_kind::robust)) {
        text += " [openers refuse it: " + i.refusal.message() + "]";
    }
    if (!i.writable) {
        text += "; read-only for this account";
    }
    return text;
}

std::string relation_text(const placed_object& p, const std::string& prefix)
{
    std::string text;
    switch (p.role) {
    case object_role::none:
        return {};
    case object_role::channel_sibling:
        text = "notification sibling of frame channel ";
        break;
    case object_role::waiter_event:
        text = "waiter event of ";
        break;
    case object_role::companion_notification:
        text = "notification of ";
        break;
    }
    text += prefix + p.owner;
    return p.owner_present ? text : text + ", which is not there";
}

std::string details(const row& r, const std::string& prefix)
{
    std::string text;
    if (r.inspected) {
        switch (r.outcome) {
        case open_outcome::opened:
            text = layout_text(r.facts);
            break;
        case open_outcome::access_denied:
            text = "access denied";
            break;
        case open_outcome::gone:
            text = "gone (closed while listing)";
            break;
        case open_outcome::failed:
            text = "cannot open: " + r.error.message();
            break;
        }
    }
    const std::string relation = relation_text(r.place, prefix);
    if (relation.empty()) {
        return text;
    }
    return text.empty() ? relation : text + " (" + relation + ")";
}

// Code points, for the columns: names are UTF-8.
std::size_t width(std::string_view text) noexcept
{
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(std::string text, std::size_t to)
{
    const std::size_t w = width(text);
    text.append(w < to ? to - w : 0, ' ');
    return text;
}

std::string text_of(const listed_namespace& ns, const std::wstring& directory)
{
    std::string text = ns.prefix;
    if (ns.also_local) {
        text += " (Local\\ too, in session 0)";
    }
    text += " - " + utf8(directory) + ": " + plural(ns.rows.size(), "object", "objects");
    if (ns.hidden != 0) {
        text += ", and " + std::to_string(ns.hidden) + " of other types (--type all shows them)";
    }
    text += "\n";
    std::size_t name_width = 4;
    for (const row& r : ns.rows) {
        name_width = std::max(name_width, 2 * r.place.depth + width(r.name));
    }
    name_width = std::min<std::size_t>(name_width, 72);
    for (const row& r : ns.rows) {
        std::string line = "  " + pad(std::string(2 * r.place.depth, ' ') + r.name, name_width) + "  " +
                           pad(r.object->type, 8);
        const std::string d = details(r, ns.prefix);
        if (!d.empty()) {
            line += "  " + d;
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        text += line + "\n";
    }
    if (ns.listing.skipped != 0) {
        text += "  (" + plural(ns.listing.skipped, "entry", "entries") +
                " skipped: names that no Win32 program can pass - too long, an embedded NUL, or not UTF-16)\n";
    }
    return text;
}

// ---- JSON ---------------------------------------------------------------------------------------

std::string json_bool(bool b) { return b ? "true" : "false"; }

std::string json_layout_key(layout_kind l)
{
    switch (l) {
    case layout_kind::compatible:
        return "compatible";
    case layout_kind::robust:
        return "robust";
    case layout_kind::frame_channel:
        return "frame_channel";
    case layout_kind::channel_notification:
        return "channel_notification";
    case layout_kind::notification:
        return "notification";
    case layout_kind::unknown_marker:
        break;
    }
    return "unknown_marker";
}

std::string json_lock_key(lock_word_state s)
{
    switch (s) {
    case lock_word_state::free:
        return "free";
    case lock_word_state::read_locked:
        return "read_locked";
    case lock_word_state::write_locked:
        return "write_locked";
    case lock_word_state::uninitialized:
        return "uninitialized";
    case lock_word_state::corrupt:
        break;
    }
    return "corrupt";
}

std::string json_writer_key(writer_status w)
{
    switch (w) {
    case writer_status::active:
        return "active";
    case writer_status::closed:
        return "closed";
    case writer_status::gone:
        break;
    }
    return "gone";
}

std::string json_facts(const inspection& i)
{
    std::string j = ",\"layout\":" + json_string(json_layout_key(i.layout)) +
                    ",\"section_size\":" + std::to_string(i.section_size) + ",\"first_word\":" +
                    std::to_string(i.first_word) + ",\"writable\":" + json_bool(i.writable) +
                    ",\"refusal\":" + json_error(i.refusal);
    switch (i.layout) {
    case layout_kind::compatible:
        j += ",\"capacity\":" + std::to_string(i.capacity) + ",\"lock\":" + json_string(json_lock_key(i.lock)) +
             ",\"readers\":" + std::to_string(i.readers);
        break;
    case layout_kind::robust:
        j += ",\"capacity\":" + std::to_string(i.capacity) + ",\"robust\":{\"ready\":" + json_bool(i.robust.ready) +
             ",\"version\":" + std::to_string(i.robust.version) + ",\"writer_pid\":" +
             std::to_string(i.robust.writer_pid) + ",\"readers\":" + std::to_string(i.robust.readers) +
             ",\"owner_died\":" + json_bool(i.robust.owner_died) + "}";
        break;
    case layout_kind::frame_channel: {
        const channel_inspection& c = i.channel;
        j += ",\"channel\":{\"slots\":" + std::to_string(c.slots) + ",\"max_frame_size\":" +
             std::to_string(c.max_frame_size) + ",\"published\":" + std::to_string(c.published) +
             ",\"writer\":" + json_string(json_writer_key(c.writer)) + ",\"writer_pid\":" +
             std::to_string(c.writer_pid) + ",\"waiting\":" + std::to_string(c.waiting) + ",\"notification\":" +
             (c.notification.empty() ? std::string("null") : json_string(c.notification.to_utf8())) + "}";
        break;
    }
    case layout_kind::channel_notification:
        j += ",\"notification\":{\"waiting\":" + std::to_string(i.notification_waiting) + "}";
        break;
    case layout_kind::notification:
        j += ",\"notification\":{\"sequence\":" + std::to_string(i.notification_sequence) +
             ",\"waiting\":" + std::to_string(i.notification_waiting) + "}";
        break;
    case layout_kind::unknown_marker:
        break;
    }
    return j;
}

std::string json_of(const listed_namespace& ns)
{
    std::string j = "{\"prefix\":" + json_string(ns.prefix) + ",\"scope\":" + json_string(ns.scope_key) +
                    ",\"session\":" + (ns.session ? std::to_string(*ns.session) : std::string("null")) +
                    ",\"also_local\":" + json_bool(ns.also_local) +
                    ",\"directory\":" + json_string(utf8(ns.listing.directory)) + ",\"error\":" + json_error(ns.error) +
                    ",\"skipped\":" + std::to_string(ns.listing.skipped) + ",\"hidden\":" + std::to_string(ns.hidden) +
                    ",\"objects\":[";
    bool first = true;
    for (const row& r : ns.rows) {
        j += first ? "\n    " : ",\n    ";
        first = false;
        j += "{\"name\":" + json_string(r.name) + ",\"object\":" + json_string(utf8(r.object->name.object())) +
             ",\"type\":" + json_string(r.object->type) + ",\"depth\":" + std::to_string(r.place.depth) +
             ",\"role\":" + json_string(role_key(r.place.role)) + ",\"owner\":" +
             (r.place.role == object_role::none ? std::string("null") : json_string(ns.prefix + r.place.owner)) +
             ",\"owner_present\":" + json_bool(r.place.owner_present);
        if (r.inspected) {
            j += ",\"access\":" + json_string(outcome_key(r.outcome)) + ",\"error\":" + json_error(r.error);
            if (r.outcome == open_outcome::opened) {
                j += json_facts(r.facts);
            }
        }
        j += "}";
    }
    return j + (first ? "]}" : "\n  ]}");
}

} // namespace

int run_list(const invocation& cmd)
{
    // Which namespaces.
    const int chosen = (cmd.has("--local") ? 1 : 0) + (cmd.has("--global") ? 1 : 0) + (cmd.has("--all") ? 1 : 0) +
                       (cmd.has("--session") ? 1 : 0);
    if (chosen > 1) {
        return fail(exit_usage, "list: --local, --global, --all and --session exclude each other");
    }
    std::uint32_t session_id = 0;
    if (const std::string* id = cmd.text("--session")) {
        const std::optional<std::uint64_t> n = parse_uint(*id);
        if (!n || *n > 0xFFFFFFFFu) {
            return fail(exit_usage, "--session needs a session id (0, 1, 2, ...), not '" + *id + "'");
        }
        session_id = static_cast<std::uint32_t>(*n);
    }
    type_filter filter = type_filter::sections_and_events;
    if (const std::string* t = cmd.text("--type")) {
        if (*t == "section") {
            filter = type_filter::sections;
        } else if (*t == "event") {
            filter = type_filter::events;
        } else if (*t == "all") {
            filter = type_filter::all;
        } else {
            return fail(exit_usage, "--type needs section, event or all, not '" + *t + "'");
        }
    }
    std::vector<listed_namespace> namespaces;
    if (cmd.has("--session")) {
        namespaces.push_back(read_namespace(name_scope::session, session_id, filter));
    } else if (cmd.has("--global")) {
        namespaces.push_back(read_namespace(name_scope::global, 0, filter));
    } else if (cmd.has("--all")) {
        std::error_code ec;
        const std::wstring local_dir = named_object_directory(name_scope::local, 0, ec);
        const std::wstring global_dir = named_object_directory(name_scope::global, 0, ec);
        if (!ec && local_dir == global_dir) {
            namespaces.push_back(read_namespace(name_scope::global, 0, filter));
            namespaces.back().also_local = true;
        } else {
            namespaces.push_back(read_namespace(name_scope::local, 0, filter));
            namespaces.push_back(read_namespace(name_scope::global, 0, filter));
        }
    } else {
        namespaces.push_back(read_namespace(name_scope::local, 0, filter));
    }

    int status = exit_ok;
    if (cmd.has("--json")) {
        std::string j = "{\"namespaces\":[";
        for (std::size_t i = 0; i < namespaces.size(); ++i) {
            j += (i == 0 ? "\n  " : ",\n  ") + json_of(namespaces[i]);
            if (namespaces[i].error && status == exit_ok) {
                status = exit_code_for(namespaces[i].error);
            }
        }
        j += "\n]}\n";
        return out().text(j) ? status : exit_io;
    }
    std::string text;
    for (const listed_namespace& ns : namespaces) {
        if (ns.error) {
            const int code = fail(ns.error, "list", ns.prefix + " (" + utf8(ns.listing.directory) + ")");
            status = status == exit_ok ? code : status;
            continue;
        }
        if (!text.empty()) {
            text += "\n";
        }
        text += text_of(ns, ns.listing.directory);
    }
    if (!text.empty() && !out().text(text)) {
        return exit_io;
    }
    return status;
}

} // namespace winmmf::tool
