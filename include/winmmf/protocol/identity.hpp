// winmmf/protocol/identity.hpp - who holds something in shared memory, and when that holder is
// certainly gone.
// Win32 shell: winmmf/detail/process.hpp
//
// Platform-independent (unstable internals: see docs/explanation/trust-model.md). Every role a process can
// hold in a mapping - a robust lock, a frame channel's writer role, a notification's waiter slot,
// an initialisation in progress - is recorded as the holder's identity: its process id and a tag
// of its creation time. Nothing else is trusted to say whether the holder lives: no named object
// (which anybody may pre-create, re-create or keep open), only the kernel's own answer about the
// process, judged here by a pure rule.
#pragma once

#include <winmmf/protocol/atomic_word.hpp>

#include <atomic>
#include <cstdint>

namespace winmmf::protocol {

struct identity {
    std::uint32_t pid = 0;
    std::uint32_t tag = 0; // creation_tag() of the process's creation time
    friend constexpr bool operator==(const identity&, const identity&) = default;
};

inline constexpr std::uint32_t tag_bits = 30;
inline constexpr std::uint32_t tag_mask = (1u << tag_bits) - 1;
// The 62 bits an identity occupies in a 64-bit word; the two above are free for flags.
inline constexpr std::uint64_t identity_mask = (std::uint64_t{1} << 62) - 1;

// 30 bits of a bijective 64-bit mix (splitmix64's finaliser) of the creation time: two
// different creation times share a tag with probability 2^-30, and only a process that got a
// dead holder's id *and* its tag would be taken for it - which makes waiters wait for that
// process to exit, and never lets two holders in.
constexpr std::uint32_t creation_tag(std::uint64_t creation_time) noexcept
{
    std::uint64_t z = creation_time + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<std::uint32_t>(z >> (64 - tag_bits));
}

constexpr std::uint64_t pack(identity id) noexcept
{
    return std::uint64_t{id.pid} | (std::uint64_t{id.tag & tag_mask} << 32);
}

constexpr identity owner_of(std::uint64_t w) noexcept
{
    return {static_cast<std::uint32_t>(w & 0xFFFFFFFFu), static_cast<std::uint32_t>((w >> 32) & tag_mask)};
}

// A word that names a process and nothing else (no flag bits, a process id that is not 0).
constexpr bool is_identity(std::uint64_t w) noexcept
{
    return (w & ~identity_mask) == 0 && owner_of(w).pid != 0;
}

// ---- is the holder gone? --------------------------------------------------------------------

// What the platform could find out about process `pid` without waiting. Declaring a live holder
// dead would break mutual exclusion or rob a live writer of its role, so only positive evidence
// counts: "gone" needs one of the facts below, and every doubt - a process we may not open, a
// call that failed, an exit code that reads STILL_ACTIVE - counts as running.
struct process_facts {
    enum class opened : std::uint8_t {
        yes,            // a handle was obtained (with SYNCHRONIZE, or with limited query rights only)
        no_such_process, // the kernel has no process object with this id (ERROR_INVALID_PARAMETER)
        denied,         // it exists, and its descriptor shuts us out
        failed,         // any other failure: unknown
    };
    enum class listing : std::uint8_t {
        not_consulted, // the process list was not read (a handle answered, or it could not be read)
        absent,        // the system's process list has no running process with this id
        present,       // it has one; creation_time is its creation time
    };
    opened open = opened::failed;
    bool signalled = false;       // the handle could wait, and the process object is signalled
    bool exit_code_known = false; // GetExitCodeProcess answered...
    bool still_active = true;     // ...with STILL_ACTIVE (259), which a process may also exit with
    bool has_creation_time = false;
    std::uint64_t creation_time = 0;
    listing listed = listing::not_consulted;
};

// True only when the process named by `holder` has certainly ended: no process has its id, its
// process object is signalled, it has exited with a code other than STILL_ACTIVE, or the process
// that has its id now was created at another time (the id was reused, so the holder exited).
constexpr bool certainly_gone(identity holder, const process_facts& f) noexcept
{
    if (f.open == process_facts::opened::no_such_process || f.listed == process_facts::listing::absent) {
        return true;
    }
    if (f.signalled || (f.exit_code_known && !f.still_active)) {
        return true;
    }
    return f.has_creation_time && creation_tag(f.creation_time) != holder.tag;
}

// ---- roles held by an identity -----------------------------------------------------------------
//
// An owner word is 0 (free) or the identity of the process that holds the role. It changes only
// by compare-exchange: claim from free or from a holder that is certainly gone, release from
// one's own identity to 0. A word holding anything else - no step writes it - counts as nobody's
// (whoever may write the word can put any value there, and it must not lock the role away).

enum class claim_outcome : std::uint8_t {
    claimed,     // the word now names `me`
    held,        // another process that may be alive holds it
    held_by_me,  // this process holds it already (another object of ours)
};

// `alive(identity)`: false only when the holder is certainly gone (the platform's probe).
// The word: std::atomic_ref over the mapping in the library; any atomic_word in a model.
template <class Alive, atomic_word<std::uint64_t> W = std::atomic_ref<std::uint64_t>>
claim_outcome try_claim(W word, identity me, Alive&& alive, std::uint64_t& replaced) noexcept
{
    const std::uint64_t mine = pack(me);
    std::uint64_t current = word.load(std::memory_order_acquire); // pairs with release below
    // A bound on the retries: each failed exchange means another process changed the word, and
    // after a few rounds the caller is told the role is held rather than spinning on a word
    // someone keeps rewriting.
    for (int attempt = 0; attempt < 8; ++attempt) {
        if (current == mine) {
            return claim_outcome::held_by_me;
        }
        if (current != 0 && is_identity(current) && alive(owner_of(current))) {
            return claim_outcome::held;
        }
        const std::uint64_t seen = current;
        // acq_rel: what the previous holder wrote before its release is visible to us, and what
        // we write after the claim is not visible before it.
        if (word.compare_exchange_strong(current, mine, std::memory_order_acq_rel, std::memory_order_acquire)) {
            replaced = seen;
            return claim_outcome::claimed;
        }
    }
    return claim_outcome::held;
}

// Gives the role back if the word still names `me`; false if it did not (a stray write, or a
// misjudged liveness took it away).
template <atomic_word<std::uint64_t> W = std::atomic_ref<std::uint64_t>>
bool release_claim(W word, identity me) noexcept
{
    std::uint64_t expected = pack(me);
    // release: everything the holder wrote is visible to the next claimer (pairs with try_claim).
    return word.compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed);
}

} // namespace winmmf::protocol
