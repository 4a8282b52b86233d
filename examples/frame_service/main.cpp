// frame_service: the seed's camera service, on winmmf. It publishes each frame source into a
// Global\<basename>_<index> frame channel that every signed-in user may read, and lists the
// channels in %PUBLIC%\<basename>.txt so any program can find them (see frame_viewer).
//
//   frame_service install [--service-name NAME] [options]   register (as administrator)
//   frame_service uninstall [--service-name NAME]            stop and remove (as administrator)
//   frame_service run [options]                              the same work in the foreground
//   frame_service service [options]                          what the SCM starts; not for humans
//
// Options (docs/how-to/run-the-frame-service.md): --source --basename --namespace --sources
// --size --width --height --fps --format --pace --loop --retries --index-dir, and for `run`
// --duration. Precedence, later wins: defaults, then WINMMF_FRAME_SERVICE_* environment
// variables, then the install-time options (stored in the service's command line), then
// arguments given to `sc start`.
//
// Exit codes: 0 ok (also when a file source ended); 1 bad usage or option; 2 not an
// administrator; 3 Service Control Manager failure; 10 could not set up the channels or the
// index; 11 publishing failed; 12 the camera or file could not be opened or read (after the
// retries the retry policy allows).
#include "win.hpp"
#include "options.hpp"
#include "publisher.hpp"
#include "scm.hpp"
#include "service_host.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace frame_service;

constexpr const wchar_t* default_service_name = L"winmmf_frame_service";

constexpr const char* usage_text =
    "usage: frame_service <command> [options]\n"
    "\n"
    "commands:\n"
    "  install [--service-name NAME] [options]  register the service (run as administrator);\n"
    "                                            the options become its start arguments\n"
    "  uninstall [--service-name NAME]          stop the service and remove it (administrator)\n"
    "  run [options] [--duration SECONDS]       publish in the foreground until Ctrl-C (or a file ends)\n"
    "  --help                                   this text\n"
    "\n"
    "options (environment: WINMMF_FRAME_SERVICE_<OPTION>, e.g. WINMMF_FRAME_SERVICE_FPS=15;\n"
    "         command-line options override it, and `sc start` arguments override both):\n";

void print_usage(std::FILE* to)
{
    std::fputs(usage_text, to);
    for (const option_spec& spec : option_specs) {
        std::fprintf(to, "  --%-12s %s\n", std::string(spec.name).c_str(), std::string(spec.help).c_str());
    }
}

std::optional<std::string> get_environment(const std::string& name)
{
    const std::wstring wide = widen(name);
    const DWORD n = ::GetEnvironmentVariableW(wide.c_str(), nullptr, 0);
    if (n == 0) {
        return std::nullopt;
    }
    std::wstring value(n, L'\0');
    value.resize(::GetEnvironmentVariableW(wide.c_str(), value.data(), n));
    return narrow(value);
}

// Takes "--service-name NAME" out of `args`: it names the service, it is not a start option.
std::wstring take_service_name(std::vector<std::string>& args)
{
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == "--service-name") {
            const std::wstring name = widen(args[i + 1]);
            args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
            return name;
        }
    }
    return default_service_name;
}

// Defaults, environment, then each argument list in turn; the first invalid value stops it.
std::optional<parse_error> resolve(options& o, const std::vector<std::vector<std::string>>& layers,
                                   const std::vector<std::string_view>& layer_names)
{
    if (auto error = apply_environment(o, get_environment)) {
        return error;
    }
    for (std::size_t i = 0; i < layers.size(); ++i) {
        if (auto error = apply_args(o, layers[i], layer_names[i])) {
            return error;
        }
    }
    return validate(o);
}

logger console_logger()
{
    return {[](const std::string& m) { std::printf("frame_service: %s\n", m.c_str()); std::fflush(stdout); },
            [](const std::string& m) { std::fprintf(stderr, "frame_service: error: %s\n", m.c_str()); }};
}

