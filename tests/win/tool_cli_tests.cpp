// The winmmf command-line tool, driven as a real process against mappings the library made, and
// the library reading what the tool wrote. Every exit code a script may rely on is checked
// here, with the data checked unchanged after each refusal.
#include <winmmf/frame_channel.hpp>
#include <winmmf/notification.hpp>
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include <test_support.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;

namespace {

// winmmf.exe lives in bin/, beside winmmf_c.dll; the tests run from tests/.
std::wstring tool_path() { return test::executable_dir() + L"..\\bin\\winmmf.exe"; }

using test::input_kind;

// One run of winmmf.exe, its output captured in files.
test::captured_process start_tool(const std::vector<std::string>& args, input_kind input = input_kind::empty,
                                  std::string_view data = {})
{
    return test::captured_process::start(tool_path(), args, input, data);
}

struct result {
    long code = -1;
    std::string out;
    std::string err;
};

result run_tool(const std::vector<std::string>& args, input_kind input = input_kind::empty,
                std::string_view data = {})
{
    test::captured_process p = start_tool(args, input, data);
    const std::optional<DWORD> code = p.wait();
    result r{code ? static_cast<long>(*code) : -1, p.out(), p.err()};
    UNSCOPED_INFO("winmmf stdout: " << r.out);
    UNSCOPED_INFO("winmmf stderr: " << r.err);
    return r;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::string read_string(const memory_mapped_file& m, std::size_t offset, std::size_t length)
{
    std::string s(length, '\0');
    m.read(offset, std::as_writable_bytes(std::span(s)));
    return s;
}

std::vector<std::byte> snapshot(const memory_mapped_file& m)
{
    const auto bytes = m.unsynchronized_bytes();
    return {bytes.begin(), bytes.end()};
}

// A section whose first word is whatever the test says, made without winmmf.
struct raw_section {
    detail::unique_handle section;
    detail::unique_view view;

    raw_section(const std::string& full_name, std::uint32_t first_word)
    {
        section = detail::unique_handle(::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE,
                                                             0, 4096, test::widen(full_name).c_str()));
        REQUIRE(section);
        view = detail::unique_view(::MapViewOfFile(section.get(), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0));
        REQUIRE(view);
        std::memcpy(view.get(), &first_word, 4);
        std::memcpy(view.get() + 4, "payload", 7);
    }
    std::uint32_t word() const
    {
        std::uint32_t w = 0;
        std::memcpy(&w, view.get(), 4);
        return w;
    }
};

} // namespace

// tools/winmmf/CMakeLists.txt defines WINMMF_TEST_HAVE_TOOL when it builds winmmf.exe.
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


TEST_CASE("tool: help, version and usage errors", "[tool]")
{
    REQUIRE_TOOL();
    result r = run_tool({"--help"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "usage: winmmf <command>"));
    CHECK(contains(r.out, "4 lock busy"));

    r = run_tool({});
    CHECK(r.code == 1);
    CHECK(contains(r.out, "usage: winmmf <command>"));

    for (const char* command : {"create", "info", "read", "write", "watch", "unlock"}) {
        r = run_tool({command, "--help"});
        CHECK(r.code == 0);
        CHECK(contains(r.out, std::string("usage: winmmf ") + command));
        r = run_tool({"help", command});
        CHECK(r.code == 0);
        CHECK(contains(r.out, std::string("usage: winmmf ") + command));
    }

    r = run_tool({"--version"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "winmmf 0."));

    r = run_tool({"frobnicate"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "unknown command 'frobnicate'"));
    r = run_tool({"read", "x", "--bogus"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "unknown option --bogus"));
    r = run_tool({"read", "x", "--hex", "--raw"});
    CHECK(r.code == 1);
    r = run_tool({"read", "x", "--offset"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "--offset needs a value"));
    r = run_tool({"create", "x", "12 bytes"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "SIZE must be a byte count"));
    r = run_tool({"read", "Global\\x", "--global"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "already names its namespace"));
}

