// examples/frame_service end to end under Wine: the real Service Control Manager starts the
// real service, which publishes into Global\ channels; frame_viewer (another process) finds
// them through the index file, checks every frame, and notices when the service stops.
#include <winmmf/frame_channel.hpp>
#include <winmmf/winmmf.hpp>

#include <catch2/catch_test_macros.hpp>

#include "../../examples/frame_service/index_file.hpp"
#include "../../examples/frame_service/scm.hpp"
#include <test_support.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;

namespace {

std::wstring example(const wchar_t* program) { return test::executable_dir() + L"..\\examples\\" + program; }

test::captured_process run_service_exe(const std::vector<std::string>& args)
{
    return test::captured_process::start(example(L"frame_service.exe"), args);
}

struct finished {
    long code = -1;
    std::string out;
    std::string err;
};

finished run_to_end(test::captured_process p, std::chrono::milliseconds timeout = test::child_timeout)
{
    const std::optional<DWORD> code = p.wait(timeout);
    finished f{code ? static_cast<long>(*code) : -1, p.out(), p.err()};
    UNSCOPED_INFO("stdout: " << f.out);
    UNSCOPED_INFO("stderr: " << f.err);
    return f;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// A fresh directory for the index file, removed with what is left in it.
class temp_directory {
public:
    temp_directory()
    {
        std::wstring file = test::temp_file("index");
        path_ = file.substr(0, file.size() - 4); // drop ".txt"
        REQUIRE(::CreateDirectoryW(path_.c_str(), nullptr));
    }
    temp_directory(const temp_directory&) = delete;
    temp_directory& operator=(const temp_directory&) = delete;
    ~temp_directory()
    {
        WIN32_FIND_DATAW found{};
        const HANDLE search = ::FindFirstFileW((path_ + L"\\*").c_str(), &found);
        if (search != INVALID_HANDLE_VALUE) {
            do {
                ::DeleteFileW((path_ + L"\\" + found.cFileName).c_str());
            } while (::FindNextFileW(search, &found));
            ::FindClose(search);
        }
        ::RemoveDirectoryW(path_.c_str());
    }
    std::string utf8() const { return test::narrow(path_); }

private:
    std::wstring path_;
};

bool file_exists(const std::string& path)
{
    return ::GetFileAttributesW(test::widen(path).c_str()) != INVALID_FILE_ATTRIBUTES;
}

// Removes the test's service on every path out of a test, failed ones included.
class installed_service {
public:
    explicit installed_service(std::string name) : name_(std::move(name)) {}
    installed_service(const installed_service&) = delete;
    installed_service& operator=(const installed_service&) = delete;
    ~installed_service() { (void)frame_service::uninstall_service(test::widen(name_)); }
    const std::string& name() const { return name_; }

    bool exists() const
    {
        const SC_HANDLE scm = ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT);
        REQUIRE(scm != nullptr);
        const SC_HANDLE s = ::OpenServiceW(scm, test::widen(name_).c_str(), SERVICE_QUERY_STATUS);
        const DWORD error = ::GetLastError();
        if (s != nullptr) {
            ::CloseServiceHandle(s);
        }
        ::CloseServiceHandle(scm);
        if (s == nullptr) {
            CHECK(error == ERROR_SERVICE_DOES_NOT_EXIST);
        }
        return s != nullptr;
    }

    // StartServiceW with these arguments, as `sc start NAME args...` does.
    void start(const std::vector<std::string>& args) const
    {
        with_service(SERVICE_START, [&](SC_HANDLE s) {
            std::vector<std::wstring> wide;
            for (const std::string& a : args) {
                wide.push_back(test::widen(a));
            }
            std::vector<const wchar_t*> argv;
            for (const std::wstring& w : wide) {
                argv.push_back(w.c_str());
            }
            INFO("StartServiceW error " << ::GetLastError());
            REQUIRE(::StartServiceW(s, static_cast<DWORD>(argv.size()), argv.empty() ? nullptr : argv.data()));
        });
    }

    void stop() const
    {
        with_service(SERVICE_STOP, [](SC_HANDLE s) {
            SERVICE_STATUS status{};
            REQUIRE(::ControlService(s, SERVICE_CONTROL_STOP, &status));
        });
    }

    // Waits for `state`; returns the last status seen.
    SERVICE_STATUS wait_for(DWORD state, std::chrono::seconds timeout = 60s) const
    {
        SERVICE_STATUS status{};
        with_service(SERVICE_QUERY_STATUS, [&](SC_HANDLE s) {
            const auto deadline = std::chrono::steady_clock::now() + timeout;
            while (::QueryServiceStatus(s, &status) && status.dwCurrentState != state &&
                   std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(50ms);
            }
        });
        return status;
    }

private:
    template <class F>
    void with_service(DWORD access, F&& f) const
    {
        const SC_HANDLE scm = ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT);
        REQUIRE(scm != nullptr);
        const SC_HANDLE s = ::OpenServiceW(scm, test::widen(name_).c_str(), access);
        ::CloseServiceHandle(scm);
        REQUIRE(s != nullptr);
        f(s);
        ::CloseServiceHandle(s);
    }

