// winmmf/protocol/robust_word.hpp - the robust lock's shared header and its state machines.
// Win32 shell: winmmf/robust_lock.hpp
//
// Platform-independent: atomic words in shared memory (std::atomic_ref in the library, rl::atomic
// in the Relacy model: the `M` parameters, protocol/atomic_word.hpp), nothing else. Whatever
// needs the operating system - the clock, "is this process still running?", how a waiter
// sleeps - comes in through an environment parameter (see `environment` below), so the
// native tests and the fuzzer drive this very code with a fake clock and a scripted liveness
// oracle, and can prove the recovery bound without measuring time. robust_lock.hpp plugs in
// the Win32 environment. docs/explanation/reliability.md explains the design and its costs.
//
// The header (1024 bytes, at offset 0 of the mapping; user data follows it), layout version 3:
//
//   offset  size  field
//        0     4  marker      protocol::lock_word::robust_layout_marker: WinMMF peers and compatible_lock
//                             read it as "not mine" and stay away
//        4     4  version     0 until ready, then layout_version
//        8     8  init        0, the identity of the process initialising, or ready_value
//                             (the first 16 bytes are protocol/section.hpp's prologue: creation
//                             and opening follow the handshake every winmmf layout uses)
//       16     8  writer      0 / dirty: free; identity [+ held] [+ dirty]: a writer
//       24     8  recoveries  how many dead holders were cleared (diagnostics)
//       32    16  occupied    summary of the reader slots: bit i of word i / 64 is set while
//                             slot i may hold a reader inside the lock (bits 120-127 zero)
//       48    16  reserved    zero
//       64   960  readers     120 slots: 0 free, the identity of one shared holder, or
//                             reclaim_bit + the identity of a process clearing a dead holder
//
// Every field is a fixed-width integer at a naturally aligned offset, so 32- and 64-bit
// processes see the same layout (the static_asserts below) and share one mapping.
//
// An identity is a process id (bits 0-31) and 30 bits of a hash of the process's creation
// time (bits 32-61), so a process that reuses a dead holder's id is not taken for it.
//
// Why the summary: a writer must know that no reader is inside. Scanning all 120 slots on
// every acquisition cost 960 bytes of loads; the summary lets the uncontended writer decide
// from the cache line that holds the writer word. A reader sets its bit after it has claimed
// its slot and before it looks at the writer word again, and clears it before it frees the
// slot; the writer reads the summary after it has claimed the writer word. All four accesses
// are seq_cst, so a reader and a writer that race always see one another (Dekker), and a set
// bit always belongs to a slot that is not free.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/error.hpp>
#include <winmmf/protocol/atomic_word.hpp>
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/identity.hpp>
#include <winmmf/protocol/section.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>

