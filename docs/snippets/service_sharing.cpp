// A service that publishes Global\ objects that users read (docs/how-to/service-sharing-with-users.md).
// Both halves run in this one process, as one account: under Wine (where anyone may create in
// Global\) the test runs it for real. On Windows, creating in Global\ needs SeCreateGlobalPrivilege
// (a service or an administrator); without it the program reports "skipped" and exits 77, which
// the test counts as skipped.
#include <winmmf/winmmf.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

using namespace std::chrono_literals;

namespace {

int skipped(const std::system_error& e)
{
    if (e.code() == winmmf::errc::global_privilege_missing) {
        std::printf("skipped: %s\n", e.what());
        return 77;
    }
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}

} // namespace

int main()
try {
    const std::vector<std::byte> pixels(1920 * 1080 * 4, std::byte{0x20});
    bool ok = true;
    {
        // [snippet:service-mapping]
        using namespace winmmf;

        const auto sd = security_descriptor::from_preset(security_preset::service_writes_users_read);
        auto frames = memory_mapped_file::create(global("contoso-cam0"), 1920 * 1080 * 4,
                                                 {.security_attributes = sd.attributes()});
        // SDDL, created by SYSTEM: D:P(A;;GA;;;S-1-5-18)(A;;GR;;;AU)
        frames.write(0, pixels);   // the service holds full access
        // [end:service-mapping]

        // [snippet:viewer-mapping]
        std::error_code ec;
        auto view = memory_mapped_file::open(global("contoso-cam0"),
                                             {.access = access_mode::read_only}, ec);
        if (ec == errc::not_found) { /* the service is not running (yet): retry later */ }
        auto bytes = view.unsynchronized_bytes();   // a read-only view cannot take the lock
        // [end:viewer-mapping]
        ok = ok && !ec && bytes.size() >= pixels.size() && bytes[0] == std::byte{0x20};
    }
    {
        const std::size_t size = 4096;
        // [snippet:faq]
        // the service
        auto sd = winmmf::security_descriptor::from_preset(winmmf::security_preset::service_writes_users_read);
        auto m = winmmf::memory_mapped_file::create(winmmf::global("cam0"), size,
                                                    {.security_attributes = sd.attributes()});
        // the user's program
        auto v = winmmf::memory_mapped_file::open(winmmf::global("cam0"),
                                                  {.access = winmmf::access_mode::read_only});
        // [end:faq]
        ok = ok && !v.writable() && v.capacity() == m.capacity();
    }
    {
        using namespace winmmf;
        const std::size_t size = frame_size(1920, 1080, pixel_format::rgb24);
        // [snippet:service-channel]
        // the service
        const auto frames = security_descriptor::from_preset(security_preset::service_writes_users_read);
        const auto wake = security_descriptor::from_preset(security_preset::service_writes_users_read_write);
        auto writer = frame_writer::open_or_create(global("cam_0"),
            {.max_frame_size = size,
             .security_attributes = frames.attributes(),                 // Global\cam_0: users read
             .notification_security_attributes = wake.attributes()});    // Global\cam_0#<nonce>: users read and write
        // [end:service-channel]
        std::vector<std::byte> image(size, std::byte{1});
        // [snippet:user-reader]
        // a user's process
        auto reader = frame_reader::open(global("cam_0"), {.access = access_mode::read_only});
        std::vector<std::byte> frame(reader.max_frame_size());
        // [end:user-reader]
        writer.publish(image, {.width = 1920, .height = 1080, .stride = 5760, .format = pixel_format::rgb24});
        // [snippet:user-reader]
        frame_info info;
        if (reader.can_wait()) {
            info = reader.take(frame, acquire_mode::wait_for(1s));        // sleeps in the kernel
        } else {                                                          // may not write the
            std::error_code ec;                                           // notification: poll
            while (!reader.try_take(frame, info, ec) && !ec) ::Sleep(5);
        }
        // [end:user-reader]
        ok = ok && reader.can_wait() && info.sequence == 1 && info.size == size;
    }
    std::printf("%s\n", ok ? "the viewer read the service's mapping and channel" : "something failed");
    return ok ? 0 : 1;
} catch (const std::system_error& e) {
    return skipped(e);
}