TEST_CASE("tool: read shows what the library wrote", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-read");
    auto m = memory_mapped_file::create(local(name), 4000); // 4092 usable
    const std::string text = "hello, tool";
    m.write(0, std::as_bytes(std::span(text)));
    const unsigned char beef[] = {0xde, 0xad, 0xbe, 0xef};
    m.write(100, std::as_bytes(std::span(beef)));

    result r = run_tool({"read", name, "--length", "11", "--raw"});
    CHECK(r.code == 0);
    CHECK(r.out == text);

    r = run_tool({"read", "Local\\" + name, "--offset", "100", "--length", "4", "--hex"});
    CHECK(r.code == 0);
    CHECK(r.out == "deadbeef\n");

    r = run_tool({"read", "local\\" + name, "--length", "0x20"}); // prefixes ignore case
    CHECK(r.code == 0);
    CHECK(contains(r.out, "00000000  68 65 6c 6c 6f 2c 20 74  6f 6f 6c 00 00 00 00 00  |hello, tool.....|"));
    CHECK(contains(r.out, "00000020\n"));

    r = run_tool({"read", name}); // the whole capacity: zero lines collapse into '*'
    CHECK(r.code == 0);
    CHECK(contains(r.out, "\n*\n"));
    CHECK(contains(r.out, "00000060  00 00 00 00 de ad be ef"));
    CHECK(contains(r.out, "00000ffc\n")); // 4092 bytes of data

    CHECK(m.lock_policy().value() == 0); // the tool's read lock was released
}

TEST_CASE("tool: write puts stdin, a file or text where the library reads it", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-write");
    auto m = memory_mapped_file::create(local(name), 100);

    result r = run_tool({"write", name, "--offset", "10", "--lock"}, input_kind::data, "from stdin");
    CHECK(r.code == 0);
    CHECK(contains(r.out, "wrote 10 bytes to Local\\" + name + " at offset 10 under the write lock"));
    CHECK(read_string(m, 10, 10) == "from stdin");

    r = run_tool({"write", name, "--text", "poked"});
    CHECK(r.code == 0);
    CHECK(read_string(m, 0, 5) == "poked");

    const std::wstring file = test::temp_file("tool-write-file");
    {
        detail::unique_handle f = test::inheritable_file(file, GENERIC_WRITE, CREATE_ALWAYS);
        DWORD written = 0;
        ::WriteFile(f.get(), "\x01\x02\x00\x03", 4, &written, nullptr);
    }
    r = run_tool({"write", name, "--offset", "4088", "--file", test::narrow(file), "--lock"});
    ::DeleteFileW(file.c_str());
    CHECK(r.code == 0);
    CHECK(read_string(m, 4088, 4) == std::string("\x01\x02\x00\x03", 4)); // the last 4 bytes
    CHECK(m.lock_policy().value() == 0);
}

TEST_CASE("tool: refused input leaves the data untouched", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-refuse");
    auto m = memory_mapped_file::create(local(name), 100);
    m.write(0, std::as_bytes(std::span(std::string_view("original"))));
    const std::vector<std::byte> before = snapshot(m);

    // 4092 usable bytes: 4093 of input do not fit, and nothing of them is written.
    result r = run_tool({"write", name, "--lock"}, input_kind::data, std::string(4093, 'X'));
    CHECK(r.code == 6);
    CHECK(contains(r.err, "nothing was written"));
    r = run_tool({"write", name, "--offset", "4090", "--text", "XYZ"});
    CHECK(r.code == 6);
    r = run_tool({"write", name, "--offset", "5000", "--text", "X"});
    CHECK(r.code == 6);
    r = run_tool({"read", name, "--offset", "4000", "--length", "93"});
    CHECK(r.code == 6);
    CHECK(contains(r.err, "reaches past the capacity of 4092 bytes"));
    r = run_tool({"write", name, "--file", "Z:\\no\\such\\file"});
    CHECK(r.code == 2);
    r = run_tool({"write", name, "--timeout", "5", "--text", "X"}); // --timeout without --lock
    CHECK(r.code == 1);

    CHECK(snapshot(m) == before);
    CHECK(m.lock_policy().value() == 0);
}