namespace winmmf::protocol::robust_word {

using word_type = std::uint64_t;
static_assert(std::atomic_ref<word_type>::is_always_lock_free,
              "the robust header is shared between processes; its words must be lock-free");

// A holder is a process identity (protocol/identity.hpp): process id and creation-time tag.
using protocol::identity;
using protocol::tag_bits;
using protocol::tag_mask;
using protocol::identity_mask;
using protocol::creation_tag;
using protocol::pack;
using protocol::owner_of;

// Writer word only. Set while the writer owns the data; clear while it has claimed the word
// but still waits for readers to leave. A writer that dies without it set never touched the
// data, so nobody is told owner_dead for it.
inline constexpr word_type held_bit = word_type{1} << 62;
// Writer word only. A writer died holding the lock: every acquirer is told owner_dead until a
// writer releases the lock normally (the writer that was told repairs the data, then unlocks).
inline constexpr word_type dirty_bit = word_type{1} << 63;
// Reader slots only. The slot of a dead holder is being cleared by the process whose identity
// accompanies this bit. No reader's identity has it, so no unlock and no new reader can mistake
// the slot for theirs while its summary bit is cleared; and if the clearing process dies too,
// the next scan finds a dead identity here and finishes the job.
inline constexpr word_type reclaim_bit = word_type{1} << 62;

inline constexpr std::size_t reader_slots = 120;
inline constexpr std::size_t summary_words = 2;
inline constexpr std::uint16_t no_slot = 0xFFFF;
// 1: no summary, writers scanned every slot. 2: the occupied summary. 3: the same words, created
// and opened by protocol/section.hpp's handshake (the creator names itself in init before its
// marker appears, so a slow creator is never taken over). Processes of different versions
// refuse each other's mappings (attach): a version 1 reader does not set summary bits, and
// versions 2 and 3 create differently (a version 2 creator shows its marker before naming
// itself, which version 3 reads as a state no step leaves).
inline constexpr std::uint32_t layout_version = 3;
// Bit 63 keeps it apart from every identity; the low bits name the layout, so a future
// layout is told apart from a corrupt word (ready_family).
inline constexpr word_type ready_family = protocol::ready_family;
inline constexpr word_type ready_value = protocol::ready_value(layout_version, reader_slots);

struct header {
    std::uint32_t marker;
    std::uint32_t version;
    word_type init;
    word_type writer;
    word_type recoveries;
    word_type occupied[summary_words];
    word_type reserved[2];
    word_type readers[reader_slots];
};
static_assert(sizeof(header) == 1024);
static_assert(offsetof(header, init) == 8 && offsetof(header, writer) == 16 && offsetof(header, recoveries) == 24 &&
              offsetof(header, occupied) == 32 && offsetof(header, reserved) == 48 &&
              offsetof(header, readers) == 64);
static_assert(reader_slots <= 64 * summary_words);

// Where slot i's bit lives in the summary.
constexpr std::size_t summary_index(std::size_t slot) noexcept { return slot / 64; }
constexpr word_type summary_bit(std::size_t slot) noexcept { return word_type{1} << (slot % 64); }
// The bits of summary word k that name a slot; any other bit set is corruption.
constexpr word_type summary_mask(std::size_t k) noexcept
{
    const std::size_t first = 64 * k;
    const std::size_t count = reader_slots > first ? std::min<std::size_t>(reader_slots - first, 64) : 0;
    return count == 64 ? ~word_type{0} : (word_type{1} << count) - 1;
}

inline std::atomic_ref<word_type> ref(word_type& w) noexcept { return std::atomic_ref<word_type>(w); }
inline std::atomic_ref<std::uint32_t> ref(std::uint32_t& w) noexcept
{
    return std::atomic_ref<std::uint32_t>(w);
}

enum class writer_state : std::uint8_t {
    free,    // 0, or dirty_bit alone
    owned,   // an identity, with or without held / dirty
    corrupt, // no identity but other bits set: nothing in the protocol writes that
};

constexpr writer_state classify_writer(word_type w) noexcept
{
    if (owner_of(w).pid != 0) {
        return writer_state::owned;
    }
    return (w & ~dirty_bit) == 0 ? writer_state::free : writer_state::corrupt;
}

enum class slot_state : std::uint8_t {
    free,       // 0
    reader,     // an identity: a reader inside, arriving (bit not set yet) or leaving (bit cleared)
    reclaiming, // reclaim_bit + the identity of the process clearing a dead holder's slot
    corrupt,    // anything else: bit 63, or no process id
};

constexpr slot_state classify_slot(word_type s) noexcept
{
    if (s == 0) {
        return slot_state::free;
    }
    if ((s & dirty_bit) != 0 || owner_of(s).pid == 0) {
        return slot_state::corrupt;
    }
    return (s & reclaim_bit) != 0 ? slot_state::reclaiming : slot_state::reader;
}

constexpr bool is_valid_slot(word_type s) noexcept { return classify_slot(s) != slot_state::corrupt; }

// What a waiter needs from the platform: protocol::environment (the clock, "is this process
// certainly gone?", pauses). Optionally, at(step) (see `step` below): the tests' environments
// take a snapshot there to stage a death at that point; the Win32 environment has none, and then
// it costs nothing.
template <class E>
concept environment = protocol::environment<E>;

// The points inside one operation where a process that dies leaves a state that is not the
// state before or after the operation: right after each shared write that is not its last.
enum class step : std::uint8_t {
    writer_claimed,      // the writer word names us (with held); the summary is not read yet
    writer_waiting,      // readers are in: the claim is kept, held cleared
    reader_claimed,      // a reader slot names us; its summary bit is not set yet
    reader_published,    // the summary bit is set; the writer word is not read again yet
    reader_leaving,      // the summary bit is cleared (unlock, or backing off); the slot not freed
    reclaim_started,     // recovery: a dead holder's slot names us (reclaim_bit); bit not cleared
    reclaim_unpublished, // recovery: the slot's summary bit is cleared; the slot not freed
    reclaim_freed,       // recovery: the slot is free; recoveries not counted yet
};

// For the calls that take no environment.
struct no_observer {};

using protocol::check_interval;
using protocol::first_check_delay;

struct lock_result {
    errc error{};
    bool owner_died = false;     // held, but a writer died holding it before: data may be torn
    std::uint16_t slot = no_slot; // the reader slot a shared lock took
};

// The shared state at one moment (each word read once, so not a consistent cut while others
// lock); for diagnostics and tests.
struct snapshot {
    std::uint32_t marker = 0;
    word_type init = 0;
    word_type writer = 0;
    word_type recoveries = 0;
    std::size_t readers = 0; // reader slots not free (holders, arriving or leaving readers, ones being cleared)
    std::array<word_type, summary_words> occupied{};
    // The writer word, a reader slot or the summary holds a value no step of the protocol
    // writes: every lock call that meets it reports corrupt_lock_word, and so does attach.
    bool corrupt = false;
};

namespace detail {

using protocol::detail::at;

// Liveness answers for one scan: each distinct holder is asked about once.
template <environment Env>
class liveness_cache {
public:
    explicit liveness_cache(Env& env) noexcept : env_(env) {}