    std::string name_;
};

std::vector<frame_service::index_entry> read_index_file(const std::string& path)
{
    std::string error;
    auto entries = frame_service::read_index(path, error);
    INFO(error);
    CHECK(error.empty());
    return entries;
}

} // namespace

TEST_CASE("frame_service runs as a Windows service: install, start, clients, stop, uninstall", "[frame_service]")
{
    const std::string basename = "svc" + std::to_string(::GetCurrentProcessId()) + "_" + test::unique_name("f").substr(12);
    const temp_directory dir;
    const std::string index = dir.utf8() + "\\" + basename + ".txt";
    installed_service service("winmmf_test_" + basename);

    // Install-time options: 3 sources at 40 fps; the start arguments below say 2 sources.
    finished installed = run_to_end(run_service_exe({"install", "--service-name", service.name(), "--basename", basename,
                                                     "--sources", "3", "--width", "64", "--height", "48", "--fps", "40",
                                                     "--index-dir", dir.utf8()}));
    REQUIRE(installed.code == 0);
    CHECK(contains(installed.out, "installed"));
    REQUIRE(service.exists());

    // The viewer starts first and waits for the service's index, as a user's program would.
    const std::string ready_name = "Local\\" + basename + "-ready";
    auto ready = test::named_event::create(ready_name);
    auto viewer = test::captured_process::start(example(L"frame_viewer.exe"),
                                                {"--index", index, "--wait", "120", "--min-frames", "10",
                                                 "--ready-event", ready_name});
    service.start({"--sources", "2"});
    CHECK(service.wait_for(SERVICE_RUNNING).dwCurrentState == SERVICE_RUNNING);
    REQUIRE(ready.wait_or_exit(viewer.handle())); // every channel delivered 10 verified frames

    // The index lists exactly the channels the start arguments asked for.
    const auto entries = read_index_file(index);
    REQUIRE(entries.size() == 2);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        CHECK(entries[i].mapping == "Global\\" + basename + "_" + std::to_string(i));
        CHECK(entries[i].width == 64);
        CHECK(entries[i].height == 48);
        CHECK(entries[i].format == pixel_format::rgb24);
        CHECK(entries[i].frame_size == 64 * 48 * 3);
    }

    // A client of our own opens a channel read-only - what the preset grants users - and waits.
    auto reader = frame_reader::open(global(basename + "_1"), {.access = access_mode::read_only});
    std::vector<std::byte> frame(reader.max_frame_size());
    const frame_info info = reader.take(frame, acquire_mode::wait_for(30s));
    CHECK(info.meta.width == 64);
    CHECK(info.meta.stride == 64 * 3);

    // The command-line tool sees the service's channels for what they are.
    const std::wstring tool = test::executable_dir() + L"..\\bin\\winmmf.exe";
    const finished info_run = run_to_end(test::captured_process::start(tool, {"info", "Global\\" + basename + "_0"}));
    CHECK(info_run.code == 0);
    CHECK(contains(info_run.out, "frame channel"));
    const finished watched =
        run_to_end(test::captured_process::start(tool, {"watch", "Global\\" + basename + "_0", "--count", "3"}));
    CHECK(watched.code == 0);
    CHECK(std::count(watched.out.begin(), watched.out.end(), '\n') >= 3);

    // Stopping the service ends every stream: the viewer notices and reports success.
    service.stop();
    CHECK(service.wait_for(SERVICE_STOPPED).dwCurrentState == SERVICE_STOPPED);
    const finished viewed = run_to_end(std::move(viewer));
    CHECK(viewed.code == 0);
    CHECK(contains(viewed.out, "0 checksum failures"));
    CHECK(contains(viewed.out, "end of stream"));
    CHECK_FALSE(contains(viewed.out, "viewer stopped"));
    // Our reader, too: after the frames it has not taken yet, the end of the stream.
    std::error_code ec;
    for (int frames_left = 0; frames_left < 2 && !ec; ++frames_left) {
        (void)reader.take(frame, acquire_mode::wait_for(30s), ec);
    }
    CHECK(ec == errc::end_of_stream);
    CHECK_FALSE(file_exists(index)); // removed on stop

    finished removed = run_to_end(run_service_exe({"uninstall", "--service-name", service.name()}));
    CHECK(removed.code == 0);
    CHECK_FALSE(service.exists());
}

