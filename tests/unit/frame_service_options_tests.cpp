// The frame service's option rules (examples/frame_service/options.hpp) are pure, so they are
// tested here, natively too: defaults < environment < install arguments < start arguments.
#include "../../examples/frame_service/options.hpp"

#include <catch2/catch_test_macros.hpp>

#include <map>
#include <optional>
#include <string>

using namespace frame_service;

namespace {
auto environment(std::map<std::string, std::string> vars)
{
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        const auto found = vars.find(name);
        return found == vars.end() ? std::nullopt : std::optional<std::string>(found->second);
    };
}
} // namespace

TEST_CASE("frame_service options: each source overrides the one before", "[frame_service]")
{
    options o;
    REQUIRE_FALSE(apply_environment(o, environment({{"WINMMF_FRAME_SERVICE_FPS", "15"},
                                                    {"WINMMF_FRAME_SERVICE_SOURCES", "4"},
                                                    {"WINMMF_FRAME_SERVICE_INDEX_DIR", "D:\\frames"}})));
    CHECK(o.fps == 15);
    CHECK(o.sources == 4);
    CHECK(o.index_dir == "D:\\frames");
    REQUIRE_FALSE(apply_args(o, {"--fps", "60", "--width=640"}, "install"));
    CHECK(o.fps == 60);
    CHECK(o.width == 640);
    CHECK(o.sources == 4);
    REQUIRE_FALSE(apply_args(o, {"--sources", "1"}, "start"));
    CHECK(o.sources == 1);
    CHECK(o.fps == 60);
    CHECK(o.height == 1080); // untouched: the default
}

TEST_CASE("frame_service options: every bad value names the option and its source", "[frame_service]")
{
    options o;
    const auto error = apply_environment(o, environment({{"WINMMF_FRAME_SERVICE_FPS", "fast"}}));
    REQUIRE(error);
    CHECK(error->message.find("--fps") != std::string::npos);
    CHECK(error->message.find("WINMMF_FRAME_SERVICE_FPS") != std::string::npos);

    for (const auto& [args, says] : std::initializer_list<std::pair<std::vector<std::string>, std::string>>{
             {{"--sources", "0"}, "1 to 16"},
             {{"--sources", "-1"}, "1 to 16"},
             {{"--width", "8193"}, "16 to 8192"},
             {{"--height", "12px"}, "16 to 8192"},
             {{"--fps", "241"}, "1 to 240"},
             {{"--format", "RGB24"}, "rgb24"},
             {{"--basename", ""}, "1-64 characters"},
             {{"--basename", "a\\b"}, "1-64 characters"},
             {{"--namespace", "session"}, "global or local"},
             {{"--index-dir", "C:\\\"x"}, "without"},
             {{"fps", "30"}, "unexpected argument"},
             {{"--fps"}, "needs a value"},
         }) {
        options fresh;
        const auto e = apply_args(fresh, args, "test");
        CAPTURE(args);
        REQUIRE(e);
        CHECK(e->message.find(says) != std::string::npos);
    }
}

TEST_CASE("frame_service options round-trip through the service's command line", "[frame_service]")
{
    options o;
    REQUIRE_FALSE(apply_args(o, {"--basename", "cams", "--namespace", "local", "--sources", "3", "--fps", "25",
                                 "--format", "bgra32", "--index-dir", "C:\\Program Data\\x"},
                             "install"));
    options back;
    REQUIRE_FALSE(apply_args(back, to_args(o), "stored"));
    CHECK(back.basename == "cams");
    CHECK_FALSE(back.global_namespace);
    CHECK(back.sources == 3);
    CHECK(back.fps == 25);
    CHECK(back.format == winmmf::pixel_format::bgra32);
    CHECK(back.index_dir == "C:\\Program Data\\x");
    CHECK(back.frame_size() == std::uint64_t{1920} * 1080 * 4);
    CHECK(to_args(options{}).empty());
}
