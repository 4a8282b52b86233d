#include <winmmf/error.hpp>

#include <catch2/catch_test_macros.hpp>

#include <set>
#include <string>

using namespace winmmf;

TEST_CASE("every winmmf error has its own message", "[error]")
{
    std::set<std::string> messages;
    for (int v = static_cast<int>(errc::empty_name); v <= static_cast<int>(errc::operation_pending); ++v) {
        const std::string m = make_error_code(static_cast<errc>(v)).message();
        CAPTURE(v, m);
        CHECK(m != "unknown winmmf error");
        CHECK(messages.insert(m).second);
    }
    CHECK(make_error_code(errc::not_found).category().name() == std::string("winmmf"));
}

TEST_CASE("winmmf errors compare equal to the portable conditions", "[error]")
{
    CHECK(make_error_code(errc::not_found) == std::errc::no_such_file_or_directory);
    CHECK(make_error_code(errc::already_exists) == std::errc::file_exists);
    CHECK(make_error_code(errc::timeout) == std::errc::timed_out);
    CHECK(make_error_code(errc::owner_dead) == std::errc::owner_dead);
    CHECK(make_error_code(errc::read_only) == std::errc::permission_denied);
    CHECK(make_error_code(errc::name_too_long) == std::errc::filename_too_long);
    CHECK(make_error_code(errc::corrupt_lock_word) != std::errc::invalid_argument);
    std::error_code ec = errc::write_locked;
    CHECK(ec == errc::write_locked);
    CHECK(ec != errc::read_locked);
}
