// libFuzzer target: both lock state machines, driven by a random sequence of operations and
// checked after every step against a model.
//
//  - compatible: lock_word.hpp on one 32-bit word that starts in any state. The model is the
//    protocol table of docs/explanation/design.md, written out again here.
//  - robust: robust_word.hpp with four simulated processes that lock, unlock (correctly and
//    not), scan for dead holders, die holding locks or half-way through any step of an
//    operation (rw::step) and come back under the same process id with a new creation tag,
//    with a crowd of live readers filling the slots, and with impossible words planted in the
//    header. The model tracks the writer, every reader slot, the reader summary, the dirty flag
//    and the recovery count exactly, so any difference in state or result aborts.
//  - attach: protocol::robust_word::attach on a header of arbitrary bytes must end (fake clock), and
//    either succeed with a ready header or fail leaving every byte as it was.
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/robust_word.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace winmmf;
using namespace std::chrono_literals;
namespace rw = winmmf::protocol::robust_word;
using std::chrono::nanoseconds;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "fuzz_lock: %s\n", what);
    std::abort();
}

class reader {
public:
    reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool more() const { return pos_ < size_; }
    std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::uint32_t u32()
    {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            v = v << 8 | u8();
        }
        return v;
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// ---- compatible ---------------------------------------------------------------------------

// The protocol table, from the documentation rather than from lock_word.hpp.
errc model_refusal(std::uint32_t w, int op)
{
    const std::uint32_t top = w >> 24;
    const std::uint32_t readers = w & 0x00FFFFFFu;
    if (top == 0xFF) {
        return w == 0xFF000000u ? errc::uninitialized : errc::wrong_lock_policy;
    }
    if ((top & 0x7F) != 0 || ((w & 0x80000000u) && readers != 0)) {
        return errc::corrupt_lock_word;
    }
    const bool writer = (w & 0x80000000u) != 0;
    switch (op) {
    case 0: // lock_read
        return writer ? errc::write_locked : readers == 0x00FFFFFFu ? errc::max_readers : errc{};
    case 1: // unlock_read
        return writer ? errc::write_locked : readers == 0 ? errc::lock_violation : errc{};
    case 2: // lock_write
        return writer ? errc::write_locked : readers != 0 ? errc::read_locked : errc{};
    default: // unlock_write
        return writer ? errc{} : errc::lock_violation;
    }
}

void fuzz_compatible(reader& in)
{
    alignas(4) std::uint32_t word = in.u32();
    const std::atomic_ref<std::uint32_t> ref(word);
    while (in.more()) {
        const int op = in.u8() % 5;
        if (op == 4) {
            word = in.u32(); // jump to any state
            continue;
        }
        const std::uint32_t before = word;
        const errc expected = model_refusal(before, op);
        const errc got = op == 0   ? protocol::lock_word::try_lock_read(ref)
                         : op == 1 ? protocol::lock_word::unlock_read(ref)
                         : op == 2 ? protocol::lock_word::try_lock_write(ref)
                                   : protocol::lock_word::unlock_write(ref);
        if (got != expected) {
            fail("compatible: result differs from the protocol table");
        }
        const std::uint32_t after = expected != errc{} ? before
                                    : op == 0          ? before + 1
                                    : op == 1          ? before - 1
                                    : op == 2          ? before | 0x80000000u
                                                       : before & ~0x80000000u;
        if (word != after) {
            fail("compatible: word differs from the model");
        }
    }
}

// ---- robust -------------------------------------------------------------------------------
//
// The model is written from docs/explanation/reliability.md, not from robust_word.hpp: the writer word, every
// reader slot (free, a holder, a slot being reclaimed, or corrupt), the two summary words and the
// recovery count, exactly. It passes the same named steps (rw::step) as the code, so a death in
// the middle of an operation can be staged on both: the code's environment snapshots the header
// when the dying process first passes the step, the model snapshots itself there, the two
// snapshots must agree, and the process is dead from that state on.

constexpr std::uint32_t process_count = 4;
constexpr rw::identity crowd{1000, 1}; // readers of a live process outside the four
constexpr rw::identity bystander{77, 77}; // a live waiter outside the four that only scans

struct world {
    std::array<std::uint32_t, process_count> tag{};   // the current incarnation of pid i + 1
    std::array<bool, process_count> alive{};
    nanoseconds clock{0};
};

// The header when the dying process first passed `where`.
struct stage {
    rw::step where{};
    bool armed = false;
    bool taken = false;
    rw::header image{};
};

struct fake_env {
    world& w;
    rw::header* h = nullptr;
    stage* st = nullptr;

