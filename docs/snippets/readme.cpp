// The README's first example, as a program: one process plays both sides (the writer of the
// frame and, "in another process", the reader), so the test can run it alone.
// [snippet:readme]
#include <winmmf/winmmf.hpp>

// [end:readme]
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace {

std::size_t consumed = 0;

void consume(std::span<const std::byte> frame) { consumed = frame.size(); }

} // namespace

int main()
{
    const std::vector<std::uint8_t> pixels(1920 * 1080 * 3, 0x7f);
    // [snippet:readme]
    auto frames = winmmf::memory_mapped_file::create(winmmf::local("frames"), 6'220'800);
    frames.write(0, std::as_bytes(std::span(pixels)));          // under the write lock

    auto view = winmmf::memory_mapped_file::open(winmmf::local("frames"));  // another process
    {
        auto guard = view.lock_read(winmmf::acquire_mode::wait_for(std::chrono::milliseconds(50)));
        consume(guard.bytes());                                  // zero-copy std::span<const std::byte>
    }
    // [end:readme]
    return consumed >= pixels.size() ? 0 : 1;
}