    bool alive(word_type holder) noexcept
    {
        const word_type id = holder & identity_mask;
        for (std::size_t i = 0; i < used_; ++i) {
            if (entries_[i].id == id) {
                return entries_[i].alive;
            }
        }
        const bool result = env_.alive(owner_of(id));
        if (used_ < entries_.size()) {
            entries_[used_++] = {id, result};
        }
        return result;
    }

private:
    struct entry {
        word_type id;
        bool alive;
    };
    Env& env_;
    std::array<entry, 8> entries_{};
    std::size_t used_ = 0;
};

// ---- orders ------------------------------------------------------------------------------------
//
// Most of the robust lock's operations are seq_cst: the reader/writer handshake is a Dekker pair
// (each side writes its word, then reads the other's), which needs the single total order of
// seq_cst on all four accesses, and the recovery paths read and rewrite the same words. The
// constants below are the orders a model's mutation check weakens (protocol/atomic_word.hpp;
// tests/relacy/robust_model.cpp); docs/explanation/memory-model.md has the table.
//
// A reader looks at the writer word again after publishing its bit (Dekker, reader's read).
inline constexpr std::memory_order reader_recheck =
    order_unless_mutant(std::memory_order_seq_cst, "robust_reader_recheck_acquire", std::memory_order_acquire);
// A writer reads the summary after claiming the writer word (Dekker, writer's read).
inline constexpr std::memory_order writer_summary =
    order_unless_mutant(std::memory_order_seq_cst, "robust_writer_summary_acquire", std::memory_order_acquire);
// A writer's unlock: its release half publishes the critical section to the next holder.
inline constexpr std::memory_order writer_unlock =
    order_unless_mutant(std::memory_order_seq_cst, "robust_unlock_release_dropped", std::memory_order_acquire);
// A reader clearing its bit: its release half orders the reader's reads before the next
// writer's writes (the writer acquires by reading the cleared bit).
inline constexpr std::memory_order reader_unpublish =
    order_unless_mutant(std::memory_order_seq_cst, "robust_reader_leave_relaxed", std::memory_order_relaxed);

template <class M>
word_t<M, word_type> summary_of(header& h, std::size_t slot) noexcept
{
    return M::word(h.occupied[summary_index(slot)]);
}

// Bits in the summary that name no slot. Each word is checked on its own, and no step ever
// sets such a bit, so this is never a transient view.
template <class M>
bool summary_is_corrupt(header& h) noexcept
{
    for (std::size_t k = 0; k < summary_words; ++k) {
        // seq_cst: one more read of the words the Dekker pair uses; it only looks for stray bits.
        if ((M::word(h.occupied[k]).load(std::memory_order_seq_cst) & ~summary_mask(k)) != 0) {
            return true;
        }
    }
    return false;
}

// Frees slot `index`, which names `mine` (a reader leaving, or backing off). The bit goes
// first: from the moment the slot is free another reader may claim it and set the bit again,
// and nobody but that reader may clear it then.
template <class M, class Env>
bool leave_slot(header& h, std::size_t index, word_type mine, Env& env) noexcept
{
    // reader_unpublish (seq_cst): pairs with the writer's summary read (writer_summary); a writer
    // that sees the bit clear also sees every read this reader made inside the lock.
    summary_of<M>(h, index).fetch_and(~summary_bit(index), reader_unpublish);
    at(env, step::reader_leaving);
    word_type expected = mine;
    // seq_cst: pairs with the next claimer's exchange from 0 and with recover_dead's slot loads.
    return M::word(h.readers[index]).compare_exchange_strong(expected, 0, std::memory_order_seq_cst);
}

// Clears the slot of a dead holder, last seen holding `seen`. Only the process whose
// compare-exchange moves the slot to reclaim_bit + `mine` goes on, and while the slot names it
// nobody can claim the slot, so the bit it clears is the dead holder's (or already clear) and
// never a new reader's. If this process dies half-way, the slot names a dead process again and
// the next scan repeats the steps. Counted once, when the slot is free.
template <class M, class Env>
bool reclaim_slot(header& h, std::size_t index, word_type seen, word_type mine, Env& env) noexcept
{
    auto slot = M::word(h.readers[index]);
    const word_type reclaiming = mine | reclaim_bit;
    // seq_cst: from the exact value seen; acquires what the dead holder wrote before it died.
    if (!slot.compare_exchange_strong(seen, reclaiming, std::memory_order_seq_cst)) {
        return false; // it changed hands meanwhile: whoever has it now was not judged
    }
    at(env, step::reclaim_started);
    // seq_cst: as a reader's own unpublish (leave_slot), on the dead reader's behalf.
    summary_of<M>(h, index).fetch_and(~summary_bit(index), std::memory_order_seq_cst);
    at(env, step::reclaim_unpublished);
    word_type expected = reclaiming;
    // seq_cst: frees the slot after its bit (a claimer's exchange from 0 pairs with it).
    slot.compare_exchange_strong(expected, 0, std::memory_order_seq_cst);
    at(env, step::reclaim_freed);
    // relaxed: a diagnostics counter; nothing is ordered by it.
    M::word(h.recoveries).fetch_add(1, std::memory_order_relaxed);
    return true;
}

enum class scan_result : std::uint8_t {
    nothing,   // nobody dead, nothing impossible
    recovered, // at least one dead holder cleared
    corrupt,   // a word holds a value no step writes (dead holders were still cleared)
};

// Clears every holder that is certainly dead: a dead writer's claim (marking the data dirty
// if it held the lock), the slots of dead readers - whether or not their summary bit is set,
// so a reader that died between claiming its slot and setting its bit, or between clearing
// its bit and freeing its slot, does not leak the slot - and slots whose clearing process
// died. Each change starts with a compare-exchange from the exact value seen, so a slot or
// word that changed hands meanwhile is left alone. Never touches `mine` (the caller's own
// process is alive). Every slot is looked at here, so a corrupt one is reported here.
template <class M = mapped_memory, environment Env>
scan_result recover_dead(header& h, word_type mine, Env& env) noexcept
{
    liveness_cache<Env> cache(env);
    bool recovered = false;
    bool corrupt = summary_is_corrupt<M>(h);
    auto writer = M::word(h.writer);
    // seq_cst: the exchange below starts from this exact value; any order would do for that,
    // seq_cst keeps the scan in the handshake's total order.
    word_type w = writer.load(std::memory_order_seq_cst);
    const writer_state state = classify_writer(w);
    if (state == writer_state::corrupt) {
        corrupt = true;
    } else if (state == writer_state::owned && (w & identity_mask) != mine && !cache.alive(w)) {
        const word_type freed = (w & held_bit) != 0 ? dirty_bit : (w & dirty_bit);
        // seq_cst: its release half publishes "free" (and dirty) to the next claimer, as an
        // unlock would; its acquire half takes what the dead writer wrote.
        if (writer.compare_exchange_strong(w, freed, std::memory_order_seq_cst)) {
            // relaxed: diagnostics counter.
            M::word(h.recoveries).fetch_add(1, std::memory_order_relaxed);
            recovered = true;
        }
    }
    for (std::size_t i = 0; i < reader_slots; ++i) {
        // seq_cst: reclaim_slot's exchange starts from this exact value.
        const word_type s = M::word(h.readers[i]).load(std::memory_order_seq_cst);
        switch (classify_slot(s)) {
        case slot_state::free:
            break;
        case slot_state::corrupt:
            corrupt = true;
            break;
        case slot_state::reader:
        case slot_state::reclaiming:
            if ((s & identity_mask) != mine && !cache.alive(s) && reclaim_slot<M>(h, i, s, mine, env)) {
                recovered = true;
            }
            break;
        }
    }
    return corrupt ? scan_result::corrupt : recovered ? scan_result::recovered : scan_result::nothing;
}

// The writer side of one lock call. The claim on the writer word outlives a failed attempt:
// while a writer waits for readers to leave, its claim keeps new readers out (writer
// preference), so a stream of readers cannot starve it.
template <class M>
class basic_writer_attempt {
public:
    basic_writer_attempt(header& h, identity me) noexcept : h_(h), mine_(pack(me)) {}

