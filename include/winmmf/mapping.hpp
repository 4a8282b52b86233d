// winmmf/mapping.hpp - basic_memory_mapped_file: a named, pagefile-backed section and one view.
//
// Ownership: the object owns the section handle and the view; moving transfers both and
// leaves the source closed; the destructor and close() release both. The mapping itself lives
// as long as any process still has a handle or a view of it.
//
// Errors: every fallible call comes as a throwing overload (std::system_error) and a noexcept
// overload that reports through std::error_code&, as std::filesystem does. On any error the
// object is left closed (factories) or unchanged (operations), and shared data is untouched.
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/async.hpp>
#include <winmmf/detail/lock_op.hpp>
#include <winmmf/detail/open_wait.hpp>
#include <winmmf/detail/section.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/guard.hpp>
#include <winmmf/mapping_options.hpp>
#include <winmmf/lock.hpp>
#include <winmmf/name.hpp>
#include <winmmf/notification.hpp>
#include <winmmf/protocol/page.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace winmmf {

template <lock_policy LockPolicy>
class basic_memory_mapped_file {
public:
    using lock_policy_type = LockPolicy;
    using read_guard = basic_read_guard<LockPolicy>;
    using write_guard = basic_write_guard<LockPolicy>;
    static constexpr std::size_t header_size = LockPolicy::header_size;
    // What data() is aligned to: a view starts on an allocation-granularity boundary (64 KiB),
    // so the data are aligned to the largest power of two dividing the header's size - 4 for
    // the WinMMF layout (compatible_lock, no_lock), 1024 for robust_lock.
    static constexpr std::size_t data_alignment =
        header_size == 0 ? std::size_t{65536} : (header_size & (~header_size + 1));

    basic_memory_mapped_file() noexcept = default;
    basic_memory_mapped_file(basic_memory_mapped_file&& other) noexcept { swap(other); }
    basic_memory_mapped_file& operator=(basic_memory_mapped_file&& other) noexcept
    {
        if (this != &other) {
            close_quietly();
            swap(other);
        }
        return *this;
    }
    basic_memory_mapped_file(const basic_memory_mapped_file&) = delete;
    basic_memory_mapped_file& operator=(const basic_memory_mapped_file&) = delete;
    ~basic_memory_mapped_file() { close_quietly(); }

    // ---- creating and opening ---------------------------------------------------------

    // Creates a new mapping of at least `size` usable bytes; errc::already_exists if the
    // name is taken (by a mapping of any size).
#if WINMMF_EXCEPTIONS
    static basic_memory_mapped_file create(const name_ref& name, std::size_t size,
                                           const create_options& options = {})
    {
        return detail::or_throw("create", name, [&](std::error_code& ec) { return create(name, size, options, ec); });
    }
#endif
    static basic_memory_mapped_file create(const name_ref& name, std::size_t size, std::error_code& ec) noexcept
    {
        return create(name, size, create_options{}, ec);
    }
    static basic_memory_mapped_file create(const name_ref& name, std::size_t size, const create_options& options,
                                           std::error_code& ec) noexcept
    {
        return establish(disposition::create_only, name, size, options, open_options{}, ec);
    }

    // Opens an existing mapping; errc::not_found if there is none under that name (after
    // waiting for it as long as open_options::wait says: reader-first start-up).
#if WINMMF_EXCEPTIONS
    static basic_memory_mapped_file open(const name_ref& name, const open_options& options = {})
    {
        return detail::or_throw("open", name, [&](std::error_code& ec) { return open(name, options, ec); });
    }
#endif
    static basic_memory_mapped_file open(const name_ref& name, std::error_code& ec) noexcept
    {
        return open(name, open_options{}, ec);
    }
    static basic_memory_mapped_file open(const name_ref& name, const open_options& options,
                                         std::error_code& ec) noexcept
    {
        basic_memory_mapped_file m;
        ec = detail::open_waiting(options.wait, [&]() noexcept {
            m.close_quietly();
            return m.attach(disposition::open_only, name, 0, create_options{}, options);
        });
        if (ec) {
            m.close_quietly();
        }
        return m;
    }