// A service has no console: messages go to the Application event log under the service name.
logger event_log_logger(const std::wstring& service_name)
{
    const auto report = [service_name](WORD type, const std::string& message) {
        const HANDLE source = ::RegisterEventSourceW(nullptr, service_name.c_str());
        const std::wstring text = widen(message);
        const wchar_t* strings[] = {text.c_str()};
        if (source != nullptr) {
            ::ReportEventW(source, type, 0, 0, nullptr, 1, 0, strings, nullptr);
            ::DeregisterEventSource(source);
        }
        ::OutputDebugStringW(text.c_str());
    };
    return {[report](const std::string& m) { report(EVENTLOG_INFORMATION_TYPE, m); },
            [report](const std::string& m) { report(EVENTLOG_ERROR_TYPE, m); }};
}

int usage_error(const std::string& message)
{
    std::fprintf(stderr, "frame_service: %s\n\n", message.c_str());
    print_usage(stderr);
    return exit_usage;
}

int cmd_install(std::vector<std::string> args)
{
    const std::wstring name = take_service_name(args);
    // Validate everything first: a bad option must leave nothing installed.
    options o;
    if (auto error = apply_args(o, args, "the install command line")) {
        return usage_error(error->message);
    }
    if (auto error = validate(o)) {
        return usage_error(error->message);
    }
    if (o.duration_seconds != 0) {
        return usage_error("--duration applies to `run` only; a service runs until stopped");
    }
    const scm_outcome outcome = install_service(name, to_args(o));
    std::fprintf(outcome.exit_code == exit_ok ? stdout : stderr, "frame_service: %s\n", outcome.message.c_str());
    return outcome.exit_code;
}

int cmd_uninstall(std::vector<std::string> args)
{
    const std::wstring name = take_service_name(args);
    if (!args.empty()) {
        return usage_error("uninstall takes only --service-name");
    }
    const scm_outcome outcome = uninstall_service(name);
    std::fprintf(outcome.exit_code == exit_ok ? stdout : stderr, "frame_service: %s\n", outcome.message.c_str());
    return outcome.exit_code;
}

int cmd_run(const std::vector<std::string>& args)
{
    options o;
    if (auto error = resolve(o, {args}, {"the command line"})) {
        return usage_error(error->message);
    }
    const logger log = console_logger();
    return run_in_foreground([&](HANDLE stop, const std::vector<std::string>&) { return publish_frames(o, stop, log); },
                             {});
}

int cmd_service(const std::vector<std::string>& install_args)
{
    const bool started = run_as_service(default_service_name, [install_args](HANDLE stop,
                                                                             const std::vector<std::string>& start_args) {
        const logger log = event_log_logger(detail::state().name);
        options o;
        if (auto error = resolve(o, {install_args, start_args}, {"the install options", "the start arguments"})) {
            log.error(error->message);
            return exit_usage;
        }
        return publish_frames(o, stop, log);
    });
    if (!started) {
        const DWORD error = ::GetLastError();
        if (error == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
            std::fprintf(stderr, "frame_service: `service` is what the Service Control Manager runs; use "
                                 "`frame_service run` in a console\n");
            return exit_usage;
        }
        std::fprintf(stderr, "frame_service: StartServiceCtrlDispatcher failed: %s\n",
                     detail::system_message(error).c_str());
        return exit_scm_failure;
    }
    return exit_ok;
}

} // namespace

int main()
{
    std::vector<std::string> args = command_line();
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        print_usage(args.empty() ? stderr : stdout);
        return args.empty() ? exit_usage : exit_ok;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "install") {
        return cmd_install(args);
    }
    if (command == "uninstall") {
        return cmd_uninstall(args);
    }
    if (command == "run") {
        return cmd_run(args);
    }
    if (command == "service") {
        return cmd_service(args);
    }
    return usage_error("unknown command \"" + command + "\"");
}