TEST_CASE("a service that cannot set up stops with its own exit code and leaves no index", "[frame_service]")
{
    const std::string basename = "busy" + std::to_string(::GetCurrentProcessId()) + "_" + test::unique_name("f").substr(12);
    const temp_directory dir;
    installed_service service("winmmf_test_" + basename);
    // Someone else already holds the first channel's name.
    auto squatter = memory_mapped_file::create(global(basename + "_0"), 100);

    REQUIRE(run_to_end(run_service_exe({"install", "--service-name", service.name(), "--basename", basename,
                                        "--width", "64", "--height", "48", "--index-dir", dir.utf8()}))
                .code == 0);
    service.start({});
    const SERVICE_STATUS status = service.wait_for(SERVICE_STOPPED);
    CHECK(status.dwCurrentState == SERVICE_STOPPED);
    CHECK(status.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR);
    CHECK(status.dwServiceSpecificExitCode == 10); // could not set up the channels
    CHECK_FALSE(file_exists(dir.utf8() + "\\" + basename + ".txt"));
    // The second channel, created before the failure... was never created: the first failed.
    std::error_code ec;
    (void)frame_reader::open(global(basename + "_1"), ec);
    CHECK(ec == errc::not_found);
    CHECK(squatter.lock_policy().value() == 0); // the squatter's mapping is untouched
}

TEST_CASE("a bad start argument stops the service with the usage exit code", "[frame_service]")
{
    const std::string basename = "arg" + std::to_string(::GetCurrentProcessId()) + "_" + test::unique_name("f").substr(12);
    const temp_directory dir;
    installed_service service("winmmf_test_" + basename);
    REQUIRE(run_to_end(run_service_exe({"install", "--service-name", service.name(), "--basename", basename,
                                        "--width", "64", "--height", "48", "--index-dir", dir.utf8()}))
                .code == 0);
    service.start({"--fps", "0"});
    const SERVICE_STATUS status = service.wait_for(SERVICE_STOPPED);
    CHECK(status.dwCurrentState == SERVICE_STOPPED);
    CHECK(status.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR);
    CHECK(status.dwServiceSpecificExitCode == 1);
    CHECK_FALSE(file_exists(dir.utf8() + "\\" + basename + ".txt"));
    std::error_code ec;
    (void)frame_reader::open(global(basename + "_0"), ec);
    CHECK(ec == errc::not_found); // nothing was created
    // The same service starts fine with good arguments afterwards.
    service.start({"--sources", "1"});
    CHECK(service.wait_for(SERVICE_RUNNING).dwCurrentState == SERVICE_RUNNING);
    service.stop();
    CHECK(service.wait_for(SERVICE_STOPPED).dwServiceSpecificExitCode == 0);
}