TEST_CASE("tool: a bad number on the command line is a usage error, and nothing is done", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-badnum");
    auto m = memory_mapped_file::create(local(name), 100);
    m.write(0, std::as_bytes(std::span(std::string_view("original"))));
    const std::vector<std::byte> before = snapshot(m);

    result r = run_tool({"write", name, "--offset", "-3", "--text", "X"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "--offset needs a byte count such as 100, 4K or 0x1000, not '-3'"));
    CHECK(r.out.empty());
    r = run_tool({"write", name, "--offset", "4K", "--lock", "--timeout", "soon", "--text", "X"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "--timeout needs milliseconds (0 tries once), not 'soon'"));
    // Every bad value is named, and nothing is read.
    r = run_tool({"read", name, "--offset", "zz", "--length", "1.5"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "--offset needs a byte count"));
    CHECK(contains(r.err, "--length needs a byte count"));
    CHECK(r.out.empty());
    r = run_tool({"watch", name, "--interval", "0"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "--interval needs milliseconds between 1 and 3600000, not '0'"));
    r = run_tool({"watch", name, "--count", "0"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "--count needs a positive number of changes, not '0'"));
    r = run_tool({"create", name + "-new", "100", "--hold-seconds", "soon"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "--hold-seconds needs a number of seconds, not 'soon'"));

    CHECK(snapshot(m) == before);
    CHECK(m.lock_policy().value() == 0);
}

TEST_CASE("tool: exit codes name what went wrong", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-codes");
    result r = run_tool({"read", name});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "Local\\" + name));
    CHECK(contains(r.err, "no mapping with this name"));
    CHECK(run_tool({"info", "Global\\" + name}).code == 2);
    CHECK(run_tool({"read", "Bogus\\" + name}).code == 2); // no such namespace: ERROR_PATH_NOT_FOUND

    r = run_tool({"read", std::string(300, 'n')});
    CHECK(r.code == 6);
    CHECK(contains(r.err, "invalid name"));
    CHECK(run_tool({"read", "Global\\a\\b"}).code == 6);
    CHECK(run_tool({"create", name, "0"}).code == 6);

    // A name that belongs to an event, not a mapping.
    auto event = test::named_event::create("Local\\" + name + "-event");
    r = run_tool({"info", name + "-event"});
    CHECK(r.code == 7);
    CHECK(contains(r.err, "Win32 error 6"));

    auto m = memory_mapped_file::create(local(name), 100);
    r = run_tool({"create", name, "100"});
    CHECK(r.code == 5);
    CHECK(contains(r.err, "already exists"));
}