    // Opens the mapping if it exists, creates it otherwise; created() tells which. An existing
    // mapping smaller than `size` is refused with errc::too_large.
#if WINMMF_EXCEPTIONS
    static basic_memory_mapped_file open_or_create(const name_ref& name, std::size_t size,
                                                   const create_options& options = {})
    {
        return detail::or_throw("open_or_create", name,
                                [&](std::error_code& ec) { return open_or_create(name, size, options, ec); });
    }
#endif
    static basic_memory_mapped_file open_or_create(const name_ref& name, std::size_t size,
                                                   std::error_code& ec) noexcept
    {
        return open_or_create(name, size, create_options{}, ec);
    }
    static basic_memory_mapped_file open_or_create(const name_ref& name, std::size_t size,
                                                   const create_options& options, std::error_code& ec) noexcept
    {
        return establish(disposition::open_or_create, name, size, options, open_options{}, ec);
    }

    // Unmaps the view and closes the section handle. Safe to call on a closed object.
#if WINMMF_EXCEPTIONS
    void close()
    {
        std::error_code ec;
        close(ec);
        detail::throw_if(ec, "winmmf: close");
    }
#endif
    void close(std::error_code& ec) noexcept
    {
        async_.reset(); // pending asynchronous locks end (errc::aborted) while the view is mapped
        changes_.reset();
        ec = section_.close();
        lock_ = LockPolicy{};
    }

    // ---- what it is ---------------------------------------------------------------------

    bool is_open() const noexcept { return section_.is_open(); }
    explicit operator bool() const noexcept { return is_open(); }

    // The usable size the caller asked for (or, when opened without an expected size, the
    // whole capacity).
    std::size_t size() const noexcept { return section_.layout().size; }
    // What page rounding actually provides after the header; reads and writes may use all of it.
    std::size_t capacity() const noexcept { return section_.layout().capacity; }
    // The section size as the kernel has it, header included.
    std::uint64_t section_size() const noexcept { return section_.layout().section_size; }

    // True if the view is mapped with large pages: created with SEC_LARGE_PAGES and mapped with
    // FILE_MAP_LARGE_PAGES, or (opened) mapped with FILE_MAP_LARGE_PAGES and accepted.
    bool large_pages() const noexcept { return section_.large_pages(); }
    // Why large_page_mode::preferred got normal pages (errc::large_page_privilege_missing,
    // ERROR_NOT_SUPPORTED, ERROR_NO_SYSTEM_RESOURCES, ...); empty when it did not fall back.
    const std::error_code& large_page_fallback() const noexcept { return section_.large_page_fallback(); }

    access_mode access() const noexcept { return writable() ? access_mode::read_write : access_mode::read_only; }
    bool writable() const noexcept { return !is_open() || section_.writable(); }
    // True if this object created the mapping, false if it opened an existing one.
    bool created() const noexcept { return section_.created(); }
    const object_name& name() const noexcept { return section_.name(); }
    HANDLE native_handle() const noexcept { return section_.native_handle(); }
    const LockPolicy& lock_policy() const noexcept { return lock_; }
    LockPolicy& lock_policy() noexcept { return lock_; }

    // The mode that read(), write() and the argument-less lock calls use.
    const acquire_mode& default_acquire() const noexcept { return default_acquire_; }
    void set_default_acquire(const acquire_mode& mode) noexcept { default_acquire_ = mode; }

    // Bytes without any lock: for policies like no_lock, for diagnostics, and for read-only
    // views of lock policies whose readers must write the header. Nothing stops another
    // process from writing while you read.
    std::span<const std::byte> unsynchronized_bytes() const noexcept
    {
        return is_open() ? std::span<const std::byte>(data(), capacity()) : std::span<const std::byte>{};
    }

