// frame_service options: one struct, filled from four sources in a fixed order of precedence
// (later wins):
//   1. built-in defaults
//   2. environment variables   WINMMF_FRAME_SERVICE_<OPTION>, e.g. WINMMF_FRAME_SERVICE_FPS=60
//   3. install-time arguments  stored in the service's command line by `frame_service install`
//   4. start-time arguments    given to `sc start <service> --fps 15` (or StartService)
// Every value is validated before anything is installed or created, and an error names the
// option, the value and the source it came from; validate() then checks the options together.
#pragma once

#include "pixel_formats.hpp"

#include <winmmf/frame_types.hpp>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace frame_service {

// The formats the service publishes, with the names the index file uses: the synthetic source
// renders any of them; cameras and files deliver nv12, yuy2 and bgra32 (Media Foundation's RGB32,
// so `--format rgb32` is accepted for it).
inline constexpr std::pair<winmmf::pixel_format, std::string_view> format_names[] = {
    {winmmf::pixel_format::rgb24, "rgb24"},
    {winmmf::pixel_format::bgr24, "bgr24"},
    {winmmf::pixel_format::bgra32, "bgra32"},
    {winmmf::pixel_format::gray8, "gray8"},
    {winmmf::pixel_format::nv12, "nv12"},
    {winmmf::pixel_format::yuy2, "yuy2"},
};

constexpr std::string_view to_string(winmmf::pixel_format f)
{
    for (const auto& [format, name] : format_names) {
        if (format == f) {
            return name;
        }
    }
    return "unknown";
}

inline std::optional<winmmf::pixel_format> parse_pixel_format(std::string_view s)
{
    if (s == "rgb32") {
        return winmmf::pixel_format::bgra32;
    }
    for (const auto& [format, name] : format_names) {
        if (name == s) {
            return format;
        }
    }
    return std::nullopt;
}

// Where frames come from: `--source synthetic`, `camera:<index|name|symbolic link>`, `file:<path>`.
enum class source_kind : std::uint8_t { synthetic, camera, file };

struct source_spec {
    source_kind kind = source_kind::synthetic;
    std::string target; // the camera selector or the file path

    std::string to_string() const
    {
        switch (kind) {
        case source_kind::camera:
            return "camera:" + target;
        case source_kind::file:
            return "file:" + target;
        case source_kind::synthetic:
            break;
        }
        return "synthetic";
    }
    friend bool operator==(const source_spec&, const source_spec&) = default;
};