TEST_CASE("tool: info decodes the lock word and the layout", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-info");
    auto m = memory_mapped_file::create(local(name), 100);

    result r = run_tool({"info", name});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "name:      Local\\" + name));
    CHECK(contains(r.out, "section:   4096 bytes"));
    CHECK(contains(r.out, "layout:    WinMMF-compatible"));
    CHECK(contains(r.out, "capacity:  4092 bytes"));
    CHECK(contains(r.out, "lock:      free [0x00000000]"));
    CHECK(contains(r.out, "reading and writing"));
    {
        auto a = m.lock_read();
        auto b = m.lock_read();
        r = run_tool({"info", name});
        CHECK(contains(r.out, "lock:      held by 2 readers [0x00000002]"));
    }
    {
        auto w = m.lock_write();
        r = run_tool({"info", name});
        CHECK(contains(r.out, "lock:      held by a writer [0x80000000]"));
    }
    CHECK(m.lock_policy().value() == 0);

    // Layout markers and words no WinMMF peer writes, from a section made by hand.
    const std::string robust = test::unique_name("tool-info-robust");
    raw_section r1("Local\\" + robust, protocol::lock_word::robust_layout_marker);
    auto& robust_header = *reinterpret_cast<protocol::robust_word::header*>(r1.view.get());
    robust_header.version = 0;
    robust_header.init = protocol::robust_word::pack(detail::current_robust_identity()); // a creator at work
    r = run_tool({"info", robust});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "layout:    winmmf robust lock policy"));
    CHECK(contains(r.out, "being initialised by process " + std::to_string(::GetCurrentProcessId())));
    // Another version of the robust layout, and a lock word no winmmf process writes: openers
    // refuse both, so info says why and exits with 7.
    robust_header.init = 0; // the marker without a named creator: no step leaves it
    r = run_tool({"info", robust});
    CHECK(r.code == 7);
    robust_header.init = protocol::robust_word::ready_family | (protocol::robust_word::word_type{1} << 16) | protocol::robust_word::reader_slots;
    r = run_tool({"info", robust});
    CHECK(r.code == 7);
    CHECK(contains(r.out, "robust layout version 1, not version 3"));
    robust_header.init = protocol::robust_word::ready_value;
    robust_header.version = protocol::robust_word::layout_version;
    robust_header.writer = protocol::robust_word::held_bit; // held, by no process
    r = run_tool({"info", robust});
    CHECK(r.code == 7);
    CHECK(contains(r.out, "CORRUPT: a lock word holds a value no winmmf process writes"));
    robust_header.writer = 0;
    r = run_tool({"info", robust});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "lock:      free"));

    const std::string channel = test::unique_name("tool-info-channel");
    raw_section r2("Local\\" + channel, protocol::lock_word::channel_layout_marker);
    r = run_tool({"info", channel});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "layout:    winmmf frame channel"));

    const std::string uninit = test::unique_name("tool-info-uninit");
    raw_section r3("Local\\" + uninit, protocol::lock_word::uninitialized_value);
    r = run_tool({"info", uninit});
    CHECK(contains(r.out, "lock:      uninitialized"));

    const std::string corrupt = test::unique_name("tool-info-corrupt");
    raw_section r4("Local\\" + corrupt, 0x01000000u);
    r = run_tool({"info", corrupt});
    CHECK(r.code == 7);
    CHECK(contains(r.out, "corrupt (bits 24-30"));
}

TEST_CASE("tool: channels, notifications and unknown layouts are described, never touched", "[tool]")
{
    REQUIRE_TOOL();
    for (const std::uint32_t marker : {protocol::lock_word::channel_layout_marker, protocol::lock_word::notify_layout_marker,
                                       protocol::lock_word::channel_notify_marker, protocol::lock_word::make_marker(0x123456)}) {
        CAPTURE(marker);
        const std::string name = test::unique_name("tool-foreign");
        raw_section s("Local\\" + name, marker);
        result r = run_tool({"read", name});
        CHECK(r.code == 7);
        CHECK(run_tool({"read", name, "--no-lock"}).code == 7);
        r = run_tool({"write", name, "--text", "CLOBBER"});
        CHECK(r.code == 7);
        CHECK(contains(r.err, "winmmf info"));
        CHECK(run_tool({"write", name, "--text", "CLOBBER", "--lock"}).code == 7);
        CHECK(run_tool({"unlock", name, "--force"}).code == 7);
        CHECK(s.word() == marker);
        CHECK(std::memcmp(s.view.get() + 4, "payload", 7) == 0);
    }
}