TEST_CASE("the standard sc.exe drives the service: sc start with arguments, sc stop, sc delete", "[frame_service]")
{
    const std::string basename = "sc" + std::to_string(::GetCurrentProcessId()) + "_" + test::unique_name("f").substr(12);
    const temp_directory dir;
    const std::string index = dir.utf8() + "\\" + basename + ".txt";
    installed_service service("winmmf_test_" + basename);
    REQUIRE(run_to_end(run_service_exe({"install", "--service-name", service.name(), "--basename", basename,
                                        "--width", "64", "--height", "48", "--index-dir", dir.utf8()}))
                .code == 0);
    wchar_t system_dir[MAX_PATH + 1];
    const UINT n = ::GetSystemDirectoryW(system_dir, MAX_PATH + 1);
    REQUIRE((n > 0 && n <= MAX_PATH));
    const std::wstring sc = std::wstring(system_dir, n) + L"\\sc.exe";
    const auto run_sc = [&](const std::vector<std::string>& args) {
        return run_to_end(test::captured_process::start(sc, args)).code;
    };

    // What an administrator types: the arguments after the name override the installed ones.
    CHECK(run_sc({"start", service.name(), "--sources", "1", "--fps", "15"}) == 0);
    CHECK(service.wait_for(SERVICE_RUNNING).dwCurrentState == SERVICE_RUNNING);
    REQUIRE(test::eventually([&] { return file_exists(index); }));
    CHECK(read_index_file(index).size() == 1);
    auto reader = frame_reader::open(global(basename + "_0"), {.access = access_mode::read_only});
    std::vector<std::byte> frame(reader.max_frame_size());
    CHECK(reader.take(frame, acquire_mode::wait_for(30s)).meta.width == 64);

    CHECK(run_sc({"stop", service.name()}) == 0);
    CHECK(service.wait_for(SERVICE_STOPPED).dwServiceSpecificExitCode == 0);
    CHECK_FALSE(file_exists(index));
    CHECK(run_sc({"delete", service.name()}) == 0);
    CHECK(test::eventually([&] { return !service.exists(); }));
}

TEST_CASE("frame_service run publishes in the foreground until its duration ends", "[frame_service]")
{
    const std::string basename = "fg" + std::to_string(::GetCurrentProcessId()) + "_" + test::unique_name("f").substr(12);
    const temp_directory dir;
    const std::string index = dir.utf8() + "\\" + basename + ".txt";
    auto viewer = test::captured_process::start(example(L"frame_viewer.exe"),
                                                {"--index", index, "--wait", "120", "--min-frames", "5"});
    finished ran = run_to_end(run_service_exe({"run", "--namespace", "local", "--basename", basename, "--sources", "1",
                                               "--width", "32", "--height", "16", "--format", "gray8", "--fps", "50",
                                               "--duration", "3", "--index-dir", dir.utf8()}));
    CHECK(ran.code == 0);
    CHECK(contains(ran.out, "publishing 1 source(s) of 32x16 gray8"));
    CHECK(contains(ran.out, "stopped"));
    const finished viewed = run_to_end(std::move(viewer));
    CHECK(viewed.code == 0);
    CHECK(contains(viewed.out, "Local\\" + basename + "_0"));
    CHECK(contains(viewed.out, "end of stream"));
    CHECK_FALSE(file_exists(index));
}