    // ---- locks and zero-copy access ----------------------------------------------------

#if WINMMF_EXCEPTIONS
    read_guard lock_read() const { return lock_read(default_acquire_); }
    read_guard lock_read(const acquire_mode& mode) const
    {
        std::error_code ec;
        read_guard guard = lock_read(mode, ec);
        throw_if_failed(ec, "lock_read");
        return guard;
    }
#endif
    read_guard lock_read(std::error_code& ec) const noexcept { return lock_read(default_acquire_, ec); }
    read_guard lock_read(const acquire_mode& mode, std::error_code& ec) const noexcept
    {
        if (!check_open(ec) || !check_can_lock_shared(ec)) {
            return {};
        }
        LockPolicy lock = lock_;
        if (!lock.lock_shared(mode, ec)) {
            return {};
        }
        return read_guard(lock, std::span<const std::byte>(data(), capacity()), ec == errc::owner_dead);
    }
#if WINMMF_EXCEPTIONS
    read_guard try_lock_read() const { return lock_read(acquire_mode::try_once()); }
#endif
    read_guard try_lock_read(std::error_code& ec) const noexcept
    {
        return lock_read(acquire_mode::try_once(), ec);
    }

#if WINMMF_EXCEPTIONS
    write_guard lock_write() { return lock_write(default_acquire_); }
    write_guard lock_write(const acquire_mode& mode)
    {
        std::error_code ec;
        write_guard guard = lock_write(mode, ec);
        throw_if_failed(ec, "lock_write");
        return guard;
    }
#endif
    write_guard lock_write(std::error_code& ec) noexcept { return lock_write(default_acquire_, ec); }
    write_guard lock_write(const acquire_mode& mode, std::error_code& ec) noexcept
    {
        if (!check_open(ec) || !check_writable(ec)) {
            return {};
        }
        LockPolicy lock = lock_;
        if (!lock.lock(mode, ec)) {
            return {};
        }
        if (changes_ != nullptr) {
            return write_guard(lock, std::span<std::byte>(data(), capacity()), ec == errc::owner_dead, &signal_change,
                               changes_.get());
        }
        return write_guard(lock, std::span<std::byte>(data(), capacity()), ec == errc::owner_dead);
    }
#if WINMMF_EXCEPTIONS
    write_guard try_lock_write() { return lock_write(acquire_mode::try_once()); }
#endif
    write_guard try_lock_write(std::error_code& ec) noexcept
    {
        return lock_write(acquire_mode::try_once(), ec);
    }

    // ---- locks without blocking a thread (async.hpp) -------------------------------------

    // lock_read(mode) / lock_write(mode) on the thread pool: `done(std::error_code, guard)` runs on
    // a pool thread with the blocking call's result and errors (owner_dead with a guard that
    // holds the lock), or errc::aborted if the mapping is closed, moved onto or destroyed first.
    // A lock word has no event, so the wait polls: detail/lock_op.hpp. The guard must not
    // outlive the mapping, as any guard.
    template <class Done>
        requires detail::async_completion<read_guard, Done>
    async_operation async_lock_read(const acquire_mode& mode, Done&& done) const noexcept
    {
        std::error_code ec;
        if (!check_open(ec) || !check_can_lock_shared(ec)) {
            return detail::fail_async<read_guard>(ec, std::forward<Done>(done));
        }
        const LockPolicy policy = lock_;
        const std::span<const std::byte> bytes(data(), capacity());
        return start_lock<read_guard>([policy, bytes](const acquire_mode& m, std::error_code& e) noexcept {
            LockPolicy lock = policy;
            if (!lock.lock_shared(m, e)) {
                return read_guard{};
            }
            return read_guard(lock, bytes, e == errc::owner_dead);
        }, mode, std::forward<Done>(done));
    }
    template <class Done>
        requires detail::async_completion<write_guard, Done>
    async_operation async_lock_write(const acquire_mode& mode, Done&& done) noexcept
    {
        std::error_code ec;
        if (!check_open(ec) || !check_writable(ec)) {
            return detail::fail_async<write_guard>(ec, std::forward<Done>(done));
        }
        // What lock_write() would use, copied now: the op must not reach into this object,
        // which may be moved while the lock is pending.
        const LockPolicy policy = lock_;
        const std::span<std::byte> bytes(data(), capacity());
        notification* const changes = changes_.get();
        return start_lock<write_guard>([policy, bytes, changes](const acquire_mode& m, std::error_code& e) noexcept {
            LockPolicy lock = policy;
            if (!lock.lock(m, e)) {
                return write_guard{};
            }
            return changes != nullptr ? write_guard(lock, bytes, e == errc::owner_dead, &signal_change, changes)
                                      : write_guard(lock, bytes, e == errc::owner_dead);
        }, mode, std::forward<Done>(done));
    }
    // wait_for_change on the thread pool: `done(std::error_code, std::uint64_t current)`, as
    // notification::async_wait.
    template <class Done>
        requires detail::async_completion<std::uint64_t, Done>
    async_operation async_wait_for_change(std::uint64_t seen, const acquire_mode& mode, Done&& done) noexcept
    {
        std::error_code ec;
        if (!check_open(ec) || changes_ == nullptr) {
            return detail::fail_async<std::uint64_t>(ec ? ec : make_error_code(errc::no_change_notification),
                                                     std::forward<Done>(done));
        }
        return changes_->async_wait(seen, mode, std::forward<Done>(done));
    }
    // The coroutine forms: `co_await m.async_lock_write(mode)` returns the guard (throws as
    // lock_write() does, owner_dead excepted; with `ec`, sets it).
#if WINMMF_EXCEPTIONS
    auto async_lock_read(const acquire_mode& mode) const noexcept
    {
        return detail::make_awaitable<read_guard, detail::owner_dead_is_report>(
            [this, mode](auto&& resume) { this->async_lock_read(mode, std::move(resume)); }, nullptr,
            "memory_mapped_file::async_lock_read");
    }
    auto async_lock_write(const acquire_mode& mode) noexcept
    {
        return detail::make_awaitable<write_guard, detail::owner_dead_is_report>(
            [this, mode](auto&& resume) { this->async_lock_write(mode, std::move(resume)); }, nullptr,
            "memory_mapped_file::async_lock_write");
    }
    auto async_wait_for_change(std::uint64_t seen, const acquire_mode& mode) noexcept
    {
        return detail::make_awaitable<std::uint64_t>(
            [this, seen, mode](auto&& resume) { this->async_wait_for_change(seen, mode, std::move(resume)); }, nullptr,
            "memory_mapped_file::async_wait_for_change");
    }
#endif
    auto async_lock_read(const acquire_mode& mode, std::error_code& ec) const noexcept
    {
        return detail::make_awaitable<read_guard>(
            [this, mode](auto&& resume) { this->async_lock_read(mode, std::move(resume)); }, &ec,
            "memory_mapped_file::async_lock_read");
    }
    auto async_lock_write(const acquire_mode& mode, std::error_code& ec) noexcept
    {
        return detail::make_awaitable<write_guard>(
            [this, mode](auto&& resume) { this->async_lock_write(mode, std::move(resume)); }, &ec,
            "memory_mapped_file::async_lock_write");
    }
    auto async_wait_for_change(std::uint64_t seen, const acquire_mode& mode, std::error_code& ec) noexcept
    {
        return detail::make_awaitable<std::uint64_t>(
            [this, seen, mode](auto&& resume) { this->async_wait_for_change(seen, mode, std::move(resume)); }, &ec,
            "memory_mapped_file::async_wait_for_change");
    }