TEST_CASE("tool: a robust mapping is read and written under its own lock", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-robust");
    auto m = robust_memory_mapped_file::create(local(name), 100);
    m.write(0, std::as_bytes(std::span(std::string_view("robust data"))));

    result r = run_tool({"info", name});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "layout:    winmmf robust lock policy"));
    CHECK(contains(r.out, "capacity:  " + std::to_string(m.capacity()) + " bytes of data after the 1024-byte header"));
    CHECK(contains(r.out, "lock:      free"));

    r = run_tool({"read", name, "--length", "11", "--raw"});
    CHECK(r.code == 0);
    CHECK(r.out == "robust data");
    r = run_tool({"write", name, "--offset", "7", "--text", "DATA", "--lock"});
    CHECK(r.code == 0);
    std::string back(11, '\0');
    m.read(0, std::as_writable_bytes(std::span(back)));
    CHECK(back == "robust DATA");
    {
        auto w = m.lock_write();
        r = run_tool({"info", name});
        CHECK(contains(r.out, "held by a writer, process " + std::to_string(::GetCurrentProcessId()) + " (running)"));
        r = run_tool({"read", name, "--timeout", "0"});
        CHECK(r.code == 4);
        r = run_tool({"read", name, "--no-lock", "--length", "6", "--raw"});
        CHECK(r.out == "robust");
    }
    r = run_tool({"unlock", name, "--force"});
    CHECK(r.code == 7);
    CHECK(contains(r.err, "needs no forcing"));
    auto after = m.lock_write(acquire_mode::try_once()); // still a working robust lock
    CHECK(after.owns_lock());
}

TEST_CASE("tool: read and write wait for the lock, or say who holds it", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-busy");
    auto m = memory_mapped_file::create(local(name), 100);
    m.write(0, std::as_bytes(std::span(std::string_view("steady"))));
    {
        auto w = m.lock_write();
        result r = run_tool({"read", name, "--timeout", "0"});
        CHECK(r.code == 4);
        CHECK(contains(r.err, "held by a writer"));
        r = run_tool({"read", name, "--timeout", "50"});
        CHECK(r.code == 4);
        CHECK(contains(r.err, "timed out"));
        r = run_tool({"read", name, "--no-lock", "--length", "6", "--raw"});
        CHECK(r.code == 0);
        CHECK(r.out == "steady");
        r = run_tool({"write", name, "--lock", "--timeout", "50", "--text", "CLOBBER"});
        CHECK(r.code == 4);
        CHECK(contains(r.err, "nothing was written"));
        CHECK(std::memcmp(w.data(), "steady", 6) == 0);
    }
    {
        auto rd = m.lock_read();
        CHECK(run_tool({"read", name, "--timeout", "0", "--length", "1"}).code == 0); // readers share
        CHECK(run_tool({"write", name, "--lock", "--timeout", "0", "--text", "X"}).code == 4);
    }
    CHECK(read_string(m, 0, 6) == "steady");
    CHECK(m.lock_policy().value() == 0);
}

TEST_CASE("tool: unlock clears a dead writer's lock, and only with --force", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-unlock");
    auto m = memory_mapped_file::create(local(name), 100);

    result r = run_tool({"unlock", name});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "the lock is free; nothing to do"));

    // A child takes the write lock and is killed holding it: a real stale lock.
    auto ready = test::named_event::create(name + "-ready");
    auto release = test::named_event::create(name + "-release");
    {
        auto holder = test::child_process::start(
            L"winmmf_child.exe", {"hold-write", "local", name, name + "-ready", name + "-release"});
        REQUIRE(ready.wait_or_exit(holder.handle()));
        holder.kill();
    }
    REQUIRE(m.lock_policy().value() == 0x80000000u);
    std::error_code ec;
    auto refused = m.lock_read(acquire_mode::wait_for(50ms), ec);
    CHECK(ec == errc::timeout);

    r = run_tool({"unlock", name});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "held by a writer"));
    CHECK(contains(r.err, "refusing without --force"));
    CHECK(m.lock_policy().value() == 0x80000000u);

    r = run_tool({"unlock", "Local\\" + name, "--force"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "cleared the lock, which was held by a writer [0x80000000]"));
    CHECK(m.lock_policy().value() == 0);
    auto after = m.lock_write(acquire_mode::try_once(), ec);
    CHECK_FALSE(ec);
}