    template <class Env>
    errc operator()(Env& env) noexcept
    {
        auto writer = M::word(h_.writer);
        word_type current = 0;
        if (!claimed_) {
            // Expect the free, clean word: no load first, so the cache line is fetched once,
            // for writing. A failed exchange tells us what is there instead.
            word_type w = 0;
            // seq_cst: the writer's write of the Dekker pair (a reader reads it in its recheck);
            // its acquire half reads the previous writer's unlock (writer_unlock) or a
            // recovery's release, so their critical sections happen before ours.
            while (!writer.compare_exchange_weak(w, mine_ | held_bit | (w & dirty_bit), std::memory_order_seq_cst)) {
                const writer_state state = classify_writer(w);
                if (state == writer_state::corrupt) {
                    return errc::corrupt_lock_word;
                }
                if (state == writer_state::owned) {
                    return errc::write_locked;
                }
            }
            // The claim carries held_bit already: if no reader is in, the lock is ours without
            // another write.
            dirty_ = w & dirty_bit;
            claimed_ = true;
            current = mine_ | held_bit | dirty_;
            at(env, step::writer_claimed);
        } else {
            // seq_cst: our own claim, read back; only a liveness misjudgement changes it.
            current = writer.load(std::memory_order_seq_cst);
            if (current != held() && current != pending()) {
                // Only a liveness misjudgement can take a claim away from a live process.
                claimed_ = false;
                return errc::corrupt_lock_word;
            }
        }
        // seq_cst on both sides (claim, then the summary here; bit, then the writer word in
        // readers) means a reader and a writer that race always see at least one another.
        const errc readers = reader_refusal();
        if (readers != errc{}) {
            // Not ours yet: a crash from here on must not report owner_dead.
            // seq_cst: held -> pending, so a crash from here on is not a dirty death; readers
            // never look at held_bit, so this orders nothing for them.
            if (current == held() && writer.compare_exchange_strong(current, pending(), std::memory_order_seq_cst)) {
                at(env, step::writer_waiting);
            }
            return readers;
        }
        // seq_cst: pending -> held, after the summary read that found no reader inside.
        if (current == pending() && !writer.compare_exchange_strong(current, held(), std::memory_order_seq_cst)) {
            claimed_ = false;
            return errc::corrupt_lock_word;
        }
        return errc{};
    }