    // ---- copying in and out --------------------------------------------------------------

    // Copies out.size() bytes starting at `offset` under a shared lock.
#if WINMMF_EXCEPTIONS
    void read(std::size_t offset, std::span<std::byte> out) const { read(offset, out, default_acquire_); }
    void read(std::size_t offset, std::span<std::byte> out, const acquire_mode& mode) const
    {
        std::error_code ec;
        read(offset, out, mode, ec);
        throw_if_failed(ec, "read");
    }
#endif
    void read(std::size_t offset, std::span<std::byte> out, std::error_code& ec) const noexcept
    {
        read(offset, out, default_acquire_, ec);
    }
    // On errc::owner_dead the bytes were copied, but may be half-written.
    void read(std::size_t offset, std::span<std::byte> out, const acquire_mode& mode,
              std::error_code& ec) const noexcept
    {
        if (!check_open(ec) || !check_bounds(offset, out.size(), ec)) {
            return;
        }
        read_guard guard = lock_read(mode, ec);
        if (!guard) {
            return;
        }
        if (!out.empty()) {
            std::memcpy(out.data(), guard.data() + offset, out.size());
        }
        finish_copy(guard, ec);
    }

    // Copies `in` to `offset` under the exclusive lock.
#if WINMMF_EXCEPTIONS
    void write(std::size_t offset, std::span<const std::byte> in) { write(offset, in, default_acquire_); }
    void write(std::size_t offset, std::span<const std::byte> in, const acquire_mode& mode)
    {
        std::error_code ec;
        write(offset, in, mode, ec);
        throw_if_failed(ec, "write");
    }
#endif
    void write(std::size_t offset, std::span<const std::byte> in, std::error_code& ec) noexcept
    {
        write(offset, in, default_acquire_, ec);
    }
    // On errc::owner_dead the bytes were written over data a dead writer left behind.
    void write(std::size_t offset, std::span<const std::byte> in, const acquire_mode& mode,
               std::error_code& ec) noexcept
    {
        if (!check_open(ec) || !check_writable(ec) || !check_bounds(offset, in.size(), ec)) {
            return;
        }
        write_guard guard = lock_write(mode, ec);
        if (!guard) {
            return;
        }
        if (!in.empty()) {
            std::memcpy(guard.data() + offset, in.data(), in.size());
        }
        finish_copy(guard, ec);
    }