TEST_CASE("tool: unlock --force repairs a corrupt lock word", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-repair");
    raw_section s("Local\\" + name, 0x80000003u); // a writer and readers at once
    CHECK(run_tool({"read", name}).code == 7);
    CHECK(run_tool({"unlock", name}).code == 1);
    CHECK(s.word() == 0x80000003u);
    result r = run_tool({"unlock", name, "--force"});
    CHECK(r.code == 0);
    CHECK(s.word() == 0);
    auto m = memory_mapped_file::open(local(name)); // the library accepts it again
    CHECK(read_string(m, 0, 7) == "payload");
}

TEST_CASE("tool: create --hold keeps a mapping alive until its stdin closes", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-hold");
    test::captured_process holder = start_tool({"create", name, "6000", "--hold"}, input_kind::pipe);
    REQUIRE(holder.wait_for_output("holding Local\\" + name));
    CHECK(contains(holder.out(), "created Local\\" + name + ": 6000 bytes asked for, 8188 usable"));

    {
        auto m = memory_mapped_file::open(local(name));
        CHECK_FALSE(m.created());
        CHECK(m.capacity() == 8188);
        m.write(0, std::as_bytes(std::span(std::string_view("kept alive"))));
    }
    // Our handle is gone; the tool's keeps the mapping, so another process still finds the data.
    result r = run_tool({"read", name, "--length", "10", "--raw"});
    CHECK(r.out == "kept alive");

    holder.close_stdin();
    CHECK(holder.wait() == 0u);
    CHECK(contains(holder.out(), "released Local\\" + name));
    // The last handle closed with the tool: the mapping is gone.
    std::error_code ec;
    auto gone = memory_mapped_file::open(local(name), ec);
    CHECK(ec == errc::not_found);
}

TEST_CASE("tool: create without --hold, with --hold-seconds, and with --sddl", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-create");
    result r = run_tool({"create", name, "1K"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "created Local\\" + name + ": 1024 bytes asked for, 4092 usable"));
    CHECK(contains(r.err, "use --hold"));
    std::error_code ec;
    auto gone = memory_mapped_file::open(local(name), ec);
    CHECK(ec == errc::not_found); // it died with the tool

    r = run_tool({"create", name, "100", "--hold-seconds", "0"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "released"));

    r = run_tool({"create", name, "100", "--sddl", "D:P(A;;GA;;;WD)"});
    CHECK(r.code == 0);
    r = run_tool({"create", name, "100", "--sddl", "not SDDL"});
    CHECK(r.code == 6);
    CHECK(contains(r.err, "not a valid security descriptor"));

    // Global\ from a bare name: allowed for anyone under Wine; on Windows it needs
    // SeCreateGlobalPrivilege and the tool exits 3.
    r = run_tool({"create", name, "100", "--global"});
    CHECK((r.code == 0 || r.code == 3));
    if (r.code == 0) {
        CHECK(contains(r.out, "created Global\\" + name));
    }
}

TEST_CASE("tool: watch prints one line per change", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-watch");
    auto m = memory_mapped_file::create(local(name), 4000); // 4092 usable
    test::captured_process watcher = start_tool({"watch", name, "--count", "2", "--interval", "10"});
    REQUIRE(watcher.wait_for_output("watching Local\\" + name + ": 4092 bytes"));

    m.write(8, std::as_bytes(std::span(std::string_view("abcd"))));
    REQUIRE(watcher.wait_for_output("changed 4 bytes in [8, 12)"));
    m.write(100, std::as_bytes(std::span(std::string_view("z"))));
    CHECK(watcher.wait() == 0u); // --count 2: it stops by itself
    const std::string out = watcher.out();
    CHECK(contains(out, "changed 1 byte in [100, 101)  lock: free"));
    std::size_t lines = 0;
    for (std::size_t at = out.find("changed"); at != std::string::npos; at = out.find("changed", at + 1)) {
        ++lines;
    }
    CHECK(lines == 2);
}

