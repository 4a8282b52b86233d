// winmmf unlock NAME --force: clears a WinMMF lock word whose holder is gone.
#include "../command.hpp"
#include "../raw_section.hpp"

#include <winmmf/mapping.hpp>

#include <cstdint>
#include <string>
#include <system_error>

namespace winmmf::tool {

using namespace winmmf::cli;

namespace {

// The documented reset (force_unlock_stale_lock); a corrupt word, which every opener refuses,
// through the raw view. Returns the value replaced.
std::uint32_t clear_lock_word(const invocation& cmd, std::error_code& ec)
{
    if (cmd.layout() == cli::layout::corrupt) {
        raw_view view = raw_view::open(cmd.name.ref, ec);
        return ec ? 0 : view.lock_policy().force_unlock(ec);
    }
    memory_mapped_file m = memory_mapped_file::open(cmd.name.ref, ec);
    return ec ? 0 : m.force_unlock_stale_lock(ec);
}

} // namespace

int run_unlock(const invocation& cmd)
{
    const resolved_name& name = cmd.name;
    const cli::layout l = cmd.layout();
    const std::uint32_t word = cmd.facts.first_word;
    if (l == cli::layout::robust) {
        return fail(exit_incompatible, name.full_utf8 + " uses the robust lock, which needs no forcing: the next "
                                           "process that locks it clears a dead holder by itself. A holder that "
                                           "still runs keeps it (`winmmf info " + name.text + "` names it); nothing "
                                           "was changed");
    }
    if (l != cli::layout::compatible && l != cli::layout::corrupt) {
        return fail(exit_incompatible, name.full_utf8 + " is a " + layout_name(l) +
                                           "; it has no WinMMF lock word, and was left alone");
    }
    if (word == 0) {
        return out().line(name.full_utf8 + ": the lock is free; nothing to do") ? exit_ok : exit_io;
    }
    if (!cmd.has("--force")) {
        return fail(exit_usage, name.full_utf8 + ": lock " + describe_lock_word(word) +
                                    "\n  refusing without --force. The WinMMF lock has no owner, so this tool cannot "
                                    "tell a dead holder from a slow one.\n  If you know the holder is gone, run: "
                                    "winmmf unlock " + name.text + " --force");
    }
    std::error_code ec;
    const std::uint32_t replaced = clear_lock_word(cmd, ec);
    if (ec) {
        return fail(ec, "unlock", name.full_utf8);
    }
    return out().line(name.full_utf8 + ": cleared the lock, which was " + describe_lock_word(replaced) +
                      "; it is free now")
               ? exit_ok
               : exit_io;
}

} // namespace winmmf::tool
