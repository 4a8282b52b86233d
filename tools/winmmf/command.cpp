// tools/winmmf/command.cpp - the preamble every command runs through, and what the commands
// share: text in and out, failure messages, Ctrl-C.
#include "command.hpp"
#include "raw_section.hpp"

#include <winmmf/detail/utf.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

namespace winmmf::tool {

using namespace winmmf::cli;

// ---- text in and out ------------------------------------------------------------------------------


output::output(DWORD which) noexcept : handle_(::GetStdHandle(which))
{
    DWORD mode = 0;
    console_ = handle_ != nullptr && handle_ != INVALID_HANDLE_VALUE && ::GetConsoleMode(handle_, &mode);
}

bool output::text(std::string_view utf8)
{
    if (!console_) {
        return bytes(std::as_bytes(std::span(utf8.data(), utf8.size())));
    }
    const std::wstring wide = detail::utf::to_utf16_lossy<wchar_t>(utf8);
    std::size_t done = 0;
    while (done < wide.size()) {
        DWORD written = 0;
        const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(wide.size() - done, 16384));
        if (!::WriteConsoleW(handle_, wide.data() + done, chunk, &written, nullptr) || written == 0) {
            return fail();
        }
        done += written;
    }
    return true;
}

bool output::bytes(std::span<const std::byte> data)
{
    if (handle_ == nullptr || handle_ == INVALID_HANDLE_VALUE) {
        return fail();
    }
    while (!data.empty()) {
        DWORD written = 0;
        const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(data.size(), 1u << 20));
        if (!::WriteFile(handle_, data.data(), chunk, &written, nullptr) || written == 0) {
            return fail();
        }
        data = data.subspan(written);
    }
    return true;
}

output& out()
{
    static output o(STD_OUTPUT_HANDLE);
    return o;
}

output& err()
{
    static output e(STD_ERROR_HANDLE);
    return e;
}

// ---- failing -----------------------------------------------------------------------------------------

int fail(int code, std::string_view message)
{
    err().line("winmmf: " + std::string(message));
    return code;
}

int fail(const std::error_code& ec, std::string_view operation, std::string_view name, std::string_view hint)
{
    std::string message = ec.message();
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' || message.back() == '.')) {
        message.pop_back();
    }
    if (ec.category() == std::system_category()) {
        message += " (Win32 error " + std::to_string(ec.value()) + ")";
    }
    std::string text = std::string(operation) + " " + std::string(name) + ": " + message;
    if (!hint.empty()) {
        text += "\n  " + std::string(hint);
    }
    return fail(exit_code_for(ec), text);
}

int fail_open(const std::error_code& ec, const resolved_name& name, std::string_view hint)
{
    std::string text(hint);
    if (ec == errc::not_found && text.empty() && name.full.scope() != name_scope::custom) {
        const name_scope other = name.full.scope() == name_scope::global ? name_scope::local : name_scope::global;
        std::error_code name_ec;
        const object_name candidate = object_name::make(name_ref(other, name_text(name.full.object())), name_ec);
        // Anything answering to the name counts: a mapping, one we may not open, an event.
        std::error_code probe;
        if (!name_ec) {
            (void)inspect(custom(candidate.full()), probe);
        }
        if (!name_ec && exit_code_for(probe) != exit_not_found) {
            text = "but " + candidate.to_utf8() + " exists: name it in full" +
                   (other == name_scope::global ? std::string(", or add --global") : std::string());
        }
    }
    return fail(ec, "open", name.full_utf8, text);
}

// ---- names -----------------------------------------------------------------------------------------