TEST_CASE("the service restarts while a reader holds its channel, after a clean stop and after a crash",
          "[frame_service][cotenant]")
{
    const std::string basename = "rs" + std::to_string(::GetCurrentProcessId()) + "_" + test::unique_name("f").substr(12);
    const temp_directory dir;
    const std::vector<std::string> common = {"run", "--namespace", "local", "--basename", basename, "--sources", "1",
                                             "--width", "32", "--height", "16", "--format", "gray8", "--fps", "50",
                                             "--index-dir", dir.utf8()};
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = common;
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    };
    const std::string channel = basename + "_0";
    // The next frame, through whatever a restart shows the reader meanwhile (writer_gone,
    // end_of_stream): each take is bounded, and the whole wait is bounded too.
    const auto first_frame_after = [](frame_reader& r, std::vector<std::byte>& out) {
        const auto give_up = std::chrono::steady_clock::now() + 120s;
        std::error_code ec;
        for (;;) {
            const frame_info got = r.take(out, acquire_mode::wait_for(1s), ec);
            if (!ec) {
                return got;
            }
            CAPTURE(ec.message());
            REQUIRE((ec == errc::writer_gone || ec == errc::end_of_stream || ec == errc::timeout));
            REQUIRE(std::chrono::steady_clock::now() < give_up);
            if (ec != errc::timeout) {
                ::Sleep(10);
            }
        }
    };
    auto first = run_service_exe(with({"--duration", "60"}));
    frame_reader reader;
    REQUIRE(test::eventually([&] {
        std::error_code ec;
        reader = frame_reader::open(local(channel), {.access = access_mode::read_only}, ec);
        return !ec;
    }));
    std::vector<std::byte> frame(reader.max_frame_size());
    const std::uint64_t before = reader.take(frame, acquire_mode::wait_for(60s)).sequence;

    // 1. A crash: the service's process ends without closing. The reader holds the channel (the
    // section lives on), learns that the writer is gone, and the service starts again at once.
    first.kill();
    std::error_code ec;
    frame_info info;
    do {
        info = reader.take(frame, acquire_mode::wait_for(10s), ec);
    } while (!ec);
    CHECK(ec == errc::writer_gone);
    CHECK(reader.writer_state() == writer_status::gone);
    auto second = run_service_exe(with({"--duration", "2"}));
    info = first_frame_after(reader, frame);
    CHECK(info.sequence > before); // sequences continue across the restart
    CHECK(reader.writer_state() == writer_status::active);
    const finished ran = run_to_end(std::move(second));
    CHECK(ran.code == 0);
    CHECK(contains(ran.out, "took over Local\\" + channel));

    // 2. A clean stop (the run above ended): the reader sees the end of the stream, and a third
    // run takes the channel over again while the reader still holds it.
    std::uint64_t last = info.sequence;
    do {
        info = reader.take(frame, acquire_mode::wait_for(10s), ec);
        if (!ec) {
            last = info.sequence;
        }
    } while (!ec);
    CHECK(ec == errc::end_of_stream);
    auto third = run_service_exe(with({"--duration", "2"}));
    info = first_frame_after(reader, frame);
    CHECK(info.sequence > last);
    const finished ran3 = run_to_end(std::move(third));
    CHECK(ran3.code == 0);
    CHECK(contains(ran3.out, "took over Local\\" + channel));
}

TEST_CASE("bad arguments fail with a clear message and install nothing", "[frame_service]")
{
    const std::string name = "winmmf_test_bad" + std::to_string(::GetCurrentProcessId());
    installed_service service(name);
    struct bad_case {
        std::vector<std::string> args;
        std::string_view says;
    };
    const std::vector<bad_case> cases = {
        {{"install", "--service-name", name, "--fps", "0"}, "--fps"},
        {{"install", "--service-name", name, "--width", "wide"}, "--width"},
        {{"install", "--service-name", name, "--format", "jpeg"}, "rgb24, bgr24, bgra32 or gray8"},
        {{"install", "--service-name", name, "--basename", "no spaces"}, "--basename"},
        {{"install", "--service-name", name, "--duration", "5"}, "--duration applies to `run` only"},
        {{"install", "--service-name", name, "--colour", "red"}, "unknown option --colour"},
        {{"install", "--service-name", name, "--fps"}, "--fps needs a value"},
        {{"run", "--sources", "17"}, "a number from 1 to 16"},
        {{"install", "--service-name", name, "--source", "webcam"}, "camera:<index|name|symbolic link>"},
        {{"install", "--service-name", name, "--source", "file:a.mp4", "--size", "640x480"}, "its own frame size"},
        {{"run", "--source", "camera:0", "--format", "gray8"}, "publishes nv12, yuy2 or rgb32"},
        {{"frobnicate"}, "unknown command"},
        {{"service"}, "use `frame_service run` in a console"},
    };
    for (const bad_case& c : cases) {
        CAPTURE(c.args);
        const finished f = run_to_end(run_service_exe(c.args));
        CHECK(f.code == 1);
        CHECK(contains(f.err, c.says));
        CHECK_FALSE(service.exists());
    }
    const finished missing = run_to_end(run_service_exe({"uninstall", "--service-name", name}));
    CHECK(missing.code == 3);
    CHECK(contains(missing.err, "no service named " + name));

    // The viewer too: usage, exit 1, never a crash on a malformed or absurd number.
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"--wait", "soon"}, {"--seconds", "-1"}, {"--wait", "1e300"}, {"--min-frames"}, {"--colour", "red"}}) {
        CAPTURE(args);
        const finished f = run_to_end(test::captured_process::start(example(L"frame_viewer.exe"), args));
        CHECK(f.code == 1);
        CHECK(contains(f.err, "usage: frame_viewer"));
    }
}