    // ---- typed copies ----------------------------------------------------------------------

    // One T copied out of, or into, the data at `offset`, under the lock, as read() and write()
    // do with bytes: no alignment is needed. T must be trivially copyable (its bytes are all
    // there is to it); the bytes read are another process's, so prefer a T every bit pattern
    // of which is a valid value. For in-place access, guard::as<T>().
#if WINMMF_EXCEPTIONS
    template <class T>
    T read(std::size_t offset) const
    {
        return read<T>(offset, default_acquire_);
    }
    template <class T>
    T read(std::size_t offset, const acquire_mode& mode) const
    {
        std::error_code ec;
        const T value = read<T>(offset, mode, ec);
        throw_if_failed(ec, "read");
        return value;
    }
#endif
    template <class T>
    T read(std::size_t offset, std::error_code& ec) const noexcept
    {
        return read<T>(offset, default_acquire_, ec);
    }
    // On error the result is a value-initialised T (on errc::owner_dead: what was copied).
    template <class T>
    T read(std::size_t offset, const acquire_mode& mode, std::error_code& ec) const noexcept
    {
        static_assert(std::is_trivially_copyable_v<T>,
                      "read<T>: T must be trivially copyable - its bytes are copied out of shared memory "
                      "without calling any constructor or copy operation of T");
        std::array<std::byte, sizeof(T)> raw{};
        read(offset, std::span<std::byte>(raw), mode, ec);
        return std::bit_cast<T>(raw);
    }

    // Not for anything that converts to std::span<const std::byte>: those are bytes, and go to
    // write(offset, bytes) as they always did.
#if WINMMF_EXCEPTIONS
    template <class T>
        requires(!std::is_convertible_v<const T&, std::span<const std::byte>>)
    void write(std::size_t offset, const T& value)
    {
        write(offset, value, default_acquire_);
    }
    template <class T>
        requires(!std::is_convertible_v<const T&, std::span<const std::byte>>)
    void write(std::size_t offset, const T& value, const acquire_mode& mode)
    {
        std::error_code ec;
        write(offset, value, mode, ec);
        throw_if_failed(ec, "write");
    }
#endif
    template <class T>
        requires(!std::is_convertible_v<const T&, std::span<const std::byte>>)
    void write(std::size_t offset, const T& value, std::error_code& ec) noexcept
    {
        write(offset, value, default_acquire_, ec);
    }
    template <class T>
        requires(!std::is_convertible_v<const T&, std::span<const std::byte>>)
    void write(std::size_t offset, const T& value, const acquire_mode& mode, std::error_code& ec) noexcept
    {
        static_assert(std::is_trivially_copyable_v<T>,
                      "write<T>: T must be trivially copyable - its bytes are copied into shared memory, "
                      "where another process reads them without calling any constructor or copy "
                      "operation of T");
        write(offset, std::as_bytes(std::span<const T, 1>(&value, 1)), mode, ec);
    }

    // ---- waiting for a change (create_options / open_options::change_notification) ---------

    // Whether this object has the mapping's change notification.
    bool has_change_notification() const noexcept { return changes_ != nullptr; }
    // The notification's sequence now: pass it to wait_for_change(). Every write() and every
    // released write guard of any process that has the notification bumps it. 0 without one.
    std::uint64_t change_sequence() const noexcept { return changes_ != nullptr ? changes_->sequence() : 0; }
    // Waits until the sequence differs from `seen` (a write happened since) and returns the new
    // value: `seen = m.wait_for_change(seen, acquire_mode::wait_for(1s));`. The mode bounds the
    // wait, as for a lock: errc::timeout, errc::max_tries_reached, errc::cancelled; without the
    // notification, errc::no_change_notification.
#if WINMMF_EXCEPTIONS
    std::uint64_t wait_for_change(std::uint64_t seen, const acquire_mode& mode)
    {
        std::error_code ec;
        const std::uint64_t current = wait_for_change(seen, mode, ec);
        throw_if_failed(ec, "wait_for_change");
        return current;
    }
#endif
    std::uint64_t wait_for_change(std::uint64_t seen, const acquire_mode& mode, std::error_code& ec) noexcept
    {
        if (!check_open(ec)) {
            return 0;
        }
        if (changes_ == nullptr) {
            ec = errc::no_change_notification;
            return 0;
        }
        return changes_->wait(seen, mode, ec);
    }
    // The notification itself (null without one): for waiting() and reclaim_abandoned_waiters(),
    // or to signal a change made through unsynchronized access.
    notification* change_notification() noexcept { return changes_.get(); }
    const notification* change_notification() const noexcept { return changes_.get(); }