    errc operator()() noexcept
    {
        no_observer none;
        return (*this)(none);
    }

    // Gives back a claim that did not become the lock (timeout, corrupt reader slot).
    void abandon() noexcept
    {
        if (!claimed_) {
            return;
        }
        claimed_ = false;
        auto writer = M::word(h_.writer);
        for (word_type expected : {pending(), held()}) {
            // seq_cst: gives the claim back as an unlock would (nothing was written under it).
            if (writer.compare_exchange_strong(expected, dirty_, std::memory_order_seq_cst)) {
                return;
            }
        }
    }

    bool owner_died() const noexcept { return dirty_ != 0; }

private:
    word_type held() const noexcept { return mine_ | held_bit | dirty_; }
    word_type pending() const noexcept { return mine_ | dirty_; }

    // Readers inside, going only by the summary: a slot whose bit is clear holds nobody who is
    // inside the lock (a reader arriving there sets the bit before it looks at the writer word
    // and will see our claim). With no bit set - the uncontended case - no slot is read.
    errc reader_refusal() noexcept
    {
        std::array<word_type, summary_words> bits{};
        word_type any = 0;
        for (std::size_t k = 0; k < summary_words; ++k) {
            // writer_summary (seq_cst): the writer's read of the Dekker pair, after its claim;
            // pairs with a reader's publish (fetch_or) and, reading a cleared bit, acquires the
            // reader's unpublish (reader_unpublish), so its reads happen before our writes.
            bits[k] = M::word(h_.occupied[k]).load(writer_summary);
            any |= bits[k];
        }
        if (any == 0) {
            return errc{};
        }
        errc result{};
        for (std::size_t k = 0; k < summary_words; ++k) {
            if ((bits[k] & ~summary_mask(k)) != 0) {
                return errc::corrupt_lock_word;
            }
            for (word_type b = bits[k]; b != 0; b &= b - 1) {
                const std::size_t i = 64 * k + static_cast<std::size_t>(std::countr_zero(b));
                // seq_cst: a free slot read here was freed by its reader after its bit was cleared
                // (leave_slot); reading it acquires that release.
                switch (classify_slot(M::word(h_.readers[i]).load(std::memory_order_seq_cst))) {
                case slot_state::corrupt:
                    return errc::corrupt_lock_word;
                case slot_state::free:
                    break; // its reader has left since we read the summary (bit first, then slot)
                case slot_state::reader:
                case slot_state::reclaiming:
                    result = errc::read_locked; // keep looking: a corrupt slot must be reported
                    break;
                }
            }
        }
        return result;
    }

    header& h_;
    word_type mine_;
    word_type dirty_ = 0;
    bool claimed_ = false;
};

template <class M>
class basic_reader_attempt {
public:
    basic_reader_attempt(header& h, identity me, std::size_t hint) noexcept
        : h_(h), mine_(pack(me)), hint_(hint % reader_slots)
    {
    }