TEST_CASE("tool: names in Global\\, --global, and beyond ASCII", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-names");
    auto g = memory_mapped_file::create(global(name), 100);
    g.write(0, std::as_bytes(std::span(std::string_view("in global"))));
    CHECK(run_tool({"read", name, "--global", "--length", "9", "--raw"}).out == "in global");
    CHECK(run_tool({"read", "Global\\" + name, "--length", "9", "--raw"}).out == "in global");
    result r = run_tool({"read", name}); // a bare name means Local\ by default...
    CHECK(r.code == 2);
    CHECK(contains(r.err, "but Global\\" + name + " exists: name it in full, or add --global")); // ...and says so

    // Session\<id>\x is this session's Local\x, by either spelling.
    const std::string here = std::to_string(current_session_id());
    auto l = memory_mapped_file::create(local(name), 100);
    l.write(0, std::as_bytes(std::span(std::string_view("in local"))));
    CHECK(run_tool({"read", "Session\\" + here + "\\" + name, "--length", "8", "--raw"}).out == "in local");
    CHECK(run_tool({"read", name, "--session", here, "--length", "8", "--raw"}).out == "in local");
    CHECK(run_tool({"read", name, "--session", "x"}).code == 1);

    const std::string unicode = name + "-\xc3\xbc\xc3\xb1\xc3\xaf-\xe5\x90\x8d\xe5\x89\x8d"; // -ünï-名前
    auto u = memory_mapped_file::create(local(unicode), 100);
    u.write(0, std::as_bytes(std::span(std::string_view("utf-8"))));
    r = run_tool({"info", unicode});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "name:      Local\\" + unicode)); // UTF-8 in the output file
    r = run_tool({"write", "Local\\" + unicode, "--offset", "5", "--text", "\xe2\x9c\x93", "--lock"}); // ✓
    CHECK(r.code == 0);
    CHECK(read_string(u, 0, 8) == "utf-8\xe2\x9c\x93");
}

TEST_CASE("tool: watch wakes on the mapping's notification", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-watch-notify");
    auto m = memory_mapped_file::create(local(name), 100);
    auto n = notification::create(custom(notification::name_for(m.name()).full()));
    // A poll interval far longer than the test: what the watcher reports, it learnt from the
    // notification.
    test::captured_process watcher = start_tool({"watch", name, "--count", "2", "--interval", "600000"});
    REQUIRE(watcher.wait_for_output("woken by Local\\" + name + ".notify"));

    m.write(0, std::as_bytes(std::span(std::string_view("new"))));
    n.notify();
    REQUIRE(watcher.wait_for_output("changed 3 bytes in [0, 3)"));
    n.notify(); // a notification without a change
    CHECK(watcher.wait() == 0u);
    CHECK(contains(watcher.out(), "notified (sequence 2), data unchanged"));

    result r = run_tool({"info", name + ".notify"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "layout:    winmmf notification"));
    CHECK(contains(r.out, "notify:    sequence 2, 0 waiter(s) asleep on it now"));
}

TEST_CASE("tool: info and watch understand a frame channel", "[tool]")
{
    REQUIRE_TOOL();
    const std::string name = test::unique_name("tool-channel");
    auto writer = frame_writer::create(local(name), {.max_frame_size = 64, .slots = 3});

    result r = run_tool({"info", name});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "layout:    winmmf frame channel"));
    CHECK(contains(r.out, "channel:   3 slots of at most 64 bytes per frame"));
    CHECK(contains(r.out, "frames:    none published yet"));
    CHECK(contains(r.out, "writer:    a running process holds the writer role"));

    test::captured_process watcher = start_tool({"watch", name, "--count", "2"});
    REQUIRE(watcher.wait_for_output("a frame channel of 3 slots"));
    const std::vector<std::byte> pixels(16, std::byte{7});
    frame_meta meta;
    meta.width = 4;
    meta.height = 2;
    meta.format = pixel_format::gray16;
    writer.publish(pixels, meta);
    REQUIRE(watcher.wait_for_output("frame #1: 16 bytes, 4x2"));
    writer.publish(pixels, meta);
    CHECK(watcher.wait() == 0u);
    CHECK(contains(watcher.out(), "frame #2: 16 bytes, 4x2"));

    r = run_tool({"info", name});
    CHECK(contains(r.out, "frames:    newest is #2"));
    const std::string sibling = writer.notification_name().to_utf8();
    CHECK(contains(r.out, "notify:    " + sibling + ": this account may sleep on it"));
    r = run_tool({"info", sibling.substr(sibling.find('\\') + 1)});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "layout:    winmmf frame channel's notification sibling"));
    CHECK(contains(r.out, "notify:    0 reader(s) of the channel asleep on it now"));
    writer.close();
    r = run_tool({"info", name});
    CHECK(contains(r.out, "writer:    none (closed, or never opened)"));
}

