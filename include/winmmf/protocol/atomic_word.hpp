// winmmf/protocol/atomic_word.hpp - the atomic words the protocol code operates on, and how it
// reaches them.
// Win32 shell: winmmf/lock.hpp
//
// Platform-independent. Every protocol header works on words in shared memory through a type
// that satisfies `atomic_word` (load, store, exchange, compare_exchange_*, fetch_*, each taking
// its std::memory_order and passing it through unchanged). In the library that type is
// std::atomic_ref over the mapping, and the protocol code that takes a "memory" parameter reaches
// its fields through `mapped_memory` (std::atomic_ref, std::atomic_thread_fence, memcpy): the
// template arguments default to those, so every caller compiles to the very code it did before
// the protocols became generic. The Relacy models (tests/relacy/, docs/explanation/memory-model.md) pass an
// adapter over rl::atomic instead, and so check the shipped code, not a copy of it, under every
// outcome the C++ memory model allows.
//
// Mutation checks: a model's mutation test compiles the protocol headers with
// -DWINMMF_MUTATE=<name>, and exactly one of the named order constants below the headers'
// "orders" comments then weakens one order (or drops one fence). The check passes only if Relacy
// reports the failure. Without the macro `mutant()` is the constant false, the constants are
// the production orders, and nothing of this reaches the generated code.
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

namespace winmmf::protocol {

// A word of type T in shared memory, reached atomically. std::atomic_ref<T> is one; the models'
// adapter over rl::atomic<T> is another. Orders are passed as given: an implementation must not
// strengthen or weaken them (the models' proofs are about the orders written here).
template <class W, class T>
concept atomic_word = std::copy_constructible<W> && requires(W w, T value, T& expected, std::memory_order mo) {
    { w.load(mo) } -> std::same_as<T>;
    w.store(value, mo);
    { w.exchange(value, mo) } -> std::same_as<T>;
    { w.compare_exchange_weak(expected, value, mo, mo) } -> std::same_as<bool>;
    { w.compare_exchange_strong(expected, value, mo, mo) } -> std::same_as<bool>;
    { w.compare_exchange_strong(expected, value, mo) } -> std::same_as<bool>;
};

// ... with the integer read-modify-writes.
template <class W, class T>
concept atomic_integer_word = atomic_word<W, T> && requires(W w, T value, std::memory_order mo) {
    { w.fetch_add(value, mo) } -> std::same_as<T>;
    { w.fetch_sub(value, mo) } -> std::same_as<T>;
    { w.fetch_and(value, mo) } -> std::same_as<T>;
    { w.fetch_or(value, mo) } -> std::same_as<T>;
};

// Copies that may race with the other side of a sequence lock (protocol/frame.hpp). In hardware
// this is an ordinary memcpy: the stamps and fences around it decide whether the bytes are kept.
// Under ThreadSanitizer the bytes move as relaxed atomics instead, so that the tool reports real
// races (a missing fence, an unguarded field) rather than the one the protocol allows.
#if defined(__SANITIZE_THREAD__)
#define WINMMF_SEQLOCK_ATOMIC_COPY 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WINMMF_SEQLOCK_ATOMIC_COPY 1
#endif
#endif

inline void racy_copy(void* dst, const void* src, std::size_t n) noexcept
{
#if defined(WINMMF_SEQLOCK_ATOMIC_COPY)
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = static_cast<unsigned char*>(const_cast<void*>(src));
    for (std::size_t i = 0; i < n; ++i) {
        // relaxed: the sequence lock's stamps and fences order these, not the copy itself.
        std::atomic_ref<unsigned char>(d[i]).store(
            std::atomic_ref<unsigned char>(s[i]).load(std::memory_order_relaxed),
            std::memory_order_relaxed);
    }
#else
    if (n != 0) {
        std::memcpy(dst, src, n);
    }
#endif
}

// How protocol code reaches a mapping: the production "memory". A model passes a type with the
// same three static members (tests/relacy/model.hpp), whose words are rl::atomic and whose racy
// copies are relaxed rl::atomic loads and stores, so Relacy sees every access.
struct mapped_memory {
    template <class T>
    static std::atomic_ref<T> word(T& field) noexcept
    {
        return std::atomic_ref<T>(field);
    }
    // The order is the caller's (frame.hpp's sequence-lock fences), passed through.
    static void fence(std::memory_order mo) noexcept { std::atomic_thread_fence(mo); }
    static void racy_copy(void* dst, const void* src, std::size_t n) noexcept { protocol::racy_copy(dst, src, n); }
};

template <class M>
concept memory_access = requires(std::uint32_t& w32, std::uint64_t& w64, void* dst, const void* src, std::size_t n,
                                 std::memory_order mo) {
    { M::word(w32) } -> atomic_integer_word<std::uint32_t>;
    { M::word(w64) } -> atomic_integer_word<std::uint64_t>;
    M::fence(mo);
    M::racy_copy(dst, src, n);
};
static_assert(memory_access<mapped_memory>);

// The word type memory M gives a field of type T.
template <class M, class T>
using word_t = decltype(M::word(std::declval<T&>()));

// ---- mutation checks -------------------------------------------------------------------------

#define WINMMF_PROTOCOL_STRINGIFY2(x) #x
#define WINMMF_PROTOCOL_STRINGIFY(x) WINMMF_PROTOCOL_STRINGIFY2(x)

// True only in the build of the mutation check `name` (-DWINMMF_MUTATE=name).
constexpr bool mutant(std::string_view name) noexcept
{
#if defined(WINMMF_MUTATE)
    return name == std::string_view(WINMMF_PROTOCOL_STRINGIFY(WINMMF_MUTATE));
#else
    (void)name;
    return false;
#endif
}

// `production`, except in the mutation check `name`, where it is `weakened`. Used only to
// initialise the headers' constexpr order constants, so it is evaluated at compile time.
constexpr std::memory_order order_unless_mutant(std::memory_order production, std::string_view name,
                                                std::memory_order weakened) noexcept
{
    return mutant(name) ? weakened : production;
}

} // namespace winmmf::protocol