TEST_CASE("service control failures say what to do", "[frame_service]")
{
    const frame_service::scm_outcome denied = frame_service::detail::failure("creating the service", ERROR_ACCESS_DENIED);
    CHECK(denied.exit_code == frame_service::exit_not_admin);
    CHECK(contains(denied.message, "Run as administrator"));
    // Wine grants every process the SCM rights an administrator has, so the real refusal
    // cannot be produced here; this is the mapping the real one goes through.
    const frame_service::scm_outcome other = frame_service::detail::failure("creating the service", ERROR_INVALID_NAME);
    CHECK(other.exit_code == frame_service::exit_scm_failure);
    CHECK(contains(other.message, "123"));
}

TEST_CASE("a camera source under Wine: no device, the retry policy, then a specific error and exit code 12",
          "[frame_service][camera]")
{
    // Wine's MFEnumDeviceSources finds no camera; the service retries (1 s, then 2 s) as it would
    // for a camera not plugged in yet, then gives up. Nothing is created, no index is written,
    // and no device is ever activated (MFCreateDeviceSource aborts the process under Wine).
    const std::string basename = "cam" + std::to_string(::GetCurrentProcessId()) + "_" + test::unique_name("f").substr(12);
    const temp_directory dir;
    const finished ran = run_to_end(run_service_exe({"run", "--namespace", "local", "--basename", basename, "--source",
                                                     "camera:0", "--retries", "2", "--index-dir", dir.utf8()}));
    CHECK(ran.code == 12);
    CHECK(contains(ran.out, "camera:0: no video capture device is present (MFEnumDeviceSources found 0 video "
                            "capture device(s)); retrying in 1.0 s (retry 1 of 2)"));
    CHECK(contains(ran.out, "retrying in 2.0 s (retry 2 of 2)"));
    CHECK(contains(ran.err, "giving up after 3 attempt(s)"));
    CHECK_FALSE(file_exists(dir.utf8() + "\\" + basename + ".txt"));
    std::error_code ec;
    (void)frame_reader::open(local(basename + "_0"), ec);
    CHECK(ec == errc::not_found);

    // A file that is not there: final at once, no retry.
    const finished missing = run_to_end(run_service_exe({"run", "--namespace", "local", "--basename", basename, "--source",
                                                         "file:no-such-clip.mp4", "--index-dir", dir.utf8()}));
    CHECK(missing.code == 12);
    CHECK(contains(missing.err, "the file cannot be opened or decoded"));
    CHECK_FALSE(contains(missing.out, "retrying"));
}

TEST_CASE("an installed service with a camera source that is not there stops with exit code 12", "[frame_service][camera]")
{
    const std::string basename = "scam" + std::to_string(::GetCurrentProcessId()) + "_" + test::unique_name("f").substr(12);
    const temp_directory dir;
    installed_service service("winmmf_test_" + basename);
    REQUIRE(run_to_end(run_service_exe({"install", "--service-name", service.name(), "--basename", basename, "--source",
                                        "camera:Integrated Camera", "--retries", "1", "--index-dir", dir.utf8()}))
                .code == 0);
    service.start({});
    const SERVICE_STATUS status = service.wait_for(SERVICE_STOPPED);
    CHECK(status.dwCurrentState == SERVICE_STOPPED);
    CHECK(status.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR);
    CHECK(status.dwServiceSpecificExitCode == 12);
    CHECK_FALSE(file_exists(dir.utf8() + "\\" + basename + ".txt"));
}

