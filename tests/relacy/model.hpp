// tests/relacy/model.hpp - what every Relacy model shares: the adapter that lets the shipped
// protocol code (include/winmmf/protocol/) run over rl::atomic, the shadow memory behind it, a
// process environment with deaths and a fake clock, and the command line of a model program.
//
// The protocol headers reach shared memory through a "memory" type (protocol/atomic_word.hpp):
// production passes protocol::mapped_memory (std::atomic_ref over the mapping); the models pass
// `model_memory`, whose word(field) finds the rl::atomic that shadows that field of the real
// layout struct. The structs, offsets and code are the library's; only the words are Relacy's,
// and every order is passed through unchanged. Words nobody registered read as zero and must
// never be written (that is asserted), so a 1 KiB header costs only the words a model uses.
//
// Relacy runs all threads as fibers of one OS thread and switches only at its own operations,
// so the models' ghost state (plain variables next to the protocol state) changes atomically
// with the protocol step just before it.
#pragma once

// Every header a model uses comes before relacy.hpp, whose macros (memory_order_*, new, errno,
// pthread_*, sem_*) would otherwise rewrite the standard library and the protocol code.
#include <winmmf/protocol/atomic_word.hpp>
#include <winmmf/protocol/frame.hpp>
#include <winmmf/protocol/identity.hpp>
#include <winmmf/protocol/lock_word.hpp>
#include <winmmf/protocol/notify_state.hpp>
#include <winmmf/protocol/robust_word.hpp>
#include <winmmf/protocol/section.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <source_location>
#include <condition_variable>
#include <mutex>
#include <semaphore>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include <relacy/relacy.hpp>

// relacy.hpp renames memory_order_*, new, delete, malloc and friends with macros (for code that is
// written against it); the protocol headers are standard C++, so take them back.
#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef assert
#undef errno

namespace winmmf::model {

using location = std::source_location;

inline rl::debug_info info(const location& l) noexcept
{
    return rl::debug_info(l.function_name(), l.file_name(), static_cast<unsigned>(l.line()));
}

// The orders as given: the mapping is one to one.
inline rl::memory_order rl_order(std::memory_order mo) noexcept
{
    switch (mo) {
    case std::memory_order_relaxed:
        return rl::mo_relaxed;
    case std::memory_order_consume:
        return rl::mo_consume;
    case std::memory_order_acquire:
        return rl::mo_acquire;
    case std::memory_order_release:
        return rl::mo_release;
    case std::memory_order_acq_rel:
        return rl::mo_acq_rel;
    case std::memory_order_seq_cst:
        break;
    }
    return rl::mo_seq_cst;
}

// An atomic word of type T over Relacy: a direct rl::atomic<T>; a read-only narrower view of a
// registered 64-bit word (section.hpp's rest_is_zero reads a header as 32-bit words); or a word
// nobody registered, which reads as zero and fails the test if written. Every call records the
// protocol line that made it (source_location), so Relacy's history names the shipped code.
template <class T>
class rl_word {
public:
    rl_word() noexcept = default;
    explicit rl_word(rl::atomic<T>* direct) noexcept : direct_(direct) {}
    rl_word(rl::atomic<std::uint64_t>* wide, unsigned shift) noexcept : wide_(wide), shift_(shift) {}

