// winmmf read NAME [--offset O] [--length L] [--hex|--raw] [--no-lock] [--timeout MS]
#include "../command.hpp"
#include "../raw_section.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace winmmf::tool {

using namespace winmmf::cli;

namespace {

bool print(const invocation& cmd, std::uint64_t offset, std::span<const std::byte> copy)
{
    if (cmd.has("--raw")) {
        return out().bytes(copy);
    }
    if (cmd.has("--hex")) {
        return out().text(hex_string(copy) + "\n");
    }
    hex_dump_writer dump(offset, offset + copy.size());
    constexpr std::size_t chunk = std::size_t{1} << 16; // a multiple of 16
    bool written = true;
    for (std::size_t at = 0; at < copy.size() && written; at += chunk) {
        std::string text;
        dump.add(copy.subspan(at, std::min(chunk, copy.size() - at)), text);
        written = out().text(text);
    }
    std::string text;
    dump.finish(text);
    return written && out().text(text);
}

} // namespace

int run_read(const invocation& cmd)
{
    const resolved_name& name = cmd.name;
    const bool locking = !cmd.has("--no-lock");
    if (const int status = require_data_layout(cmd, locking); status != exit_ok) {
        return status;
    }
    const std::uint64_t capacity = cmd.facts.capacity;
    const std::uint64_t offset = cmd.number("--offset").value_or(0);
    const std::uint64_t length = cmd.number("--length").value_or(offset <= capacity ? capacity - offset : 0);
    if (offset > capacity || length > capacity - offset) {
        return fail(exit_invalid, "read " + name.full_utf8 + ": offset " + std::to_string(offset) + " + length " +
                                      std::to_string(length) + " reaches past the capacity of " +
                                      std::to_string(capacity) + " bytes");
    }
    // Copied out first, so that the lock is held for a memcpy, not for a slow terminal.
    std::vector<std::byte> copy(static_cast<std::size_t>(length));
    const auto at = static_cast<std::size_t>(offset);
    if (locking) {
        std::optional<std::uint32_t> busy_word;
        const std::error_code ec = copy_under_lock(
            cmd, [&](auto& m, std::error_code& e) { m.read(at, copy, cmd.timeout(), e); }, busy_word);
        if (ec && ec != errc::owner_dead) {
            return fail(ec, "read", name.full_utf8,
                        busy_word ? "current state: " + describe_lock_word(*busy_word) +
                                        "; --timeout waits longer, --no-lock reads anyway"
                                  : std::string());
        }
        if (ec == errc::owner_dead) {
            err().line("winmmf: warning: a writer of " + name.full_utf8 +
                       " died holding the lock; the data may be half-written");
        }
    } else {
        std::error_code ec;
        const raw_view view = raw_view::open(name.ref, open_options{.access = access_mode::read_only}, ec);
        if (ec) {
            return fail_open(ec, name);
        }
        const std::span<const std::byte> data = view.unsynchronized_bytes().subspan(data_offset(cmd.layout()));
        if (!copy.empty()) {
            std::memcpy(copy.data(), data.data() + at, copy.size());
        }
    }
    return print(cmd, offset, copy) ? exit_ok : fail(exit_io, "read: writing the output failed");
}

} // namespace winmmf::tool