namespace {

// NAME plus --global / --session N. Returns an exit code (exit_ok when resolved).
int resolve(const parsed_args& args, const std::string& text, resolved_name& name)
{
    name.text = text;
    name_scope scope = name_scope::local;
    std::uint32_t session_id = 0;
    if (args.has("--global") && args.has("--session")) {
        return fail(exit_usage, "--global and --session exclude each other");
    }
    if (args.has("--global")) {
        scope = name_scope::global;
    }
    if (const std::string* id = args.value("--session")) {
        const std::optional<std::uint64_t> n = parse_uint(*id);
        if (!n || *n > 0xFFFFFFFFu) {
            return fail(exit_usage, "--session needs a session id (0, 1, 2, ...), not '" + *id + "'");
        }
        scope = name_scope::session;
        session_id = static_cast<std::uint32_t>(*n);
    }
    const parsed_name parsed = parse_name(name.text, scope, session_id);
    if (parsed.has_prefix && scope != name_scope::local) {
        return fail(exit_usage, "'" + name.text + "' already names its namespace; drop " +
                                    (scope == name_scope::global ? "--global" : "--session"));
    }
    name.ref = parsed.ref;
    std::error_code ec;
    name.full = object_name::make(name.ref, ec);
    if (ec) {
        return fail(exit_code_for(ec), "invalid name '" + name.text + "': " + ec.message());
    }
    name.full_utf8 = name.full.to_utf8();
    return exit_ok;
}

constexpr std::size_t count_words(std::string_view text) noexcept
{
    std::size_t n = 0;
    for (std::size_t at = 0; at < text.size(); ++n) {
        const std::size_t space = text.find(' ', at);
        at = space == std::string_view::npos ? text.size() : space + 1;
    }
    return n;
}

// "NAME SIZE" -> "NAME and SIZE"
std::string listed(std::string_view words)
{
    std::string text(words);
    for (std::size_t at = text.find(' '); at != std::string::npos; at = text.find(' ', at + 5)) {
        text.replace(at, 1, " and ");
    }
    return text;
}

} // namespace

// ---- the invocation ------------------------------------------------------------------------------------

std::optional<std::uint64_t> invocation::number(std::string_view option_name) const
{
    const auto found = values.find(option_name);
    return found == values.end() ? std::nullopt : std::optional<std::uint64_t>(found->second);
}

acquire_mode invocation::timeout() const
{
    const std::optional<std::uint64_t> ms = number("--timeout");
    if (!ms) {
        return acquire_mode::wait_for(default_lock_timeout);
    }
    return *ms == 0 ? acquire_mode::try_once() : acquire_mode::wait_for(std::chrono::milliseconds(*ms));
}

cli::layout invocation::layout() const noexcept
{
    switch (facts.layout) {
    case layout_kind::compatible:
        return facts.lock == lock_word_state::corrupt ? cli::layout::corrupt : cli::layout::compatible;
    case layout_kind::robust:
        return cli::layout::robust;
    case layout_kind::frame_channel:
        return cli::layout::frame_channel;
    case layout_kind::channel_notification:
        return cli::layout::channel_notify;
    case layout_kind::notification:
        return cli::layout::notification;
    case layout_kind::unknown_marker:
        break;
    }
    return cli::layout::unknown_marker;
}