    // ---- stale locks (policies without owner identity) -------------------------------------

    // The documented reset for a compatible_lock whose holder is known to be dead: a process
    // killed while holding it, or a creator killed between WinMMF's "uninitialized" store and
    // its publish. It clears the word without asking anyone, so it breaks mutual exclusion if
    // the holder is in fact alive: call it only when you know (you killed the holder, or a
    // supervisor saw it exit). Returns the value it replaced. Refused on a read-only view
    // (errc::read_only); see docs/explanation/reliability.md. robust_lock needs no such call.
#if WINMMF_EXCEPTIONS
    template <class P = LockPolicy>
        requires requires(P& p, std::error_code& ec) { p.force_unlock(ec); }
    auto force_unlock_stale_lock()
    {
        std::error_code ec;
        const auto previous = force_unlock_stale_lock(ec);
        throw_if_failed(ec, "force_unlock_stale_lock");
        return previous;
    }
#endif
    template <class P = LockPolicy>
        requires requires(P& p, std::error_code& ec) { p.force_unlock(ec); }
    auto force_unlock_stale_lock(std::error_code& ec) noexcept
    {
        if (!check_open(ec) || !check_writable(ec)) {
            return decltype(lock_.force_unlock(ec)){};
        }
        return lock_.force_unlock(ec);
    }

    void swap(basic_memory_mapped_file& other) noexcept
    {
        using std::swap;
        swap(section_, other.section_);
        swap(lock_, other.lock_);
        swap(default_acquire_, other.default_acquire_);
        swap(changes_, other.changes_);
        async_.swap(other.async_);
    }
    friend void swap(basic_memory_mapped_file& a, basic_memory_mapped_file& b) noexcept { a.swap(b); }

private:
    using disposition = detail::open_mode;

    template <class Guard, class Attempt, class Done>
    async_operation start_lock(Attempt&& attempt, const acquire_mode& mode, Done&& done) const noexcept
    {
        detail::async_registry* registry = is_open() ? async_.get() : nullptr;
        if (registry == nullptr) {
            return detail::fail_async<Guard>(is_open() ? std::make_error_code(std::errc::not_enough_memory)
                                                       : make_error_code(errc::not_open),
                                             std::forward<Done>(done));
        }
        using op_type = detail::lock_op<Guard, std::decay_t<Attempt>, std::decay_t<Done>>;
        return detail::start_async(new (std::nothrow) op_type(std::forward<Attempt>(attempt), mode, std::forward<Done>(done)),
                                   *registry, mode.cancel(), [&](const std::error_code& ec) { done(ec, Guard{}); });
    }

    std::byte* data() const noexcept { return section_.base() + header_size; }

    static basic_memory_mapped_file establish(disposition how, const name_ref& requested, std::size_t size,
                                              const create_options& create_opts, const open_options& open_opts,
                                              std::error_code& ec) noexcept
    {
        basic_memory_mapped_file m;
        ec = m.attach(how, requested, size, create_opts, open_opts);
        return m;
    }