    T load(std::memory_order mo, location l = location::current()) const
    {
        if (direct_ != nullptr) {
            return direct_->load(rl_order(mo), info(l));
        }
        if (wide_ != nullptr) {
            return static_cast<T>(wide_->load(rl_order(mo), info(l)) >> shift_);
        }
        return T{};
    }
    void store(T value, std::memory_order mo, location l = location::current())
    {
        get(l)->store(value, rl_order(mo), info(l));
    }
    T exchange(T value, std::memory_order mo, location l = location::current())
    {
        return get(l)->exchange(value, rl_order(mo), info(l));
    }
    bool compare_exchange_weak(T& expected, T value, std::memory_order success, std::memory_order failure,
                               location l = location::current())
    {
        return get(l)->compare_exchange_weak(expected, value, rl_order(success), info(l), rl_order(failure), info(l));
    }
    bool compare_exchange_weak(T& expected, T value, std::memory_order mo, location l = location::current())
    {
        return get(l)->compare_exchange_weak(expected, value, rl_order(mo), info(l));
    }
    bool compare_exchange_strong(T& expected, T value, std::memory_order success, std::memory_order failure,
                                 location l = location::current())
    {
        return get(l)->compare_exchange_strong(expected, value, rl_order(success), info(l), rl_order(failure), info(l));
    }
    bool compare_exchange_strong(T& expected, T value, std::memory_order mo, location l = location::current())
    {
        return get(l)->compare_exchange_strong(expected, value, rl_order(mo), info(l));
    }
    T fetch_add(T value, std::memory_order mo, location l = location::current())
    {
        return get(l)->fetch_add(value, rl_order(mo), info(l));
    }
    T fetch_sub(T value, std::memory_order mo, location l = location::current())
    {
        return get(l)->fetch_sub(value, rl_order(mo), info(l));
    }
    T fetch_and(T value, std::memory_order mo, location l = location::current())
    {
        return get(l)->fetch_and(value, rl_order(mo), info(l));
    }
    T fetch_or(T value, std::memory_order mo, location l = location::current())
    {
        return get(l)->fetch_or(value, rl_order(mo), info(l));
    }

private:
    rl::atomic<T>* get(const location& l) const
    {
        if (direct_ == nullptr) {
            rl::ctx().fail_test("model: a write to a shared word the model did not register",
                                rl::test_result_user_assert_failed, info(l));
        }
        return direct_;
    }

    rl::atomic<T>* direct_ = nullptr;
    rl::atomic<std::uint64_t>* wide_ = nullptr;
    unsigned shift_ = 0;
};
static_assert(protocol::atomic_integer_word<rl_word<std::uint32_t>, std::uint32_t>);
static_assert(protocol::atomic_integer_word<rl_word<std::uint64_t>, std::uint64_t>);

// The rl::atomic words that shadow the fields a model's threads use. Registered in the test
// suite's constructor (Relacy builds the suite in the first thread, before any thread runs),
// initialised from the field's bytes (the kernel's zeros, or what the model put there).
class shadow_memory {
public:
    shadow_memory() noexcept { current() = this; }
    ~shadow_memory() { current() = nullptr; }
    shadow_memory(const shadow_memory&) = delete;
    shadow_memory& operator=(const shadow_memory&) = delete;

    static shadow_memory*& current() noexcept
    {
        static shadow_memory* instance = nullptr;
        return instance;
    }

    void add(std::uint32_t& field)
    {
        check_room(used32_ < words32_.size());
        rl::atomic<std::uint32_t>& a = words32_[used32_++];
        a.store(field, rl::mo_relaxed, RL_INFO);
        entries_[used_++] = {reinterpret_cast<const std::byte*>(&field), 4, &a};
    }
    void add(std::uint64_t& field)
    {
        check_room(used64_ < words64_.size());
        rl::atomic<std::uint64_t>& a = words64_[used64_++];
        a.store(field, rl::mo_relaxed, RL_INFO);
        entries_[used_++] = {reinterpret_cast<const std::byte*>(&field), 8, &a};
    }
    // Every 8-byte word of [p, p + n): frame bytes and metadata, copied by racy_copy.
    void add_bytes(void* p, std::size_t n)
    {
        auto* words = static_cast<std::uint64_t*>(p);
        for (std::size_t i = 0; i < n / 8; ++i) {
            add(words[i]);
        }
    }

    rl::atomic<std::uint64_t>* find64(const void* p) const noexcept
    {
        for (std::size_t i = 0; i < used_; ++i) {
            if (entries_[i].address == p && entries_[i].size == 8) {
                return static_cast<rl::atomic<std::uint64_t>*>(entries_[i].atom);
            }
        }
        return nullptr;
    }
    rl::atomic<std::uint32_t>* find32(const void* p) const noexcept
    {
        for (std::size_t i = 0; i < used_; ++i) {
            if (entries_[i].address == p && entries_[i].size == 4) {
                return static_cast<rl::atomic<std::uint32_t>*>(entries_[i].atom);
            }
        }
        return nullptr;
    }

