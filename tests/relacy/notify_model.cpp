// tests/relacy/notify_model.cpp - the notification handshake (protocol/notify_state.hpp) under
// Relacy: the shipped bump / announce / sequence / withdraw over rl::atomic words, the waiter
// loop of detail/notify_endpoint.hpp's sleep_on, and the kernel's auto-reset event as Relacy's
// own event (a waiter blocked on it is blocked for Relacy too).
//
// The notifier writes a payload (rl::var), then notifies once and signals the waiters bump()
// names. Each waiter has seen sequence 0: it looks, announces itself, looks again, and sleeps
// until the sequence moves. Checked:
//   - no lost wake-up: a waiter that sleeps is always woken (else every thread is blocked or
//     done and Relacy reports a DEADLOCK);
//   - the payload is visible to a waiter that saw the change (no data race);
//   - the notifier signals only slots that were announced, and with nobody waiting (the pollers'
//     model) bump() returns 0: no signal at all, so the notifier's whole cost is its increment
//     and one load (the payload is visible to a poller that saw the change, too).
// Mutations (WINMMF_MUTATE): notify_waiter_check_acquire, notify_notifier_check_acquire,
// notify_bump_release (lost wake-ups), notify_sequence_acquire_dropped (the payload races).
#include "model.hpp"

#include <winmmf/protocol/notify_state.hpp>

namespace {

using namespace winmmf;
using namespace winmmf::model;
using state_t = protocol::basic_notify_state<model_memory>;

template <unsigned Waiters, bool Sleep>
struct notify_model : rl::test_suite<notify_model<Waiters, Sleep>, static_cast<rl::thread_id_t>(Waiters + 1)> {
    alignas(64) protocol::notify_block block{};
    shadow_memory memory;
    rl::var<int> payload;
    std::array<rl::generic_event, Waiters> events;
    // ghost
    std::array<bool, Waiters> announced{};
    int signals = 0;

    notify_model()
    {
        memory.add(block.sequence);
        memory.add(block.waiters.waiting);
    }

    void before()
    {
        payload(RL_INFO) = 0;
        for (auto& e : events) {
            e.init(false, false, RL_INFO); // auto-reset, not signalled: a waiter's event
        }
    }
    void after()
    {
        for (auto& e : events) {
            e.deinit(RL_INFO);
        }
    }

    void thread(unsigned index)
    {
        state_t state(&block);
        if (index == 0) {
            payload(RL_INFO) = 42;
            std::uint64_t mask = state.bump();
            if (!Sleep) {
                RL_ASSERT(mask == 0); // nobody waits: nothing to signal
            }
            while (mask != 0) {
                const auto slot = static_cast<std::uint32_t>(std::countr_zero(mask));
                mask &= mask - 1;
                RL_ASSERT(slot < Waiters && announced[slot]); // only announced waiters
                ++signals;
                events[slot].set(RL_INFO);
            }
            return;
        }
        const auto slot = static_cast<std::uint32_t>(index - 1);
        const std::uint64_t seen = 0;
        std::uint64_t current = state.sequence();
        if (!Sleep) {
            // A poller (try_once / spin modes): it never announces itself.
            for (int i = 0; i < 3 && current == seen; ++i) {
                rl::yield(1, RL_INFO);
                current = state.sequence();
            }
            if (current != seen) {
                RL_ASSERT(payload(RL_INFO) == 42);
            }
            return;
        }
        if (current != seen) {
            RL_ASSERT(payload(RL_INFO) == 42);
            return;
        }
        // notify_endpoint::sleep_on: announce, then look; sleep until the sequence moves.
        announced[slot] = true; // before the call: its fetch_or and its load are two Relacy steps
        current = state.announce(slot);
        while (current == seen) {
            events[slot].wait(false, false, RL_INFO);
            current = state.sequence();
        }
        state.withdraw(slot);
        RL_ASSERT(payload(RL_INFO) == 42);
    }
};

template <class T>
bool run_model(const char* name, run_options o)
{
    return run<T>(name, o);
}

constexpr run_options full{search::full, 0, 20000};

const std::array<entry, 4> models{{
    {"notify.notifier_waiter", &run_model<notify_model<1, true>>, full},
    {"notify.notifier_two_waiters", &run_model<notify_model<2, true>>, full},
    {"notify.notifier_poller", &run_model<notify_model<1, false>>, full},
    {"notify.notifier_two_pollers", &run_model<notify_model<2, false>>, full},
}};

} // namespace

int main(int argc, char** argv)
{
    return main_of(argc, argv, models);
}