    nanoseconds now() const { return w.clock; }
    bool alive(rw::identity id)
    {
        if (id.pid < 1 || id.pid > process_count) {
            return true; // someone we know nothing about: never presumed dead
        }
        return w.alive[id.pid - 1] && w.tag[id.pid - 1] == id.tag;
    }
    void pause(nanoseconds remaining)
    {
        if (remaining < 0ns) {
            fail("robust: negative pause");
        }
        w.clock += std::max(std::min(remaining, nanoseconds(3ms)), nanoseconds(1));
    }
    void relax() { w.clock += 100ns; }
    void at(rw::step s)
    {
        if (st != nullptr && st->armed && !st->taken && s == st->where) {
            std::memcpy(&st->image, h, sizeof *h);
            st->taken = true;
        }
    }
};

struct model {
    rw::word_type writer = 0; // exactly what the writer word must hold
    std::array<rw::word_type, rw::reader_slots> slots{};
    std::array<rw::word_type, 2> summary{};
    rw::word_type recoveries = 0;
};

struct model_stage {
    rw::step where{};
    bool armed = false;
    bool taken = false;
    model image{};
    void note(rw::step s, const model& m)
    {
        if (armed && !taken && s == where) {
            image = m;
            taken = true;
        }
    }
};

struct process_handles {
    bool writing = false;
    std::vector<std::uint16_t> reading;
};

// The documented values: 0, a holder's identity (62 bits, process id not 0), or bit 62 plus
// the identity of a process clearing a dead holder's slot. Anything else is corrupt.
enum class kind { free, holder, reclaiming, corrupt };
kind slot_kind(rw::word_type s)
{
    if (s == 0) {
        return kind::free;
    }
    if ((s >> 63) != 0 || (s & 0xFFFFFFFFu) == 0) {
        return kind::corrupt;
    }
    return ((s >> 62) & 1) != 0 ? kind::reclaiming : kind::holder;
}
rw::word_type id_of(rw::word_type s) { return s & ((rw::word_type{1} << 62) - 1); }
bool bit(const model& m, std::size_t i) { return ((m.summary[i / 64] >> (i % 64)) & 1) != 0; }
void set_bit(model& m, std::size_t i) { m.summary[i / 64] |= rw::word_type{1} << (i % 64); }
void clear_bit(model& m, std::size_t i) { m.summary[i / 64] &= ~(rw::word_type{1} << (i % 64)); }
bool summary_corrupt(const model& m) { return (m.summary[1] >> (rw::reader_slots - 64)) != 0; }
bool writer_corrupt(rw::word_type w) { return (w & 0xFFFFFFFFu) == 0 && (w & ~rw::dirty_bit) != 0; }
bool model_corrupt(const model& m)
{
    if (summary_corrupt(m) || writer_corrupt(m.writer)) {
        return true;
    }
    for (const auto s : m.slots) {
        if (slot_kind(s) == kind::corrupt) {
            return true;
        }
    }
    return false;
}

bool model_alive(const world& w, rw::word_type holder)
{
    const rw::identity id = rw::owner_of(holder);
    return id.pid < 1 || id.pid > process_count || (w.alive[id.pid - 1] && w.tag[id.pid - 1] == id.tag);
}

enum class scan { nothing, recovered, corrupt };

scan model_recover(const world& w, model& m, rw::word_type mine, model_stage& ms)
{
    bool any = false;
    bool corrupt = summary_corrupt(m) || writer_corrupt(m.writer);
    if (rw::owner_of(m.writer).pid != 0 && (m.writer & rw::identity_mask) != mine && !model_alive(w, m.writer)) {
        m.writer = (m.writer & rw::held_bit) ? rw::dirty_bit : (m.writer & rw::dirty_bit);
        ++m.recoveries;
        any = true;
    }
    for (std::size_t i = 0; i < rw::reader_slots; ++i) {
        const kind k = slot_kind(m.slots[i]);
        if (k == kind::corrupt) {
            corrupt = true;
        } else if (k != kind::free && id_of(m.slots[i]) != mine && !model_alive(w, m.slots[i])) {
            // Name the slot ours, clear its bit, free it, count it - a death between any two
            // leaves a slot the next scan finishes.
            m.slots[i] = mine | (rw::word_type{1} << 62);
            ms.note(rw::step::reclaim_started, m);
            clear_bit(m, i);
            ms.note(rw::step::reclaim_unpublished, m);
            m.slots[i] = 0;
            ms.note(rw::step::reclaim_freed, m);
            ++m.recoveries;
            any = true;
        }
    }
    return corrupt ? scan::corrupt : any ? scan::recovered : scan::nothing;
}

// Whether readers are inside, as a writer that holds the claim judges it from the summary.
errc model_readers_in(const model& m)
{
    if (summary_corrupt(m)) {
        return errc::corrupt_lock_word;
    }
    errc result{};
    for (std::size_t i = 0; i < rw::reader_slots; ++i) {
        if (!bit(m, i)) {
            continue; // nobody inside there: not even looked at
        }
        switch (slot_kind(m.slots[i])) {
        case kind::corrupt:
            return errc::corrupt_lock_word;
        case kind::holder:
        case kind::reclaiming:
            result = errc::read_locked;
            break;
        case kind::free:
            break;
        }
    }
    return result;
}

struct writer_claim {
    bool claimed = false;
    rw::word_type dirty = 0;
};

errc model_write_attempt(model& m, rw::word_type mine, writer_claim& c, model_stage& ms)
{
    rw::word_type current = 0;
    if (!c.claimed) {
        if (rw::owner_of(m.writer).pid != 0) {
            return errc::write_locked;
        }
        c.dirty = m.writer & rw::dirty_bit;
        c.claimed = true;
        m.writer = current = mine | rw::held_bit | c.dirty;
        ms.note(rw::step::writer_claimed, m);
    } else {
        current = m.writer;
    }
    const errc readers = model_readers_in(m);
    if (readers != errc{}) {
        if (current & rw::held_bit) {
            m.writer = mine | c.dirty; // waiting: it has not touched the data
            ms.note(rw::step::writer_waiting, m);
        }
        return readers;
    }
    m.writer = mine | rw::held_bit | c.dirty;
    return errc{};
}

errc model_read_attempt(model& m, rw::word_type mine, std::size_t hint, std::uint16_t& slot, model_stage& ms)
{
    if (rw::owner_of(m.writer).pid != 0) {
        return errc::write_locked;
    }
    for (std::size_t k = 0; k < rw::reader_slots; ++k) {
        const std::size_t i = (hint + k) % rw::reader_slots;
        if (m.slots[i] == 0) {
            m.slots[i] = mine;
            ms.note(rw::step::reader_claimed, m);
            set_bit(m, i);
            ms.note(rw::step::reader_published, m);
            slot = static_cast<std::uint16_t>(i);
            return errc{};
        }
    }
    return errc::max_readers;
}

errc model_unlock_shared(model& m, rw::word_type mine, std::uint16_t slot, model_stage& ms)
{
    if (slot >= rw::reader_slots) {
        return errc::lock_violation;
    }
    if (m.slots[slot] != mine) {
        return slot_kind(m.slots[slot]) == kind::corrupt ? errc::corrupt_lock_word : errc::lock_violation;
    }
    clear_bit(m, slot);
    ms.note(rw::step::reader_leaving, m);
    m.slots[slot] = 0;
    return errc{};
}

bool transient(errc e)
{
    return e == errc::read_locked || e == errc::write_locked || e == errc::max_readers;
}

void check_same(const rw::header& h, const model& m, const char* what)
{
    if (h.writer != m.writer || std::memcmp(h.readers, m.slots.data(), sizeof h.readers) != 0 ||
        std::memcmp(h.occupied, m.summary.data(), sizeof h.occupied) != 0 || h.recoveries != m.recoveries) {
        fail(what);
    }
}

void fuzz_robust(reader& in)
{
    rw::header h{};
    std::memset(&h, 0, sizeof h);
    world w;
    for (std::uint32_t i = 0; i < process_count; ++i) {
        w.tag[i] = i * 1000 + 1;
        w.alive[i] = true;
    }
    stage st;
    fake_env env{w, &h, &st};
    if (rw::initialize(h, {99, 99}, env) != errc{}) {
        fail("robust: initialize failed");
    }
    model m;
    std::array<process_handles, process_count> handles{};
    const nanoseconds bound = 10ms;

    while (in.more()) {
        // op: bits 0-2 what, bit 3 a variant, bits 4-5 which process, bit 6 it dies half-way
        // (at the step named by the next byte), bit 7 another variant.
        const std::uint8_t op = in.u8();
        const std::uint32_t p = (op >> 4) % process_count;
        const rw::identity me{p + 1, w.tag[p]};
        const rw::word_type mine = rw::pack(me);
        auto& mine_handles = handles[p];
        const std::uint8_t arg = in.u8();
        const acquire_mode mode = arg % 3 == 0   ? acquire_mode::try_once()
                                  : arg % 3 == 1 ? acquire_mode::wait_for(std::chrono::milliseconds(arg % 40))
                                                 : acquire_mode::spin(arg % 50 + 1);
        model_stage ms;
        st = stage{};
        if ((op & 0x40) != 0) {
            ms.where = st.where = static_cast<rw::step>(in.u8() % 8);
            ms.armed = st.armed = true;
        }
        // After an operation a staged death may have cut short: both sides passed the step or
        // neither did; if they did, the process is dead from exactly that state on.
        const auto staged_death = [&]() {
            if (st.taken != ms.taken) {
                fail("robust: the code and the model disagree on whether a step was passed");
            }
            if (!st.taken) {
                return false;
            }
            check_same(st.image, ms.image, "robust: state at a staged death differs from the model");
            std::memcpy(&h, &st.image, sizeof h);
            m = ms.image;
            w.tag[p] = (w.tag[p] + 1) & rw::tag_mask; // it died; its id is reused
            mine_handles = {};
            return true;
        };
        switch (op % 8) {
        case 0:
        case 1: { // lock: exclusive or shared
            const bool exclusive = op % 8 == 0;
            if (exclusive && mine_handles.writing) {
                break; // one write handle per process: a second would wait on itself
            }
            const std::size_t hint = arg;
            std::uint16_t model_slot = rw::no_slot;
            writer_claim claim;
            const auto attempt = [&] {
                return exclusive ? model_write_attempt(m, mine, claim, ms)
                                 : model_read_attempt(m, mine, hint, model_slot, ms);
            };
            // One attempt; if it may pass, one liveness scan (later ones find nothing new: no
            // one dies during the call), and one more attempt if the scan cleared anything.
            errc expected = attempt();
            if (transient(expected)) {
                const scan found = model_recover(w, m, mine, ms);
                if (found == scan::corrupt) {
                    expected = errc::corrupt_lock_word;
                } else if (found == scan::recovered) {
                    expected = attempt();
                }
                if (transient(expected) && mode.how() != acquire_mode::kind::try_once) {
                    expected = mode.how() == acquire_mode::kind::wait ? errc::timeout : errc::max_tries_reached;
                }
            }
            if (expected != errc{} && claim.claimed) {
                m.writer = claim.dirty; // the claim is given back
            }
            const bool expected_told = expected == errc{} && ((m.writer & rw::dirty_bit) != 0);
            const auto r = exclusive ? rw::lock_exclusive(h, me, mode, bound, env)
                                     : rw::lock_shared(h, me, hint, mode, bound, env);
            if (staged_death()) {
                break;
            }
            if (r.error != expected) {
                fail("robust: lock result differs from the model");
            }
            if (r.error == errc{}) {
                if (r.owner_died != expected_told) {
                    fail("robust: owner_dead report differs from the model");
                }
                if (exclusive) {
                    mine_handles.writing = true;
                } else {
                    if (r.slot != model_slot) {
                        fail("robust: reader slot differs from the model");
                    }
                    mine_handles.reading.push_back(r.slot);
                }
            }
            break;
        }
        case 2: { // unlock exclusive, held or not
            const bool holds = m.writer != 0 && (m.writer & rw::identity_mask) == mine && (m.writer & rw::held_bit);
            const errc got = rw::unlock_exclusive(h, me);
            if ((got == errc{}) != holds) {
                fail("robust: unlock_exclusive result differs from the model");
            }
            if (holds) {
                m.writer = 0;
                mine_handles.writing = false;
            } else if (got != errc::lock_violation) {
                fail("robust: bad unlock_exclusive is not a lock_violation");
            }
            break;
        }
        case 3: { // unlock shared: one of ours, or any slot at all
            std::uint16_t slot = static_cast<std::uint16_t>(arg);
            if ((op & 8) == 0 && !mine_handles.reading.empty()) {
                const std::size_t k = arg % mine_handles.reading.size();
                slot = mine_handles.reading[k];
            }
            const errc expected = model_unlock_shared(m, mine, slot, ms);
            const errc got = rw::unlock_shared(h, me, slot, env);
            if (staged_death()) {
                break;
            }
            if (got != expected) {
                fail("robust: unlock_shared result differs from the model");
            }
            if (got == errc{}) {
                for (auto it = mine_handles.reading.begin(); it != mine_handles.reading.end(); ++it) {
                    if (*it == slot) {
                        mine_handles.reading.erase(it);
                        break;
                    }
                }
            }
            break;
        }
        case 4: // the process dies, holding whatever it holds, and comes back with a new tag
            w.tag[p] = (w.tag[p] + 1 + arg) & rw::tag_mask;
            w.alive[p] = (arg & 1) != 0; // sometimes it stays dead
            if (!w.alive[p]) {
                w.tag[p] ^= 1;
                w.alive[p] = true; // a new process reused the id: the old holder is dead all the same
            }
            mine_handles = {};
            break;
        case 5:
            if ((op & 8) == 0) { // an impossible writer word: refused everywhere, left as found
                const rw::word_type saved = h.writer;
                const rw::word_type bad = (arg & 1) ? rw::held_bit : (rw::word_type{arg} << 32);
                if (bad == 0) {
                    break;
                }
                h.writer = bad;
                if (rw::lock_exclusive(h, me, mode, bound, env).error != errc::corrupt_lock_word ||
                    rw::lock_shared(h, me, arg, mode, bound, env).error != errc::corrupt_lock_word ||
                    rw::unlock_exclusive(h, me) != errc::corrupt_lock_word || h.writer != bad) {
                    fail("robust: impossible writer word not refused");
                }
                h.writer = saved;
            } else if ((op & 0x80) != 0) { // a repair by hand: every impossible slot and bit goes
                for (std::size_t i = 0; i < rw::reader_slots; ++i) {
                    if (slot_kind(m.slots[i]) == kind::corrupt) {
                        m.slots[i] = h.readers[i] = 0;
                        clear_bit(m, i);
                    }
                }
                m.summary[1] &= (rw::word_type{1} << (rw::reader_slots - 64)) - 1;
                std::memcpy(h.occupied, m.summary.data(), sizeof h.occupied);
            } else if ((arg & 1) != 0) { // a summary bit past the last slot, for good
                set_bit(m, rw::reader_slots + arg % 8);
                h.occupied[1] = m.summary[1];
            } else if (const std::size_t i = arg % rw::reader_slots; m.slots[i] == 0) {
                // A stray value in a free slot, with or without its bit, for good.
                m.slots[i] = h.readers[i] = (arg & 4) ? (rw::dirty_bit | (arg + 1u)) : (rw::word_type{arg} << 32);
                if ((arg & 2) != 0) {
                    set_bit(m, i);
                    std::memcpy(h.occupied, m.summary.data(), sizeof h.occupied);
                }
            }
            break;
        case 6:
            if ((op & 8) == 0) { // time passes
                w.clock += std::chrono::milliseconds(arg);
            } else if ((op & 0x80) == 0) { // a crowd of live readers takes every free slot but one
                bool spared = false;
                for (std::size_t k = 0; k < rw::reader_slots; ++k) {
                    const std::size_t i = (arg + k) % rw::reader_slots;
                    if (m.slots[i] == 0) {
                        if (!spared && (arg & 1) != 0) {
                            spared = true;
                            continue;
                        }
                        m.slots[i] = h.readers[i] = rw::pack(crowd);
                        set_bit(m, i);
                    }
                }
                std::memcpy(h.occupied, m.summary.data(), sizeof h.occupied);
            } else { // the crowd leaves; and a process opens the mapping, which checks every word
                for (std::size_t i = 0; i < rw::reader_slots; ++i) {
                    if (m.slots[i] == rw::pack(crowd)) {
                        if (rw::unlock_shared(h, crowd, static_cast<std::uint16_t>(i)) != errc{}) {
                            fail("robust: a crowd reader could not leave");
                        }
                        m.slots[i] = 0;
                        clear_bit(m, i);
                    }
                }
                const errc expected = model_corrupt(m) ? errc::corrupt_lock_word : errc{};
                if (rw::attach(h, me, 0ns, bound, env) != expected) {
                    fail("robust: attach result differs from the model");
                }
            }
            break;
        default: { // a scan by a waiter: a live bystander, or process p, which may die half-way
            const rw::word_type scanner = (op & 8) != 0 ? mine : rw::pack(bystander);
            const scan expected = model_recover(w, m, scanner, ms);
            const rw::detail::scan_result got = rw::detail::recover_dead(h, scanner, env);
            if (staged_death()) {
                break;
            }
            if (static_cast<int>(got) != static_cast<int>(expected)) {
                fail("robust: recover_dead differs from the model");
            }
            break;
        }
        }
        check_same(h, m, "robust: header differs from the model");
        const rw::snapshot s = rw::inspect(h);
        std::size_t in_use = 0;
        for (const auto slot : m.slots) {
            in_use += slot != 0 ? 1 : 0;
        }
        if (s.corrupt != model_corrupt(m) || s.readers != in_use) {
            fail("robust: inspect() differs from the model");
        }
    }
}

// ---- attach on arbitrary bytes --------------------------------------------------------------

void fuzz_attach(reader& in)
{
    rw::header h{};
    std::memset(&h, 0, sizeof h);
    auto* bytes = reinterpret_cast<std::uint8_t*>(&h);
    // Sparse content: a few chosen words, so the interesting states (zeros, marker) are common.
    while (in.more()) {
        const std::uint8_t where = in.u8();
        const std::uint32_t value = in.u32();
        if (where & 0x80) {
            h.marker = (where & 0x40) ? protocol::lock_word::robust_layout_marker : value;
        } else if (where & 0x40) {
            h.init = (where & 0x20) ? rw::ready_value : (where & 0x10) ? rw::pack({value & 7, value >> 8}) : value;
            if (where & 0x08) {
                h.version = (where & 0x04) ? rw::layout_version : value;
            }
        } else {
            std::memcpy(bytes + (where % (sizeof h / 4)) * 4, &value, 4);
        }
    }
    std::vector<std::uint8_t> before(bytes, bytes + sizeof h);
    world w;
    w.alive = {true, false, true, false};
    w.tag = {0, 1, 2, 3};
    fake_env env{w};
    const errc e = rw::attach(h, {3, 2}, 200ms, 10ms, env);
    if (w.clock > 200ms + 10ms) {
        fail("attach: waited past its deadline");
    }
    if (e == errc{}) {
        if (h.marker != protocol::lock_word::robust_layout_marker || h.init != rw::ready_value ||
            h.version != rw::layout_version) {
            fail("attach: succeeded on a header that is not ready");
        }
    } else if (std::memcmp(before.data(), bytes, sizeof h) != 0) {
        fail("attach: a refusal changed the header");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) {
        return 0;
    }
    reader in(data + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        fuzz_compatible(in);
        break;
    case 1:
        fuzz_robust(in);
        break;
    default:
        fuzz_attach(in);
        break;
    }
    return 0;
}