inline std::optional<source_spec> parse_source(std::string_view s)
{
    if (s == "synthetic") {
        return source_spec{};
    }
    const auto colon = s.find(':');
    if (colon == std::string_view::npos || colon + 1 == s.size() || s.find('"') != std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view kind = s.substr(0, colon);
    const std::string target(s.substr(colon + 1));
    if (kind == "camera") {
        return source_spec{source_kind::camera, target};
    }
    if (kind == "file") {
        return source_spec{source_kind::file, target};
    }
    return std::nullopt;
}

struct options {
    std::string basename = "winmmf_frames"; // channels are <namespace>\<basename>_<index>
    bool global_namespace = true;           // a service shares with every session: Global\.
    unsigned sources = 2;
    unsigned width = 1920;
    unsigned height = 1080;
    unsigned fps = 30;
    winmmf::pixel_format format = winmmf::pixel_format::rgb24;
    std::string index_dir;                  // empty: %PUBLIC%, falling back to C:\Users\Public
    unsigned duration_seconds = 0;          // foreground `run` only; 0 = until Ctrl-C
    source_spec source;                     // synthetic unless --source says otherwise
    bool size_set = false;                  // --size/--width/--height given: a camera's preference
    bool fps_set = false;                   // --fps given: a camera's preference, a file's pace
    bool format_set = false;                // --format given (cameras and files default to nv12)
    bool pace_fast = false;                 // files: as fast as possible instead of the file's rate
    bool loop = false;                      // files: start again at the end
    unsigned retries = 0;                   // cameras: reopen attempts after a failure; 0 = for ever

    // The format published: as given, else rgb24 for the synthetic source and nv12 for the others.
    winmmf::pixel_format effective_format() const
    {
        return format_set || source.kind == source_kind::synthetic ? format : winmmf::pixel_format::nv12;
    }

    // A synthetic frame's size (rows without padding; NV12 with its UV plane).
    std::uint64_t frame_size() const
    {
        const winmmf::pixel_format f = effective_format();
        return frame_bytes(f, min_stride(f, width), height);
    }
};

// The options a command line may carry, with the limits that keep a frame channel sane.
struct option_spec {
    std::string_view name; // without the leading "--"
    std::string_view help;
};

inline constexpr option_spec option_specs[] = {
    {"basename", "base name of the channels and of the index file (letters, digits, _ - .)"},
    {"namespace", "global (default; needs a service or admin) or local"},
    {"source", "synthetic (default), camera:<index|name|symbolic link> or file:<path>"},
    {"sources", "number of synthetic sources, 1..16"},
    {"size", "WxH: the synthetic frame size; a camera's preferred size"},
    {"width", "frame width in pixels, 16..8192"},
    {"height", "frame height in pixels, 16..8192"},
    {"fps", "synthetic: frames per second; camera: preferred rate; file: pace, 1..240"},
    {"format", "rgb24, bgr24, bgra32 or gray8 (synthetic), nv12, yuy2 or rgb32 (all)"},
    {"pace", "file sources: source (the file's frame rate, default) or fast"},
    {"loop", "file sources: yes (start again at the end) or no (default)"},
    {"retries", "camera sources: reopen attempts after a failure, 0 = for ever (default)"},
    {"index-dir", "directory for <basename>.txt (default %PUBLIC%)"},
    {"duration", "run: stop after this many seconds (0 = until Ctrl-C)"},
};

struct parse_error {
    std::string message;
};

namespace detail {

inline bool parse_unsigned(std::string_view text, unsigned low, unsigned high, unsigned& out)
{
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high) {
        return false;
    }
    out = value;
    return true;
}

inline bool valid_basename(std::string_view s)
{
    if (s.empty() || s.size() > 64) {
        return false;
    }
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '-' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

} // namespace detail

// Applies one option; returns an error message naming the problem, or nothing.
inline std::optional<parse_error> apply(options& o, std::string_view name, std::string_view value,
                                        std::string_view source)
{
    const auto bad = [&](std::string_view expected) {
        return parse_error{"invalid value \"" + std::string(value) + "\" for --" + std::string(name) +
                           " (from " + std::string(source) + "): expected " + std::string(expected)};
    };
    if (name == "basename") {
        if (!detail::valid_basename(value)) {
            return bad("1-64 characters from A-Z a-z 0-9 _ - .");
        }
        o.basename = value;
    } else if (name == "namespace") {
        if (value != "global" && value != "local") {
            return bad("global or local");
        }
        o.global_namespace = value == "global";
    } else if (name == "sources") {
        if (!detail::parse_unsigned(value, 1, 16, o.sources)) {
            return bad("a number from 1 to 16");
        }
    } else if (name == "width") {
        if (!detail::parse_unsigned(value, 16, 8192, o.width)) {
            return bad("a number from 16 to 8192");
        }
        o.size_set = true;
    } else if (name == "height") {
        if (!detail::parse_unsigned(value, 16, 8192, o.height)) {
            return bad("a number from 16 to 8192");
        }
        o.size_set = true;
    } else if (name == "size") {
        const auto x = value.find('x');
        unsigned w = 0;
        unsigned h = 0;
        if (x == std::string_view::npos || !detail::parse_unsigned(value.substr(0, x), 16, 8192, w) ||
            !detail::parse_unsigned(value.substr(x + 1), 16, 8192, h)) {
            return bad("WIDTHxHEIGHT, each from 16 to 8192 (e.g. 1280x720)");
        }
        o.width = w;
        o.height = h;
        o.size_set = true;
    } else if (name == "fps") {
        if (!detail::parse_unsigned(value, 1, 240, o.fps)) {
            return bad("a number from 1 to 240");
        }
        o.fps_set = true;
    } else if (name == "format") {
        const auto f = parse_pixel_format(value);
        if (!f) {
            return bad("rgb24, bgr24, bgra32 or gray8, or nv12, yuy2 or rgb32");
        }
        o.format = *f;
        o.format_set = true;
    } else if (name == "source") {
        const auto spec = parse_source(value);
        if (!spec) {
            return bad("synthetic, camera:<index|name|symbolic link> or file:<path> (without '\"')");
        }
        o.source = *spec;
    } else if (name == "pace") {
        if (value != "source" && value != "fast") {
            return bad("source or fast");
        }
        o.pace_fast = value == "fast";
    } else if (name == "loop") {
        if (value != "yes" && value != "no") {
            return bad("yes or no");
        }
        o.loop = value == "yes";
    } else if (name == "retries") {
        if (!detail::parse_unsigned(value, 0, 1000000, o.retries)) {
            return bad("a number from 0 (for ever) to 1000000");
        }
    } else if (name == "index-dir") {
        if (value.empty() || value.find('"') != std::string_view::npos) {
            return bad("a directory path (without '\"')");
        }
        o.index_dir = value;
    } else if (name == "duration") {
        if (!detail::parse_unsigned(value, 0, 86400, o.duration_seconds)) {
            return bad("seconds, 0 to 86400");
        }
    } else {
        return parse_error{"unknown option --" + std::string(name) + " (from " + std::string(source) +
                           "); see frame_service --help"};
    }
    return std::nullopt;
}

// Applies "--name value" / "--name=value" pairs.
inline std::optional<parse_error> apply_args(options& o, const std::vector<std::string>& args,
                                             std::string_view source)
{
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg.substr(0, 2) != "--" || arg.size() == 2) {
            return parse_error{"unexpected argument \"" + std::string(arg) + "\" (from " +
                               std::string(source) + "); options look like --fps 30"};
        }
        arg.remove_prefix(2);
        std::string_view name = arg;
        std::string_view value;
        if (const auto eq = arg.find('='); eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        } else {
            if (i + 1 >= args.size()) {
                return parse_error{"--" + std::string(name) + " needs a value (from " + std::string(source) + ")"};
            }
            value = args[++i];
        }
        if (auto error = apply(o, name, value, source)) {
            return error;
        }
    }
    return std::nullopt;
}