    rl_word<std::uint64_t> word(std::uint64_t& field) const noexcept { return rl_word<std::uint64_t>(find64(&field)); }
    rl_word<std::uint32_t> word(std::uint32_t& field) const noexcept
    {
        if (rl::atomic<std::uint32_t>* a = find32(&field)) {
            return rl_word<std::uint32_t>(a);
        }
        // Half of a registered 64-bit word (little-endian, as every Windows target).
        const auto* p = reinterpret_cast<const std::byte*>(&field);
        if (rl::atomic<std::uint64_t>* low = find64(p)) {
            return rl_word<std::uint32_t>(low, 0);
        }
        if (rl::atomic<std::uint64_t>* high = find64(p - 4)) {
            return rl_word<std::uint32_t>(high, 32);
        }
        return rl_word<std::uint32_t>();
    }

private:
    static void check_room(bool ok)
    {
        if (!ok) {
            std::fprintf(stderr, "model: shadow_memory is full\n");
            std::abort();
        }
    }
    struct entry {
        const std::byte* address;
        unsigned size;
        void* atom;
    };
    std::array<rl::atomic<std::uint32_t>, 16> words32_;
    std::array<rl::atomic<std::uint64_t>, 96> words64_;
    std::array<entry, 112> entries_{};
    std::size_t used32_ = 0;
    std::size_t used64_ = 0;
    std::size_t used_ = 0;
};

// The frame channel's words that channel_view::initialize writes and attach reads: the header's
// geometry, the control block, and each slot's stamp (the frame model adds the bytes it copies).
inline void add_channel_words(shadow_memory& memory, std::byte* region, std::uint32_t slots)
{
    namespace fl = protocol::frame_layout;
    auto* h = reinterpret_cast<fl::channel_header*>(region);
    memory.add(h->slot_count);
    memory.add(h->max_frame_size);
    memory.add(h->slot_stride);
    memory.add(h->data_offset);
    memory.add(h->total_size);
    auto* c = reinterpret_cast<fl::channel_control*>(region + fl::control_offset);
    memory.add(c->published);
    memory.add(c->writer);
    memory.add(c->sibling);
    memory.add(c->closed);
    memory.add(c->notify_sequence);
    auto* records = reinterpret_cast<fl::slot_record*>(region + fl::records_offset);
    for (std::uint32_t i = 0; i < slots; ++i) {
        memory.add(records[i].stamp);
    }
}

// The "memory" the protocol headers are instantiated with in the models.
struct model_memory {
    template <class T>
    static rl_word<T> word(T& field) noexcept
    {
        return shadow_memory::current()->word(field);
    }
    static void fence(std::memory_order mo, location l = location::current())
    {
        rl::atomic_thread_fence(rl_order(mo), info(l));
    }
    // racy_copy as the TSan build does it: relaxed atomic loads and stores, here 8 bytes at a
    // time (the frame protocol copies 8-byte-aligned metadata and the models' frames are whole
    // words), so a reader can copy half of one frame and half of the next, and only the
    // sequence lock's stamps and fences can tell it.
    static void racy_copy(void* dst, const void* src, std::size_t n, location l = location::current())
    {
        const shadow_memory& m = *shadow_memory::current();
        auto* d = static_cast<std::byte*>(dst);
        const auto* s = static_cast<const std::byte*>(src);
        if (n % 8 != 0) {
            rl::ctx().fail_test("model: racy_copy of a size the model does not shadow", rl::test_result_user_assert_failed,
                                info(l));
        }
        for (std::size_t i = 0; i < n; i += 8) {
            if (rl::atomic<std::uint64_t>* to = m.find64(d + i)) {
                std::uint64_t v = 0;
                std::memcpy(&v, s + i, 8);
                to->store(v, rl::mo_relaxed, info(l));
            } else if (rl::atomic<std::uint64_t>* from = m.find64(s + i)) {
                const std::uint64_t v = from->load(rl::mo_relaxed, info(l));
                std::memcpy(d + i, &v, 8);
            } else {
                std::memcpy(d + i, s + i, 8);
            }
        }
    }
};
static_assert(protocol::memory_access<model_memory>);

// ---- processes: identities, deaths, a fake clock ------------------------------------------------

// Thread i is the process with pid i + 1. A process dies by longjmp out of the protocol call it
// is in (at a step hook, or where the model says): nothing after that point runs, exactly as if
// the process had been killed there, and its liveness turns false for everyone else. The death
// is a release store and the liveness probe an acquire load: the kernel's answer about a
// process that ended comes after everything that process did.
struct world {
    static constexpr int max_processes = 4;
    std::array<rl::atomic<int>, max_processes> dead;
    std::array<std::jmp_buf, max_processes> grave{};
    std::int64_t clock_ns = 0; // ghost: every now() advances it

