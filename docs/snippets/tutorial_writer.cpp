// [snippet:writer]
// writer.cpp: creates the mapping, writes a message, and keeps the mapping alive until Enter.
#include <winmmf/winmmf.hpp>
#include <cstdio>
#include <string_view>

int main()
{
    try {
        // One 4096-byte page holds the 4-byte lock word and 4092 bytes of data.
        auto m = winmmf::memory_mapped_file::create(winmmf::local("getting-started"),
                                                    4096 - winmmf::memory_mapped_file::header_size);
        const std::string_view text = "hello from the writer";
        m.write(0, std::as_bytes(std::span(text)));          // takes the write lock for the copy
        std::printf("wrote to %s (%zu bytes usable); press Enter to end\n",
                    m.name().to_utf8().c_str(), m.capacity());
        std::fflush(stdout);
        std::getchar();                                       // the mapping dies with its last handle
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "writer: %s\n", e.what());       // e.g. "winmmf: create Local\...: ..."
        return 1;
    }
}
// [end:writer]