TEST_CASE("the synthetic source renders NV12 and YUY2, and frame_viewer snapshots them", "[frame_service][snapshot]")
{
    for (const std::string format : {"nv12", "yuy2"}) {
        const std::string basename = "syn" + format + std::to_string(::GetCurrentProcessId()) + "_" +
                                     test::unique_name("f").substr(12);
        const temp_directory dir;
        const std::string index = dir.utf8() + "\\" + basename + ".txt";
        auto service = run_service_exe({"run", "--namespace", "local", "--basename", basename, "--sources", "1", "--size",
                                        "66x34", "--format", format, "--fps", "50", "--duration", "60", "--index-dir",
                                        dir.utf8()});
        const std::string image = dir.utf8() + "\\frame.bmp";
        const finished snap = run_to_end(test::captured_process::start(
            example(L"frame_viewer.exe"), {"--index", index, "--wait", "120", "--snapshot", image}));
        CAPTURE(format);
        CHECK(snap.code == 0);
        CHECK(contains(snap.out, "66x34 " + format + ") written to"));
        CHECK(file_exists(image));
        const auto entries = read_index_file(index);
        REQUIRE(entries.size() == 1);
        CHECK(entries[0].format == (format == "nv12" ? pixel_format::nv12 : pixel_format::yuy2));
        CHECK(entries[0].stride == (format == "nv12" ? 66u : 132u));
        CHECK(entries[0].frame_size == (format == "nv12" ? 66u * 51u : 132u * 34u));
        CHECK(entries[0].source == "synthetic");
        service.kill();
    }
}

TEST_CASE("the service's stored command line keeps paths and camera names with spaces intact", "[frame_service]")
{
    // install_service quotes each stored argument; CommandLineToArgvW (what the service parses
    // its command line with) must give every one back unchanged, trailing backslashes included.
    const std::vector<std::wstring> args = {L"--source", L"file:C:\\my clips\\a b.mp4", L"--source",
                                            L"camera:Logitech BRIO", L"--index-dir", L"C:\\my dir\\",
                                            L"--index-dir", L"C:\\plain\\", L"--fps", L"30"};
    std::wstring line = L"frame_service.exe service";
    for (const std::wstring& arg : args) {
        line += L" " + frame_service::detail::quote(arg);
    }
    int argc = 0;
    LPWSTR* argv = ::CommandLineToArgvW(line.c_str(), &argc);
    REQUIRE(argv != nullptr);
    std::vector<std::wstring> back(argv + 2, argv + argc);
    ::LocalFree(argv);
    CHECK(back == args);
}

TEST_CASE("async_viewer follows every channel the service lists until its --seconds elapse", "[frame_service][async]")
{
    const std::wstring viewer_exe = example(L"async_viewer.exe");
    if (::GetFileAttributesW(viewer_exe.c_str()) == INVALID_FILE_ATTRIBUTES) {
        SKIP("async_viewer.exe is not built (no standalone Asio: cmake/winmmf-asio.cmake)");
    }
    const std::string basename = "av" + std::to_string(::GetCurrentProcessId()) + "_" + test::unique_name("f").substr(12);
    const temp_directory dir;
    const std::string index = dir.utf8() + "\\" + basename + ".txt";
    // The viewer starts before the service has written its index, and keeps looking for it.
    auto viewer = test::captured_process::start(viewer_exe, {"--index", index, "--seconds", "12"});
    const finished ran = run_to_end(run_service_exe({"run", "--namespace", "local", "--basename", basename, "--sources",
                                                     "2", "--width", "32", "--height", "16", "--format", "gray8",
                                                     "--fps", "50", "--duration", "3", "--index-dir", dir.utf8()}));
    CHECK(ran.code == 0);
    const finished viewed = run_to_end(std::move(viewer));
    CHECK(viewed.code == 0); // 0: frames arrived
    for (const std::string suffix : {"_0", "_1"}) {
        const std::string channel = "Local\\" + basename + suffix;
        CHECK(contains(viewed.out, channel + ": frames arriving"));
        CHECK(contains(viewed.out, channel + ": end of stream"));
        CHECK(contains(viewed.out, channel + ": no longer listed; dropped")); // the index went with the service
    }
    CHECK(contains(viewed.out, " fps "));
    CHECK(contains(viewed.out, "--seconds elapsed; stopping"));
}