    world()
    {
        for (auto& d : dead) {
            d.store(0, rl::mo_relaxed, RL_INFO);
        }
    }

    [[noreturn]] void die(int self)
    {
        dead[static_cast<std::size_t>(self)].store(1, rl::mo_release, RL_INFO);
        std::longjmp(grave[static_cast<std::size_t>(self)], 1);
    }
};

// protocol::environment for thread `self`: the fake clock advances 100 us per look, so waits
// run out and liveness checks come due after a few dozen steps; pauses and spins are
// rl::yield, which tells the scheduler that this thread waits for another.
template <class Steps>
struct process_env {
    world* w = nullptr;
    int self = 0;
    Steps* script = nullptr; // at(step): the model's hook (death or stall), may be null

    std::chrono::nanoseconds now() noexcept
    {
        w->clock_ns += 100'000;
        return std::chrono::nanoseconds(w->clock_ns);
    }
    bool alive(protocol::identity id) noexcept
    {
        const int index = static_cast<int>(id.pid) - 1;
        if (index < 0 || index >= world::max_processes) {
            return false;
        }
        return w->dead[static_cast<std::size_t>(index)].load(rl::mo_acquire, RL_INFO) == 0;
    }
    void pause(std::chrono::nanoseconds) noexcept { rl::yield(1, RL_INFO); }
    void relax() noexcept { rl::yield(1, RL_INFO); }
    template <class S>
    void at(S s)
    {
        if (script != nullptr) {
            script->at(*this, s);
        }
    }
};

inline protocol::identity identity_of(int thread) noexcept
{
    return {static_cast<std::uint32_t>(thread + 1), 0x1234u + static_cast<std::uint32_t>(thread)};
}

// ---- running -------------------------------------------------------------------------------------

enum class search { full, random, bound };

struct run_options {
    search how = search::random;
    unsigned long long iterations = 0;
    unsigned depth = 20000;
};

// The iteration count of a random search: the model's default (sized for the 5-minute test
// command), unless WINMMF_RELACY_ITERATIONS says otherwise (scripts/models.sh).
inline unsigned long long iterations_or(unsigned long long fallback) noexcept
{
    if (const char* s = std::getenv("WINMMF_RELACY_ITERATIONS"); s != nullptr && *s != '\0') {
        const unsigned long long n = std::strtoull(s, nullptr, 10);
        if (n != 0) {
            return n;
        }
    }
    return fallback;
}

// WINMMF_RELACY_SEARCH=full: every model runs Relacy's full search instead of its random one
// (to see whether a full search finishes; most of the random models' do not in useful time).
inline bool full_search_asked() noexcept
{
    const char* s = std::getenv("WINMMF_RELACY_SEARCH");
    return s != nullptr && std::string_view(s) == "full";
}

// What the last run() found: Relacy's verdict and the iteration it stopped at.
struct verdict {
    rl::test_result_e result = rl::test_result_success;
    unsigned long long iteration = 0;
};
inline verdict& last_verdict() noexcept
{
    static verdict v;
    return v;
}

// What the iterations of the last run() went through (the models count the paths they mean to
// exercise - deaths, recoveries, owner_dead reports, torn copies refused, ... - so that a model
// that silently stopped reaching them shows it). Plain counters: Relacy runs one OS thread.
struct coverage {
    static constexpr std::size_t size = 16;
    std::array<unsigned long long, size> counts{};
    std::array<const char*, size> names{};
    std::array<const char*, size> prefixes{};
    void add(std::size_t i, const char* name, const char* prefix = "") noexcept
    {
        names[i] = name;
        prefixes[i] = prefix;
        ++counts[i];
    }
};
inline coverage& covered() noexcept
{
    static coverage c;
    return c;
}

class null_buffer : public std::streambuf {
protected:
    int overflow(int c) override { return c; }
};

// Runs one model; true if Relacy found nothing. The output says the search, the iteration count
// and (on failure) Relacy's history. The random scheduler seeds each iteration with its index, so
// a run is reproducible: the "fixed seed" is the iteration number.
template <class Test>
bool run(const char* name, run_options o)
{
    static null_buffer sink;
    static std::ostream quiet(&sink);
    rl::test_params p;
    p.search_type = o.how == search::full ? rl::sched_full : o.how == search::bound ? rl::sched_bound : rl::sched_random;
    p.iteration_count = o.how == search::full ? 1000000000ull : o.iterations;
    p.execution_depth_limit = o.depth;
    p.context_bound = 2;
    p.progress_stream = &quiet;
    std::cout << "model " << name << ": "
              << (o.how == search::full ? "full search" : o.how == search::bound ? "context-bound search" : "random search")
              << (o.how == search::full ? std::string() : ", " + std::to_string(o.iterations) + " iterations") << ", "
              << Test::params::thread_count << " threads" << std::endl;
    covered() = {};
    const auto start = std::chrono::steady_clock::now();
    const bool ok = rl::simulate<Test>(p);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    last_verdict() = {p.test_result, static_cast<unsigned long long>(p.stop_iteration)};
    std::cout << "model " << name << ": " << (ok ? "passed" : rl::test_result_str(p.test_result)) << " after "
              << p.stop_iteration << " iterations, " << ms.count() << " ms";
    const char* separator = " (";
    for (std::size_t i = 0; i < covered().counts.size(); ++i) {
        if (covered().names[i] != nullptr) {
            std::cout << separator << covered().prefixes[i] << covered().names[i] << ": " << covered().counts[i];
            separator = ", ";
        }
    }
    std::cout << (separator[0] == ',' ? ")" : "") << std::endl;
    return ok;
}

// One model of a program: its name, and how it runs by default.
struct entry {
    const char* name;
    bool (*run)(const char* name, run_options o);
    run_options options;
};

// The command line of every model program:
//   prog                      runs every model; exit 0 if all pass
//   prog NAME...              runs the named ones
//   prog --expect-failure NAME...   (a mutant build) exit 0 only if Relacy reports a failure in
//                             every named model: the check that the model can fail at all
//   prog --list
template <std::size_t N>
int main_of(int argc, char** argv, const std::array<entry, N>& models)
{
    bool expect_failure = false;
    bool list = false;
    std::array<bool, N> chosen{};
    bool any = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--expect-failure") {
            expect_failure = true;
            continue;
        }
        if (a == "--list") {
            list = true;
            continue;
        }
        bool found = false;
        for (std::size_t k = 0; k < N; ++k) {
            if (a == models[k].name) {
                chosen[k] = found = any = true;
            }
        }
        if (!found) {
            std::cerr << "unknown model " << a << std::endl;
            return 2;
        }
    }
    if (list) {
        for (const entry& e : models) {
            std::cout << e.name << std::endl;
        }
        return 0;
    }
    int status = 0;
    for (std::size_t k = 0; k < N; ++k) {
        if (any && !chosen[k]) {
            continue;
        }
        run_options o = models[k].options;
        if (full_search_asked()) {
            o.how = search::full;
        }
        if (o.how != search::full) {
            o.iterations = iterations_or(o.iterations);
        }
        const bool ok = models[k].run(models[k].name, o);
        if (expect_failure) {
            if (ok) {
                std::cout << "mutation NOT caught by " << models[k].name << std::endl;
                status = 1;
            } else {
                std::cout << "mutation caught by " << models[k].name << ": "
                          << rl::test_result_str(last_verdict().result) << " at iteration "
                          << last_verdict().iteration << std::endl;
            }
        } else if (!ok) {
            status = 1;
        }
    }
    return status;
}

} // namespace winmmf::model