int run_command(const command& c, std::span<const std::string> argv)
{
    std::vector<option_spec> specs = {{"--global", false}, {"--session", true}, {"--help", false}};
    for (const option& o : c.options) {
        specs.push_back({o.name, o.kind != value::none});
    }
    const std::string name(c.name);
    invocation cmd;
    cmd.args = parse_args(argv, specs);
    if (!cmd.args.error.empty()) {
        return fail(exit_usage, name + ": " + cmd.args.error + " (winmmf " + name + " --help)");
    }
    if (cmd.has("--help")) {
        return out().text(c.help) ? exit_ok : exit_io;
    }
    if (cmd.args.positional.size() != count_words(c.arguments)) {
        return fail(exit_usage, name + (c.arguments.empty() ? std::string(" takes no arguments") : " needs " + listed(c.arguments)) +
                                    " (winmmf " + name + " --help)");
    }
    for (const option& o : c.options) {
        if (!o.excludes.empty() && cmd.has(o.name) && cmd.has(o.excludes)) {
            return fail(exit_usage, std::string(o.name) + " and " + std::string(o.excludes) + " exclude each other");
        }
    }
    for (const option& o : c.options) {
        if (!o.only_with.empty() && cmd.has(o.name) && !cmd.has(o.only_with)) {
            return fail(exit_usage, std::string(o.name) + " only applies with " + std::string(o.only_with));
        }
    }
    // Every bad value is named, not only the first.
    int status = exit_ok;
    for (const option& o : c.options) {
        const std::string* text = cmd.text(o.name);
        if (text == nullptr || (o.kind != value::number && o.kind != value::size)) {
            continue;
        }
        const std::optional<std::uint64_t> n = o.kind == value::size ? parse_size(*text) : parse_uint(*text);
        if (!n || *n < o.min || *n > o.max) {
            status = fail(exit_usage, std::string(o.name) + " needs " + std::string(o.wants) + ", not '" + *text + "'");
        } else {
            cmd.values.emplace(o.name, *n);
        }
    }
    if (status != exit_ok) {
        return status;
    }
    if (c.arguments.empty()) {
        return c.run(cmd); // list: no NAME to resolve, nothing opened here
    }
    if (status = resolve(cmd.args, cmd.args.positional[0], cmd.name); status != exit_ok) {
        return status;
    }
    if (c.access != opens::nothing) {
        const bool writes = c.access == opens::to_write && (c.read_only_with.empty() || !cmd.has(c.read_only_with));
        const std::error_code access_denied(win32_error::access_denied, std::system_category());
        std::error_code ec;
        cmd.facts = inspect(cmd.name.ref, ec);
        if (ec) {
            return fail_open(ec, cmd.name, writes && ec == access_denied ? c.denied_hint : std::string_view());
        }
        if (writes && !cmd.facts.writable) {
            const std::error_code& refused = cmd.facts.write_refusal;
            return fail_open(refused, cmd.name, refused == access_denied ? c.denied_hint : std::string_view());
        }
    }
    return c.run(cmd);
}

// ---- the data of a mapping --------------------------------------------------------------------------------

int require_data_layout(const invocation& cmd, bool locking)
{
    const cli::layout l = cmd.layout();
    const resolved_name& name = cmd.name;
    if (l == cli::layout::corrupt && locking) {
        return fail(exit_incompatible, name.full_utf8 + ": the lock word is " + describe_lock_word(cmd.facts.first_word) +
                                           "; nothing was done.\n  Without the lock (read --no-lock, write without "
                                           "--lock) the data is still reachable; `winmmf unlock " +
                                           name.text + " --force` resets the word once no process uses it");
    }
    if (data_offset(l) == 0) {
        return fail(exit_incompatible, name.full_utf8 + " is a " + layout_name(l) +
                                           ", whose data has a protocol of its own; `winmmf info " + name.text +
                                           "` describes it");
    }
    if (cmd.facts.capacity == 0) {
        return fail(make_error_code(errc::not_winmmf_mapping), "open", name.full_utf8);
    }
    return exit_ok;
}

// ---- Ctrl-C ------------------------------------------------------------------------------------

HANDLE stop_event() noexcept
{
    static const HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    return event;
}

bool stop_requested() noexcept { return ::WaitForSingleObject(stop_event(), 0) == WAIT_OBJECT_0; }

namespace {

// A wait inside the library (a notification, a frame channel) that Ctrl-C must end as well.
std::atomic<cancel_token*> active_cancel{nullptr};

BOOL WINAPI on_console_signal(DWORD signal) noexcept
{
    switch (signal) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
        ::SetEvent(stop_event());
        if (cancel_token* cancel = active_cancel.load()) {
            cancel->cancel();
        }
        return TRUE; // handled: main returns normally and destroys what it holds
    default:
        return FALSE;
    }
}

} // namespace

ctrl_c_handler::ctrl_c_handler(cancel_token* cancel) noexcept
{
    (void)stop_event(); // made before any signal can arrive
    active_cancel.store(cancel);
    ::SetConsoleCtrlHandler(on_console_signal, TRUE);
}

// The handler stays: a Ctrl-C while the command finishes still leaves through main's return.
ctrl_c_handler::~ctrl_c_handler() { active_cancel.store(nullptr); }

} // namespace winmmf::tool
