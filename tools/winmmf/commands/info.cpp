// winmmf info NAME: what inspect() finds, in words. Nothing is locked or written.
#include "../command.hpp"

#include <winmmf/inspect.hpp>
#include <winmmf/robust_lock.hpp>

#include <cstdint>
#include <string>

namespace winmmf::tool {

using namespace winmmf::cli;

namespace {

// The robust header's state: who holds the lock and whether they still run, or why openers
// refuse it.
std::string describe_robust(const inspection& i)
{
    const robust_lock_state& r = i.robust;
    if (i.refusal == errc::unsupported_layout_version) {
        return "robust layout version " + std::to_string(r.version) + ", not version " +
               std::to_string(inspection::robust_layout_version) +
               ": winmmf processes of this version refuse it (unsupported_layout_version)";
    }
    if (!r.ready) {
        if (!i.refusal) {
            return "being initialised by process " + std::to_string(r.initialiser_pid) +
                   (i.robust_initialiser_alive ? "" : " (which has exited: the next opener finishes it)");
        }
        if (i.robust_init == 0) {
            return "CORRUPT: the marker is there but no creator is named in the initialisation word, which no "
                   "winmmf process of this layout version leaves (openers report corrupt_lock_word)";
        }
        return "CORRUPT: the initialisation word holds a value no winmmf process writes [" + hex64(i.robust_init) +
               "] (openers report corrupt_lock_word)";
    }
    std::string text;
    if (r.writer_pid != 0) {
        text = (r.writer_holds ? "held by a writer, process " : "claimed by a writer waiting for readers, process ") +
               std::to_string(r.writer_pid) +
               (i.robust_writer_alive ? " (running)" : " (exited: the next locker clears it)");
    } else if (r.readers != 0) {
        text = "held by " + std::to_string(r.readers) + (r.readers == 1 ? " reader" : " readers");
    } else {
        text = "free";
    }
    if (r.owner_died) {
        text += "; a writer died holding it, so lockers are told owner_dead until one unlocks normally";
    }
    if (r.corrupt) {
        text += "; CORRUPT: a lock word holds a value no winmmf process writes (lockers and openers report "
                "corrupt_lock_word)";
    }
    return text + "\nrecovered: " + std::to_string(r.recoveries) + " dead holder(s) cleared since creation";
}

std::string describe_channel(const inspection& i)
{
    if (i.refusal) {
        return "channel:   unreadable: " + i.refusal.message() + "\n";
    }
    const channel_inspection& c = i.channel;
    std::string text;
    text += "channel:   " + std::to_string(c.slots) + " slots of at most " + std::to_string(c.max_frame_size) +
            " bytes per frame\n";
    text += "frames:    " +
            (c.published == 0 ? std::string("none published yet") : "newest is #" + std::to_string(c.published)) + "\n";
    switch (c.writer) {
    case writer_status::active:
        text += "writer:    a running process holds the writer role (process " + std::to_string(c.writer_pid) + ")\n";
        break;
    case writer_status::closed:
        text += "writer:    none (closed, or never opened)\n";
        break;
    case writer_status::gone:
        text += "writer:    its process (" + std::to_string(c.writer_pid) +
                ") ended without closing the channel; a new writer may take it over\n";
        break;
    }
    text += "readers:   " + std::to_string(c.waiting) + " waiting for a frame now\n";
    text += "notify:    " +
            (c.notification.empty() ? std::string("(no writer has made one)") : c.notification.to_utf8()) + ": ";
    if (c.can_wait) {
        text += "this account may sleep on it\n";
    } else if (c.wait_refusal == errc::read_only) {
        text += "this account may not write it, so its takes can only poll\n";
    } else {
        text += "unusable (" + (c.wait_refusal ? c.wait_refusal.message() : std::string("not opened")) +
                "), so takes can only poll\n";
    }
    return text;
}

std::size_t page_size() noexcept
{
    SYSTEM_INFO si{};
    ::GetSystemInfo(&si);
    return si.dwPageSize;
}

} // namespace

int run_info(const invocation& cmd)
{
    const inspection& i = cmd.facts;
    const cli::layout l = cmd.layout();
    const std::size_t page = page_size();
    std::string text;
    text += "name:      " + cmd.name.full_utf8 + "\n";
    text += "section:   " + std::to_string(i.section_size) + " bytes (" + std::to_string(i.section_size / page) +
            " pages of " + std::to_string(page) + "; the size its creator asked for is not recorded)\n";
    text += "layout:    " + layout_name(l) + "\n";
    switch (l) {
    case cli::layout::compatible:
    case cli::layout::corrupt:
        text += "capacity:  " + std::to_string(i.capacity) + " bytes of data after the 4-byte lock word\n";
        text += "lock:      " + describe_lock_word(i.first_word) + "\n";
        break;
    case cli::layout::robust:
        text += "capacity:  " + std::to_string(i.capacity) + " bytes of data after the " +
                std::to_string(robust_lock::header_size) + "-byte header\n";
        text += "lock:      " + describe_robust(i) + "\n";
        break;
    case cli::layout::frame_channel:
        text += describe_channel(i);
        break;
    case cli::layout::notification:
        text += i.refusal ? "notify:    too small to hold a notification block\n"
                          : "notify:    sequence " + std::to_string(i.notification_sequence) + ", " +
                                std::to_string(i.notification_waiting) + " waiter(s) asleep on it now\n";
        break;
    case cli::layout::channel_notify:
        text += i.refusal ? "notify:    too small to hold the waiter slots\n"
                          : "notify:    " + std::to_string(i.notification_waiting) +
                                " reader(s) of the channel asleep on it now (`winmmf info` on the channel describes "
                                "the frames)\n";
        break;
    case cli::layout::unknown_marker:
        text += "header:    first word " + hex32(i.first_word) + "; this tool does not know that layout\n";
        break;
    }
    // Whether this account could write: the question behind most "access denied" reports.
    text += "access:    ";
    text += i.writable ? "this account may map it for reading and writing\n"
                       : "this account may map it for reading only (write access: Win32 error " +
                             std::to_string(i.write_refusal.value()) + ")\n";
    if (!out().text(text)) {
        return exit_io;
    }
    // Only a WinMMF-compatible mapping is shared with Rust WinMMF peers; for it, say when its name
    // is one they cannot reach. A warning: nothing is wrong with the mapping itself.
    if (l == cli::layout::compatible || l == cli::layout::corrupt) {
        if (const std::string problem = winmmf_name_problem(cmd.name.full); !problem.empty()) {
            err().line("winmmf: warning: a Rust WinMMF peer cannot share the name " + cmd.name.full_utf8 + ": " +
                       problem);
        }
    }
    // Openers of a WinMMF lock word or a robust header would refuse it (a corrupt word, another
    // layout version). A channel or notification that cannot be read is described, not refused.
    const bool refused = i.refusal && (l == cli::layout::compatible || l == cli::layout::corrupt || l == cli::layout::robust);
    return refused ? exit_incompatible : exit_ok;
}

} // namespace winmmf::tool
