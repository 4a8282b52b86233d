// libFuzzer target: both lock state machines, driven by a random sequence of operations and
// checked after every step against a model.
//
//  - compatible: lock_word.hpp on one 32-bit word that starts in any state. The model is the
//    protocol table of docs/design.md, written out again here.
//  - robust: robust_word.hpp with four simulated processes that lock, unlock (correctly and
//    not), die holding locks and come back under the same process id with a new creation
//    tag, and with impossible words planted in the header. The model tracks the writer, every
//    reader slot and the dirty flag exactly, so any difference in state or result aborts.
//  - attach: robust_word::attach on a header of arbitrary bytes must end (fake clock), and
//    either succeed with a ready header or fail leaving every byte as it was.
#include <winmmf/lock_word.hpp>
#include <winmmf/robust_word.hpp>

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
namespace rw = winmmf::robust_word;
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
        const errc got = op == 0   ? lock_word::try_lock_read(ref)
                         : op == 1 ? lock_word::unlock_read(ref)
                         : op == 2 ? lock_word::try_lock_write(ref)
                                   : lock_word::unlock_write(ref);
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

constexpr std::uint32_t process_count = 4;

struct world {
    std::array<std::uint32_t, process_count> tag{};   // the current incarnation of pid i + 1
    std::array<bool, process_count> alive{};
    nanoseconds clock{0};
};

struct fake_env {
    world& w;
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
};

struct model {
    rw::word_type writer = 0; // exactly what the writer word must hold
    std::array<rw::word_type, rw::reader_slots> slots{};
    rw::word_type recoveries = 0;
};

struct process_handles {
    bool writing = false;
    std::vector<std::uint16_t> reading;
};

bool model_alive(const world& w, rw::word_type holder)
{
    const rw::identity id = rw::owner_of(holder);
    return id.pid < 1 || id.pid > process_count || (w.alive[id.pid - 1] && w.tag[id.pid - 1] == id.tag);
}

bool model_recover(const world& w, model& m, rw::word_type mine)
{
    bool any = false;
    if (rw::owner_of(m.writer).pid != 0 && (m.writer & rw::identity_mask) != mine && !model_alive(w, m.writer)) {
        m.writer = (m.writer & rw::held_bit) ? rw::dirty_bit : (m.writer & rw::dirty_bit);
        ++m.recoveries;
        any = true;
    }
    for (auto& s : m.slots) {
        if (s != 0 && s != mine && !model_alive(w, s)) {
            s = 0;
            ++m.recoveries;
            any = true;
        }
    }
    return any;
}

errc model_write_attempt(model& m, rw::word_type mine)
{
    if (rw::owner_of(m.writer).pid != 0) {
        return errc::write_locked;
    }
    for (const auto s : m.slots) {
        if (s != 0) {
            return errc::read_locked;
        }
    }
    m.writer = mine | rw::held_bit | (m.writer & rw::dirty_bit);
    return errc{};
}

errc model_read_attempt(model& m, rw::word_type mine, std::size_t hint, std::uint16_t& slot)
{
    if (rw::owner_of(m.writer).pid != 0) {
        return errc::write_locked;
    }
    for (std::size_t k = 0; k < rw::reader_slots; ++k) {
        const std::size_t i = (hint + k) % rw::reader_slots;
        if (m.slots[i] == 0) {
            m.slots[i] = mine;
            slot = static_cast<std::uint16_t>(i);
            return errc{};
        }
    }
    return errc::max_readers;
}

void check_same(const rw::header& h, const model& m)
{
    if (h.writer != m.writer) {
        fail("robust: writer word differs from the model");
    }
    if (std::memcmp(h.readers, m.slots.data(), sizeof h.readers) != 0) {
        fail("robust: reader slots differ from the model");
    }
    if (h.recoveries != m.recoveries) {
        fail("robust: recovery count differs from the model");
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
    fake_env env{w};
    if (rw::initialize(h, {99, 99}, 1s, 10ms, env) != errc{}) {
        fail("robust: initialize failed");
    }
    model m;
    std::array<process_handles, process_count> handles{};
    const nanoseconds bound = 10ms;

    while (in.more()) {
        const std::uint8_t op = in.u8();
        const std::uint32_t p = (op >> 4) % process_count;
        const rw::identity me{p + 1, w.tag[p]};
        const rw::word_type mine = rw::pack(me);
        auto& mine_handles = handles[p];
        const std::uint8_t arg = in.u8();
        const acquire_mode mode = arg % 3 == 0   ? acquire_mode::try_once()
                                  : arg % 3 == 1 ? acquire_mode::wait_for(std::chrono::milliseconds(arg % 40))
                                                 : acquire_mode::spin(arg % 50 + 1);
        switch (op % 8) {
        case 0:
        case 1: { // lock: exclusive or shared
            const bool exclusive = op % 8 == 0;
            if (exclusive && mine_handles.writing) {
                break; // one write handle per process: a second would wait on itself
            }
            const std::size_t hint = arg;
            std::uint16_t model_slot = rw::no_slot;
            const auto attempt = [&] {
                return exclusive ? model_write_attempt(m, mine) : model_read_attempt(m, mine, hint, model_slot);
            };
            errc expected = attempt();
            if (expected != errc{}) {
                const errc first = expected;
                const bool recovered = model_recover(w, m, mine);
                expected = recovered ? attempt() : first;
                if (expected != errc{} && mode.how() != acquire_mode::kind::try_once) {
                    expected = mode.how() == acquire_mode::kind::wait ? errc::timeout : errc::max_tries_reached;
                }
            }
            const bool expected_told = expected == errc{} && ((m.writer & rw::dirty_bit) != 0);
            const auto r = exclusive ? rw::lock_exclusive(h, me, mode, bound, env)
                                     : rw::lock_shared(h, me, hint, mode, bound, env);
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
            const bool holds = slot < rw::reader_slots && m.slots[slot] == mine;
            const errc got = rw::unlock_shared(h, me, slot);
            if ((got == errc{}) != holds || (!holds && got != errc::lock_violation)) {
                fail("robust: unlock_shared result differs from the model");
            }
            if (holds) {
                m.slots[slot] = 0;
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
        case 5: { // an impossible writer word: refused everywhere, left as found
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
            break;
        }
        case 6: // time passes
            w.clock += std::chrono::milliseconds(arg);
            break;
        default: { // a scan from an unrelated waiter clears whatever is dead
            const bool expected = model_recover(w, m, rw::pack({77, 77}));
            if (rw::detail::recover_dead(h, rw::pack({77, 77}), env) != expected) {
                fail("robust: recover_dead differs from the model");
            }
            break;
        }
        }
        check_same(h, m);
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
            h.marker = (where & 0x40) ? lock_word::robust_layout_marker : value;
        } else if (where & 0x40) {
            h.init = (where & 0x20) ? rw::ready_value : (where & 0x10) ? rw::pack({value & 7, value >> 8}) : value;
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
        if (h.marker != lock_word::robust_layout_marker || h.init != rw::ready_value) {
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