    template <class Env>
    errc operator()(Env& env) noexcept
    {
        auto writer = M::word(h_.writer);
        // seq_cst: a first look, so a reader does not claim a slot while a writer is in; the
        // recheck below is the one that matters.
        word_type w = writer.load(std::memory_order_seq_cst);
        if (const errc why = refusal(w); why != errc{}) {
            return why;
        }
        std::size_t index = reader_slots;
        for (std::size_t k = 0; k < reader_slots; ++k) {
            const std::size_t i = (hint_ + k) % reader_slots;
            word_type expected = 0;
            // relaxed: a hint only (skip taken slots without a write); the exchange decides.
            // seq_cst exchange: claims the slot before its bit is set (recover_dead reads slots).
            if (M::word(h_.readers[i]).load(std::memory_order_relaxed) == 0 &&
                M::word(h_.readers[i]).compare_exchange_strong(expected, mine_, std::memory_order_seq_cst)) {
                index = i;
                break;
            }
        }
        if (index == reader_slots) {
            return errc::max_readers;
        }
        at(env, step::reader_claimed);
        // The slot first, then its bit: a set bit always belongs to a slot that is not free,
        // and a dead reader's slot always names it, so it can be cleared (recover_dead).
        // seq_cst: the reader's write of the Dekker pair (the writer reads it, writer_summary).
        detail::summary_of<M>(h_, index).fetch_or(summary_bit(index), std::memory_order_seq_cst);
        at(env, step::reader_published);
        // A writer may have claimed the word between our first look and our bit: it reads the
        // summary after its claim, we read the word after our bit, so one of us backs off.
        // reader_recheck (seq_cst): the reader's read of the Dekker pair; reading a free word
        // written by an unlock also acquires that writer's critical section.
        w = writer.load(reader_recheck);
        if (const errc why = refusal(w); why != errc{}) {
            leave_slot<M>(h_, index, mine_, env);
            return why;
        }
        slot_ = static_cast<std::uint16_t>(index);
        owner_died_ = (w & dirty_bit) != 0;
        return errc{};
    }

    errc operator()() noexcept
    {
        no_observer none;
        return (*this)(none);
    }

    std::uint16_t slot() const noexcept { return slot_; }
    bool owner_died() const noexcept { return owner_died_; }

private:
    static errc refusal(word_type w) noexcept
    {
        switch (classify_writer(w)) {
        case writer_state::free:
            return errc{};
        case writer_state::owned:
            return errc::write_locked;
        case writer_state::corrupt:
            break;
        }
        return errc::corrupt_lock_word;
    }