TEST_CASE("tool: a polling watch notices that the channel's writer died", "[tool][security]")
{
    REQUIRE_TOOL();
    std::error_code ec;
    const std::string sid = detail::token_user_sid(ec);
    REQUIRE_FALSE(ec);
    const std::string name = test::unique_name("tool-poll-gone");
    auto ready = test::named_event::create(name + "-ready");
    // A notification sibling this account may only read: the watch has to poll.
    auto writer = test::child_process::start(
        L"winmmf_child.exe", {"frame-writer", "local", name, "64", "1", name + "-ready", "D:P(A;;GA;;;SY)(A;;GR;;;" + sid + ")"});
    REQUIRE(ready.wait(test::child_timeout));

    test::captured_process watcher = start_tool({"watch", name, "--interval", "20"});
    REQUIRE(watcher.wait_for_output("polling every 20 ms"));
    writer.kill();
    CHECK(watcher.wait() == 0u);
    CHECK(contains(watcher.out(), "the frame channel's writer process ended without closing the channel"));
}

TEST_CASE("tool: a service's channel - read-only frames - is watched, sleeping or polling", "[tool][security]")
{
    REQUIRE_TOOL();
    std::error_code ec;
    const std::string sid = detail::token_user_sid(ec);
    REQUIRE_FALSE(ec);
    const auto frames_sd = security_descriptor::from_sddl("D:P(A;;GR;;;" + sid + ")");
    for (const std::string notify_rights : {"GRGW", "GR"}) {
        CAPTURE(notify_rights);
        const bool sleeps = notify_rights == "GRGW";
        const auto notify_sd = security_descriptor::from_sddl("D:P(A;;" + notify_rights + ";;;" + sid + ")");
        const std::string name = test::unique_name("tool-service-channel");
        auto writer = frame_writer::create(local(name), {.max_frame_size = 64, .security_attributes = frames_sd.attributes(), .notification_security_attributes = notify_sd.attributes()});
        result r = run_tool({"info", name});
        CHECK(r.code == 0);
        CHECK(contains(r.out, "access:    this account may map it for reading only"));
        CHECK(contains(r.out, sleeps ? writer.notification_name().to_utf8() + ": this account may sleep on it"
                                     : writer.notification_name().to_utf8() +
                                           ": this account may not write it, so its takes can only poll"));

        test::captured_process watcher = start_tool({"watch", name, "--count", "1", "--interval", "20"});
        REQUIRE(watcher.wait_for_output(sleeps ? "woken by its notification" : "polling every 20 ms"));
        if (sleeps) {
            for (int i = 0; i < 60000 && writer.waiting() == 0; ++i) {
                ::Sleep(1); // until it sleeps: the frame below is then what wakes it
            }
            CHECK(writer.waiting() == 1);
        }
        const std::vector<std::byte> pixels(16, std::byte{3});
        writer.publish(pixels);
        CHECK(watcher.wait() == 0u);
        CHECK(contains(watcher.out(), "frame #1: 16 bytes"));
    }
}