    std::error_code attach(disposition how, const name_ref& requested, std::size_t size,
                           const create_options& create_opts, const open_options& open_opts) noexcept
    {
        std::error_code ec;
        const object_name name = object_name::make(requested, ec);
        if (ec) {
            return ec;
        }
        if (create_opts.winmmf_name_check || open_opts.winmmf_name_check) {
            if ((ec = check_winmmf_name(name))) {
                return ec;
            }
        }
        detail::section_request request;
        request.mode = how;
        request.size = size;
        request.header_size = header_size;
        request.writable = open_opts.access == access_mode::read_write;
        request.expected_size = open_opts.expected_size;
        request.security_attributes = create_opts.security_attributes;
        request.create_large_pages = create_opts.large_pages;
        request.open_large_pages = open_opts.large_pages;
        detail::mapped_section section;
        if ((ec = detail::mapped_section::open(name, request, section))) {
            return ec;
        }
        const LockPolicy lock = section.created() ? LockPolicy::initialize(section.base(), ec)
                                                  : LockPolicy::attach(section.base(), ec);
        if (ec) {
            return ec; // `section` unmaps and closes; a new one disappears with it
        }
        if constexpr (requires(std::byte* header) { LockPolicy::creation_pending(header); }) {
            // Asked to wait for the creator: "exists" is not enough, it must have finished.
            if (how == disposition::open_only && open_opts.wait.how() != acquire_mode::kind::try_once &&
                LockPolicy::creation_pending(section.base())) {
                return make_error_code(errc::uninitialized);
            }
        }
        std::unique_ptr<notification> changes;
        if (create_opts.change_notification || open_opts.change_notification) {
            if ((ec = open_companion(name, section.created(), create_opts, changes))) {
                return ec; // the mapping goes with it: an object without what was asked for is none
            }
        }
        section_ = std::move(section);
        lock_ = lock;
        changes_ = std::move(changes);
        return {};
    }

    // The change notification, "<name>.notify": created with a mapping this call created (an
    // existing one under that name is refused, as for the mapping), opened with one it opened.
    static std::error_code open_companion(const object_name& mapping, bool created, const create_options& create_opts,
                                          std::unique_ptr<notification>& out) noexcept
    {
        std::error_code ec;
        const object_name name = notification::name_for(mapping, ec);
        if (ec) {
            return ec;
        }
        notification_options options;
        options.security_attributes = create_opts.security_attributes;
        notification n = created ? notification::create(custom(name.full()), options, ec)
                                 : notification::open(custom(name.full()), options, ec);
        if (ec) {
            return ec;
        }
        out.reset(new (std::nothrow) notification(std::move(n)));
        return out != nullptr ? std::error_code{} : make_error_code(std::errc::not_enough_memory);
    }

    static void signal_change(void* changes) noexcept
    {
        std::error_code ignored; // the write is done; a failed wake-up leaves waiters to their bound
        static_cast<notification*>(changes)->notify(ignored);
    }

    bool check_open(std::error_code& ec) const noexcept
    {
        if (is_open()) {
            return true;
        }
        ec = errc::not_open;
        return false;
    }
    bool check_writable(std::error_code& ec) const noexcept
    {
        if (writable()) {
            return true;
        }
        ec = errc::read_only;
        return false;
    }
    bool check_can_lock_shared(std::error_code& ec) const noexcept
    {
        if (writable() || !LockPolicy::readers_write_header) {
            return true;
        }
        ec = errc::read_only;
        return false;
    }
    bool check_bounds(std::size_t offset, std::size_t length, std::error_code& ec) const noexcept
    {
        if (protocol::in_bounds(offset, length, capacity())) {
            return true;
        }
        ec = errc::out_of_bounds;
        return false;
    }

    // The copy is done; report owner_dead from the acquisition, else any unlock failure.
    template <class Guard>
    static void finish_copy(Guard& guard, std::error_code& ec) noexcept
    {
        const std::error_code acquired_with = ec;
        guard.unlock(ec);
        if (acquired_with) {
            ec = acquired_with;
        }
    }

#if WINMMF_EXCEPTIONS
    void throw_if_failed(const std::error_code& ec, const char* what) const
    {
        // owner_dead is a report, not a failure: the lock is held (or the copy was made).
        if (ec && ec != errc::owner_dead) {
            detail::throw_named(ec, what, name());
        }
    }
#endif

    void close_quietly() noexcept
    {
        std::error_code ignored;
        close(ignored);
    }

    detail::mapped_section section_;
    LockPolicy lock_{};
    acquire_mode default_acquire_ = acquire_mode::wait_for(default_lock_timeout);
    // Heap-held: a write guard keeps its address across moves of this object.
    std::unique_ptr<notification> changes_;
    // The pending asynchronous lock calls, made at the first.
    mutable detail::lazy_async_registry async_;
};

using memory_mapped_file = basic_memory_mapped_file<compatible_lock>;
using read_guard = memory_mapped_file::read_guard;
using write_guard = memory_mapped_file::write_guard;

} // namespace winmmf