    header& h_;
    word_type mine_;
    std::size_t hint_;
    std::uint16_t slot_ = no_slot;
    bool owner_died_ = false;
};

// The library's attempts (std::atomic_ref over the mapping).
using writer_attempt = basic_writer_attempt<mapped_memory>;
using reader_attempt = basic_reader_attempt<mapped_memory>;

constexpr bool finished(errc e) noexcept { return e == errc{} || !is_transient(e); }

// The retry loop of every robust lock call whose first attempt failed (`result`):
// acquire_with's rules (try_once, wait_for, spin), plus liveness checks while waiting. A check
// runs first after first_check_delay (or at once for try_once), then every
// check_interval(bound); sleeps never run past the next check, so a holder that dies while we
// wait is cleared within `bound` (give or take one sleep's timer granularity). Before giving
// up for time or tries, one last check runs, so a call never fails because of a holder that
// is already dead. A check that meets an impossible word ends the call with corrupt_lock_word.
template <class M, environment Env, class Attempt>
errc wait(const acquire_mode& mode, std::chrono::nanoseconds bound, header& h, word_type mine, Env& env,
          Attempt& attempt, errc result) noexcept
{
    // One liveness check. `nothing` when it changed nothing and found nothing wrong.
    enum class after { nothing, retried, corrupt };
    const auto check = [&]() {
        switch (recover_dead<M>(h, mine, env)) {
        case scan_result::recovered:
            result = attempt(env);
            return after::retried;
        case scan_result::corrupt:
            return after::corrupt;
        case scan_result::nothing:
            break;
        }
        return after::nothing;
    };
    if (mode.how() == acquire_mode::kind::try_once) {
        return check() == after::corrupt ? errc::corrupt_lock_word : result;
    }
    const auto last_chance = [&](errc why) {
        ::winmmf::detail::last_refusal_slot() = result;
        switch (check()) {
        case after::corrupt:
            return errc::corrupt_lock_word;
        case after::retried:
            return finished(result) ? result : why;
        case after::nothing:
            break;
        }
        return why;
    };
    using std::chrono::nanoseconds;
    const nanoseconds interval = check_interval(bound);
    const nanoseconds start = env.now();
    const nanoseconds deadline = mode.how() == acquire_mode::kind::wait
                                     ? ::winmmf::detail::deadline_after(start, mode.timeout())
                                     : nanoseconds::max();
    nanoseconds next_check = start + std::min(interval, first_check_delay);
    std::uint64_t tries = 1;
    for (;;) {
        if (mode.cancelled()) {
            return errc::cancelled;
        }
        const nanoseconds now = env.now();
        if (now >= next_check) {
            next_check = now + interval;
            switch (check()) {
            case after::corrupt:
                return errc::corrupt_lock_word;
            case after::retried:
                ++tries;
                if (finished(result)) {
                    return result;
                }
                continue;
            case after::nothing:
                break;
            }
        }
        if (mode.how() == acquire_mode::kind::spin) {
            if (tries >= mode.max_tries()) {
                return last_chance(errc::max_tries_reached);
            }
            env.relax();
        } else {
            if (now >= deadline) {
                return last_chance(errc::timeout);
            }
            env.pause(std::min(deadline, next_check) - now);
        }
        ++tries;
        result = attempt(env);
        if (finished(result)) {
            return result;
        }
    }
}

// Every robust lock call: one attempt - the whole of an uncontended call, kept small enough to
// be inlined into the caller - and the waiting loop only when it failed for a reason that may
// pass.
template <class M, environment Env, class Attempt>
errc acquire(const acquire_mode& mode, std::chrono::nanoseconds bound, header& h, word_type mine,
             Env& env, Attempt& attempt) noexcept
{
    const errc result = attempt(env);
    return finished(result) ? result : wait<M>(mode, bound, h, mine, env, attempt, result);
}

using protocol::is_identity;

} // namespace detail

template <class M = mapped_memory>
snapshot inspect(header& h) noexcept
{
    snapshot s;
    // acquire, every word: a diagnostic snapshot (not a consistent cut); each read pairs with the
    // release half of whatever wrote the word, and nothing else is read on the strength of it.
    s.marker = M::word(h.marker).load(std::memory_order_acquire);
    s.init = M::word(h.init).load(std::memory_order_acquire);
    s.writer = M::word(h.writer).load(std::memory_order_acquire);
    s.recoveries = M::word(h.recoveries).load(std::memory_order_acquire);
    s.corrupt = classify_writer(s.writer) == writer_state::corrupt;
    for (std::size_t k = 0; k < summary_words; ++k) {
        s.occupied[k] = M::word(h.occupied[k]).load(std::memory_order_acquire); // acquire: as above
        s.corrupt = s.corrupt || (s.occupied[k] & ~summary_mask(k)) != 0;
    }
    for (word_type& slot : h.readers) {
        const slot_state state = classify_slot(M::word(slot).load(std::memory_order_acquire)); // as above
        if (state != slot_state::free) {
            ++s.readers;
        }
        s.corrupt = s.corrupt || state == slot_state::corrupt;
    }
    return s;
}

// ---- creation and opening ------------------------------------------------------------------
//
// protocol/section.hpp's handshake: the creator takes WinMMF's write lock on the first word,
// checks that the header is untouched, names itself in init, puts the marker in place and
// publishes ready_value. An opener waits for ready_value and finishes the creation of a creator
// that is certainly gone; one that is merely slow is waited for (and the wait times out), never
// overtaken. Refusals: wrong_lock_policy for a WinMMF mapping or another winmmf layout (an
// all-zero one only after the wait, since it looks exactly like a section whose creator has not
// started), not_winmmf_mapping for a first word no winmmf policy writes, corrupt_lock_word for an
// init word no step writes, unsupported_layout_version for another version of this layout.

inline constexpr protocol::layout_kind layout{
    protocol::lock_word::robust_layout_marker, layout_version, ready_value,
    errc::wrong_lock_policy, errc::not_winmmf_mapping, errc::corrupt_lock_word};

// The creator's side, on a section it has just created.
template <class M = mapped_memory, environment Env>
errc initialize(header& h, identity me, Env& env) noexcept
{
    auto* base = reinterpret_cast<std::byte*>(&h);
    if (const errc e = protocol::begin_creation<M>(base, sizeof(header), me, layout, env); e != errc{}) {
        return e;
    }
    return protocol::publish_ready<M>(base, me, layout);
}

// Checks an existing header, waiting up to `max_wait` for an initialisation in progress and
// finishing one whose initialiser is certainly gone (unless the caller's view is read-only,
// `writable` false: then that case is errc::uninitialized, for a read-write opener to finish).
// A ready header whose lock words hold a value no step writes (inspect().corrupt) is
// corrupt_lock_word.
template <class M = mapped_memory, environment Env>
errc attach(header& h, identity me, std::chrono::nanoseconds max_wait, std::chrono::nanoseconds bound,
            Env& env, bool writable = true) noexcept
{
    auto* base = reinterpret_cast<std::byte*>(&h);
    const protocol::attach_result r = protocol::attach<M>(base, sizeof(header), me, layout, max_wait, bound, env, writable);
    if (r.error != errc{}) {
        return r.error;
    }
    if (r.must_initialize) {
        // A creator that died between its marker and ready wrote nothing else: its lock words are
        // still the kernel's zeros, so finishing is publishing.
        // relaxed: diagnostics counter; publish_ready's release publishes it with the rest.
        M::word(h.recoveries).fetch_add(1, std::memory_order_relaxed);
        return protocol::publish_ready<M>(base, me, layout);
    }
    // The lock words are read where an uncontended lock never looks (reader slots whose summary
    // bit is clear): a stray write there is reported at open.
    return inspect<M>(h).corrupt ? errc::corrupt_lock_word : errc{};
}

// ---- locking ---------------------------------------------------------------------------------
//
// Uncontended, a writer makes one compare-exchange on the writer word and reads the two summary
// words next to it (one cache line, no reader slot, no system call); unlock is one
// compare-exchange. A reader makes two read-modify-writes to lock (its slot, its bit) and two
// to unlock, and reads the writer word twice.

template <class M = mapped_memory, environment Env>
lock_result lock_exclusive(header& h, identity me, const acquire_mode& mode,
                           std::chrono::nanoseconds bound, Env& env) noexcept
{
    detail::basic_writer_attempt<M> attempt(h, me);
    const errc e = detail::acquire<M>(mode, bound, h, pack(me), env, attempt);
    if (e != errc{}) {
        attempt.abandon();
        return {e, false, no_slot};
    }
    return {errc{}, attempt.owner_died(), no_slot};
}

template <class M = mapped_memory, environment Env>
lock_result lock_shared(header& h, identity me, std::size_t hint, const acquire_mode& mode,
                        std::chrono::nanoseconds bound, Env& env) noexcept
{
    detail::basic_reader_attempt<M> attempt(h, me, hint);
    const errc e = detail::acquire<M>(mode, bound, h, pack(me), env, attempt);
    if (e != errc{}) {
        return {e, false, no_slot};
    }
    return {errc{}, attempt.owner_died(), attempt.slot()};
}

// Releases the writer lock `me` holds and declares the data consistent again (clears dirty).
template <class M = mapped_memory>
errc unlock_exclusive(header& h, identity me) noexcept
{
    auto writer = M::word(h.writer);
    // Expect the usual value (held, not dirty): one compare-exchange, no load first.
    word_type w = pack(me) | held_bit;
    // writer_unlock (seq_cst): its release half publishes the critical section to the next
    // writer's claim and to readers' recheck (both acquire by reading the free word).
    while (!writer.compare_exchange_weak(w, 0, detail::writer_unlock)) {
        if (classify_writer(w) == writer_state::corrupt) {
            return errc::corrupt_lock_word;
        }
        if ((w & identity_mask) != pack(me) || (w & held_bit) == 0) {
            return errc::lock_violation;
        }
    }
    return errc{};
}

// Releases the shared lock `me` holds in `slot`. The slot is checked first, so an unlock of a
// slot that is not ours clears nobody's summary bit.
template <class M = mapped_memory, class Env>
errc unlock_shared(header& h, identity me, std::uint16_t slot, Env& env) noexcept
{
    if (slot >= reader_slots) {
        return errc::lock_violation;
    }
    const word_type mine = pack(me);
    // seq_cst: our own slot, read back; only a stray write or a misjudged liveness changes it.
    const word_type s = M::word(h.readers[slot]).load(std::memory_order_seq_cst);
    if (s != mine) {
        return is_valid_slot(s) ? errc::lock_violation : errc::corrupt_lock_word;
    }
    // Nobody else changes the slot of a live reader, so the exchange in leave_slot fails only
    // after a stray write.
    return detail::leave_slot<M>(h, slot, mine, env) ? errc{} : errc::corrupt_lock_word;
}

template <class M = mapped_memory>
errc unlock_shared(header& h, identity me, std::uint16_t slot) noexcept
{
    no_observer none;
    return unlock_shared<M>(h, me, slot, none);
}

} // namespace winmmf::protocol::robust_word
