// tests/relacy/lock_word_model.cpp - the compatible lock (protocol/lock_word.hpp, WinMMF's lock
// word) under Relacy: the shipped try_lock_* / unlock_* over an rl::atomic word.
//
// Each writer takes the write lock (a few tries) and increments the data; each reader takes the
// read lock and reads it. The data is an rl::var, so Relacy reports any access that the lock's
// orders do not separate. Ghost counters, changed in the same Relacy step as the exchange that
// took or released the lock, check the rest:
//   - a writer is alone: no reader and no other writer when it gets the lock;
//   - readers share: a read lock is refused only while a writer holds the lock;
//   - every refusal is a reason found in the word: write_locked only while a writer is inside,
//     read_locked only while a reader is, nothing else;
//   - no lost unlock: every unlock succeeds, and the word is free (0) at the end.
// Mutations (WINMMF_MUTATE): lock_word_unlock_release_dropped, lock_word_lock_acquire_dropped.
#include "model.hpp"

#include <winmmf/protocol/lock_word.hpp>

namespace {

using namespace winmmf;
using namespace winmmf::model;
namespace lw = winmmf::protocol::lock_word;

template <unsigned Writers, unsigned Readers>
struct compatible_lock_model : rl::test_suite<compatible_lock_model<Writers, Readers>, static_cast<rl::thread_id_t>(Writers + Readers)> {
    static constexpr int tries = 3;

    rl::atomic<lw::word_type> word;
    rl::var<int> data;
    // ghost
    int writers_inside = 0;
    int readers_inside = 0;
    int writes_done = 0;

    rl_word<lw::word_type> w() { return rl_word<lw::word_type>(&word); }

    void before()
    {
        word.store(0, rl::mo_relaxed, RL_INFO); // the kernel's zero-filled section
        data(RL_INFO) = 0;
        RL_ASSERT(lw::initialize(w()) == errc{});
    }

    void thread(unsigned index)
    {
        if (index < Writers) {
            writer();
        } else {
            reader();
        }
    }

    void writer()
    {
        for (int attempt = 0; attempt < tries; ++attempt) {
            const errc r = lw::try_lock_write(w());
            if (r == errc{}) {
                RL_ASSERT(writers_inside == 0 && readers_inside == 0);
                writers_inside = 1;
                data(RL_INFO) = data(RL_INFO) + 1;
                const errc u = lw::unlock_write(w());
                RL_ASSERT(u == errc{});
                writers_inside = 0;
                ++writes_done;
                return;
            }
            if (r == errc::write_locked) {
                RL_ASSERT(writers_inside == 1);
            } else if (r == errc::read_locked) {
                RL_ASSERT(readers_inside > 0 && writers_inside == 0);
            } else {
                RL_ASSERT(!"a write lock refused for a reason that is not in the word");
            }
            rl::yield(1, RL_INFO);
        }
    }

    void reader()
    {
        for (int attempt = 0; attempt < tries; ++attempt) {
            const errc r = lw::try_lock_read(w());
            if (r == errc{}) {
                RL_ASSERT(writers_inside == 0);
                ++readers_inside;
                const int seen = data(RL_INFO);
                RL_ASSERT(seen >= 0 && seen <= static_cast<int>(Writers));
                const errc u = lw::unlock_read(w());
                RL_ASSERT(u == errc{});
                --readers_inside;
                return;
            }
            // Readers share: only a writer can keep a reader out.
            RL_ASSERT(r == errc::write_locked);
            RL_ASSERT(writers_inside == 1);
            rl::yield(1, RL_INFO);
        }
    }

    void after()
    {
        RL_ASSERT(writers_inside == 0 && readers_inside == 0);
        RL_ASSERT(word.load(rl::mo_relaxed, RL_INFO) == 0); // no lost unlock
        RL_ASSERT(data(RL_INFO) == writes_done);
    }
};

template <class T>
bool run_model(const char* name, run_options o)
{
    return run<T>(name, o);
}

constexpr run_options full{search::full, 0, 20000};

const std::array<entry, 4> models{{
    {"lock_word.writer_writer", &run_model<compatible_lock_model<2, 0>>, full},
    {"lock_word.writer_reader", &run_model<compatible_lock_model<1, 1>>, full},
    {"lock_word.writer_reader_reader", &run_model<compatible_lock_model<1, 2>>, full},
    {"lock_word.writer_writer_reader", &run_model<compatible_lock_model<2, 1>>, full},
}};

} // namespace

int main(int argc, char** argv)
{
    return main_of(argc, argv, models);
}
