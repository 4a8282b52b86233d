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

TEST_CASE("frame_service options: sources, sizes and formats for cameras and files", "[frame_service]")
{
    options o;
    CHECK(o.source.kind == source_kind::synthetic);
    CHECK(o.effective_format() == winmmf::pixel_format::rgb24);
    REQUIRE_FALSE(apply_args(o, {"--source", "camera:0"}, "test"));
    CHECK(o.source == source_spec{source_kind::camera, "0"});
    CHECK(o.effective_format() == winmmf::pixel_format::nv12); // a camera's default
    CHECK_FALSE(validate(o));
    REQUIRE_FALSE(apply_args(o, {"--source=camera:Logitech BRIO", "--size", "1280x720", "--fps", "60", "--format",
                                 "rgb32", "--retries", "5"},
                             "test"));
    CHECK(o.source.target == "Logitech BRIO");
    CHECK(o.width == 1280);
    CHECK(o.height == 720);
    CHECK(o.size_set);
    CHECK(o.fps_set);
    CHECK(o.format == winmmf::pixel_format::bgra32); // rgb32 is Media Foundation's name for it
    CHECK(o.retries == 5);
    CHECK_FALSE(validate(o));

    options f;
    REQUIRE_FALSE(apply_args(f, {"--source", "file:C:\\clips\\a b.mp4", "--pace", "fast", "--loop", "yes",
                                 "--format", "yuy2"},
                             "test"));
    CHECK(f.source == source_spec{source_kind::file, "C:\\clips\\a b.mp4"});
    CHECK(f.pace_fast);
    CHECK(f.loop);
    CHECK_FALSE(validate(f));
    // Combinations only validate() sees.
    options bad = f;
    REQUIRE_FALSE(apply_args(bad, {"--size", "640x480"}, "test"));
    REQUIRE(validate(bad));
    CHECK(validate(bad)->message.find("its own frame size") != std::string::npos);
    bad = f;
    REQUIRE_FALSE(apply_args(bad, {"--format", "gray8"}, "test"));
    REQUIRE(validate(bad));
    CHECK(validate(bad)->message.find("nv12, yuy2 or rgb32") != std::string::npos);
    options synthetic;
    REQUIRE_FALSE(apply_args(synthetic, {"--format", "nv12", "--size", "642x480"}, "test"));
    CHECK_FALSE(validate(synthetic)); // the synthetic source renders NV12 too
    CHECK(synthetic.frame_size() == std::uint64_t{642} * 720);

    for (const auto& [args, says] : std::initializer_list<std::pair<std::vector<std::string>, std::string>>{
             {{"--source", "camera:"}, "camera:<index|name|symbolic link>"},
             {{"--source", "webcam"}, "file:<path>"},
             {{"--source", "file:\"x\""}, "without"},
             {{"--size", "1280"}, "WIDTHxHEIGHT"},
             {{"--size", "8x8"}, "16 to 8192"},
             {{"--pace", "slow"}, "source or fast"},
             {{"--loop", "1"}, "yes or no"},
             {{"--retries", "-1"}, "0 (for ever)"},
         }) {
        options fresh;
        const auto e = apply_args(fresh, args, "test");
        CAPTURE(args);
        REQUIRE(e);
        CHECK(e->message.find(says) != std::string::npos);
    }
}

TEST_CASE("frame_service options: the source and its options survive the service's command line, and the "
          "start arguments override them",
          "[frame_service]")
{
    options o;
    REQUIRE_FALSE(apply_environment(o, environment({{"WINMMF_FRAME_SERVICE_SOURCE", "camera:1"},
                                                    {"WINMMF_FRAME_SERVICE_RETRIES", "3"}})));
    CHECK(o.source == source_spec{source_kind::camera, "1"});
    REQUIRE_FALSE(apply_args(o, {"--source", "file:D:\\in.mkv", "--loop", "yes", "--pace", "fast", "--fps", "30"},
                             "install"));
    options back;
    REQUIRE_FALSE(apply_args(back, to_args(o), "stored"));
    CHECK(back.source == source_spec{source_kind::file, "D:\\in.mkv"});
    CHECK(back.loop);
    CHECK(back.pace_fast);
    CHECK(back.fps_set); // --fps 30 is the default's value, but given: it paces the file
    CHECK(back.retries == 3);
    REQUIRE_FALSE(apply_args(back, {"--source", "camera:0", "--format", "yuy2"}, "start"));
    CHECK(back.source.kind == source_kind::camera);
    CHECK(back.effective_format() == winmmf::pixel_format::yuy2);
    options sized;
    REQUIRE_FALSE(apply_args(sized, {"--size", "1920x1080"}, "install")); // the default's value, given
    options sized_back;
    REQUIRE_FALSE(apply_args(sized_back, to_args(sized), "stored"));
    CHECK(sized_back.size_set);
}