// The options together, once every source was applied: what only a combination makes wrong.
inline std::optional<parse_error> validate(const options& o)
{
    if (o.source.kind == source_kind::synthetic) {
        return std::nullopt;
    }
    const winmmf::pixel_format f = o.effective_format();
    if (f != winmmf::pixel_format::nv12 && f != winmmf::pixel_format::yuy2 && f != winmmf::pixel_format::bgra32) {
        return parse_error{"--format " + std::string(to_string(f)) + " is for the synthetic source: " +
                           o.source.to_string() + " publishes nv12, yuy2 or rgb32"};
    }
    if (o.source.kind == source_kind::file && o.size_set) {
        return parse_error{"--size (--width, --height) does not apply to " + o.source.to_string() +
                           ": a file is published at its own frame size"};
    }
    return std::nullopt;
}

// WINMMF_FRAME_SERVICE_INDEX_DIR for --index-dir, and so on.
inline std::string environment_name(std::string_view option)
{
    std::string name = "WINMMF_FRAME_SERVICE_";
    for (char c : option) {
        name += c == '-' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    return name;
}

template <class GetEnv>
std::optional<parse_error> apply_environment(options& o, GetEnv&& get)
{
    for (const option_spec& spec : option_specs) {
        const std::string var = environment_name(spec.name);
        if (const std::optional<std::string> value = get(var)) {
            if (auto error = apply(o, spec.name, *value, var)) {
                return error;
            }
        }
    }
    return std::nullopt;
}

// The arguments that reproduce `o` (minus defaults), for the service's stored command line.
inline std::vector<std::string> to_args(const options& o)
{
    const options d;
    std::vector<std::string> args;
    const auto put = [&](std::string_view name, std::string value) {
        args.emplace_back("--" + std::string(name));
        args.push_back(std::move(value));
    };
    if (o.basename != d.basename) put("basename", o.basename);
    if (o.global_namespace != d.global_namespace) put("namespace", o.global_namespace ? "global" : "local");
    if (o.source != d.source) put("source", o.source.to_string());
    if (o.sources != d.sources) put("sources", std::to_string(o.sources));
    if (o.width != d.width || o.size_set) put("width", std::to_string(o.width));
    if (o.height != d.height || o.size_set) put("height", std::to_string(o.height));
    if (o.fps != d.fps || o.fps_set) put("fps", std::to_string(o.fps));
    if (o.format != d.format || o.format_set) put("format", std::string(to_string(o.format)));
    if (o.pace_fast != d.pace_fast) put("pace", o.pace_fast ? "fast" : "source");
    if (o.loop != d.loop) put("loop", o.loop ? "yes" : "no");
    if (o.retries != d.retries) put("retries", std::to_string(o.retries));
    if (o.index_dir != d.index_dir) put("index-dir", o.index_dir);
    return args;
}

} // namespace frame_service
