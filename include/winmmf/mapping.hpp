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
#include <winmmf/detail/section.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>
#include <winmmf/guard.hpp>
#include <winmmf/mapping_options.hpp>
#include <winmmf/lock.hpp>
#include <winmmf/name.hpp>
#include <winmmf/protocol/page.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace winmmf {

template <lock_policy LockPolicy>
class basic_memory_mapped_file {
public:
    using lock_policy_type = LockPolicy;
    using read_guard = basic_read_guard<LockPolicy>;
    using write_guard = basic_write_guard<LockPolicy>;
    static constexpr std::size_t header_size = LockPolicy::header_size;

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
    static basic_memory_mapped_file create(const name_ref& name, std::size_t size,
                                           const create_options& options = {})
    {
        std::error_code ec;
        auto m = create(name, size, options, ec);
        throw_for("create", name, ec);
        return m;
    }
    static basic_memory_mapped_file create(const name_ref& name, std::size_t size,
                                           std::error_code& ec) noexcept
    {
        return create(name, size, create_options{}, ec);
    }
    static basic_memory_mapped_file create(const name_ref& name, std::size_t size,
                                           const create_options& options,
                                           std::error_code& ec) noexcept
    {
        basic_memory_mapped_file m;
        ec = m.establish(disposition::create_only, name, size, options, open_options{});
        return m;
    }

    // Opens an existing mapping; errc::not_found if there is none under that name.
    static basic_memory_mapped_file open(const name_ref& name, const open_options& options = {})
    {
        std::error_code ec;
        auto m = open(name, options, ec);
        throw_for("open", name, ec);
        return m;
    }
    static basic_memory_mapped_file open(const name_ref& name, std::error_code& ec) noexcept
    {
        return open(name, open_options{}, ec);
    }
    static basic_memory_mapped_file open(const name_ref& name, const open_options& options,
                                         std::error_code& ec) noexcept
    {
        basic_memory_mapped_file m;
        ec = m.establish(disposition::open_only, name, 0, create_options{}, options);
        return m;
    }

    // Opens the mapping if it exists, creates it otherwise; created() tells which. An existing
    // mapping smaller than `size` is refused with errc::too_large.
    static basic_memory_mapped_file open_or_create(const name_ref& name, std::size_t size,
                                                   const create_options& options = {})
    {
        std::error_code ec;
        auto m = open_or_create(name, size, options, ec);
        throw_for("open_or_create", name, ec);
        return m;
    }
    static basic_memory_mapped_file open_or_create(const name_ref& name, std::size_t size,
                                                   std::error_code& ec) noexcept
    {
        return open_or_create(name, size, create_options{}, ec);
    }
    static basic_memory_mapped_file open_or_create(const name_ref& name, std::size_t size,
                                                   const create_options& options,
                                                   std::error_code& ec) noexcept
    {
        basic_memory_mapped_file m;
        ec = m.establish(disposition::open_or_create, name, size, options, open_options{});
        return m;
    }

    // Unmaps the view and closes the section handle. Safe to call on a closed object.
    void close()
    {
        std::error_code ec;
        close(ec);
        detail::throw_if(ec, "winmmf: close");
    }
    void close(std::error_code& ec) noexcept
    {
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

    read_guard lock_read() const { return lock_read(default_acquire_); }
    read_guard lock_read(const acquire_mode& mode) const
    {
        std::error_code ec;
        read_guard guard = lock_read(mode, ec);
        throw_if_failed(ec, "lock_read");
        return guard;
    }
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
    read_guard try_lock_read() const { return lock_read(acquire_mode::try_once()); }
    read_guard try_lock_read(std::error_code& ec) const noexcept
    {
        return lock_read(acquire_mode::try_once(), ec);
    }

    write_guard lock_write() { return lock_write(default_acquire_); }
    write_guard lock_write(const acquire_mode& mode)
    {
        std::error_code ec;
        write_guard guard = lock_write(mode, ec);
        throw_if_failed(ec, "lock_write");
        return guard;
    }
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
        return write_guard(lock, std::span<std::byte>(data(), capacity()), ec == errc::owner_dead);
    }
    write_guard try_lock_write() { return lock_write(acquire_mode::try_once()); }
    write_guard try_lock_write(std::error_code& ec) noexcept
    {
        return lock_write(acquire_mode::try_once(), ec);
    }

    // ---- copying in and out --------------------------------------------------------------

    // Copies out.size() bytes starting at `offset` under a shared lock.
    void read(std::size_t offset, std::span<std::byte> out) const { read(offset, out, default_acquire_); }
    void read(std::size_t offset, std::span<std::byte> out, const acquire_mode& mode) const
    {
        std::error_code ec;
        read(offset, out, mode, ec);
        throw_if_failed(ec, "read");
    }
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
    void write(std::size_t offset, std::span<const std::byte> in) { write(offset, in, default_acquire_); }
    void write(std::size_t offset, std::span<const std::byte> in, const acquire_mode& mode)
    {
        std::error_code ec;
        write(offset, in, mode, ec);
        throw_if_failed(ec, "write");
    }
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

    // ---- stale locks (policies without owner identity) -------------------------------------

    // The documented reset for a compatible_lock whose holder is known to be dead: a process
    // killed while holding it, or a creator killed between WinMMF's "uninitialized" store and
    // its publish. It clears the word without asking anyone, so it breaks mutual exclusion if
    // the holder is in fact alive: call it only when you know (you killed the holder, or a
    // supervisor saw it exit). Returns the value it replaced. Refused on a read-only view
    // (errc::read_only); see docs/reliability.md. robust_lock needs no such call.
    template <class P = LockPolicy>
        requires requires(P& p, std::error_code& ec) { p.force_unlock(ec); }
    auto force_unlock_stale_lock()
    {
        std::error_code ec;
        const auto previous = force_unlock_stale_lock(ec);
        throw_if_failed(ec, "force_unlock_stale_lock");
        return previous;
    }
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
    }
    friend void swap(basic_memory_mapped_file& a, basic_memory_mapped_file& b) noexcept { a.swap(b); }

private:
    using disposition = detail::open_mode;

    std::byte* data() const noexcept { return section_.base() + header_size; }

    std::error_code establish(disposition how, const name_ref& requested, std::size_t size,
                              const create_options& create_opts, const open_options& open_opts) noexcept
    {
        std::error_code ec;
        const object_name name = object_name::make(requested, ec);
        if (ec) {
            return ec;
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
        section_ = std::move(section);
        lock_ = lock;
        return {};
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

    void throw_if_failed(const std::error_code& ec, const char* what) const
    {
        // owner_dead is a report, not a failure: the lock is held (or the copy was made).
        if (ec && ec != errc::owner_dead) {
            detail::throw_error(ec, std::string("winmmf: ") + what + " " +
                                        (is_open() ? name().to_utf8() : std::string("(not open)")) +
                                        detail::refusal_note(ec));
        }
    }

    static void throw_for(const char* what, const name_ref& requested, const std::error_code& ec)
    {
        if (!ec) {
            return;
        }
        std::error_code name_ec;
        const object_name name = object_name::make(requested, name_ec);
        // The usual cause of not_found is the wrong namespace; say so when the other one has it.
        const std::string hint =
            !name_ec && ec == errc::not_found ? detail::not_found_hint(name) : std::string();
        detail::throw_error(ec, std::string("winmmf: ") + what + " " +
                                    (name_ec ? std::string("(invalid name)") : name.to_utf8()) + hint);
    }

    void close_quietly() noexcept
    {
        std::error_code ignored;
        close(ignored);
    }

    detail::mapped_section section_;
    LockPolicy lock_{};
    acquire_mode default_acquire_ = acquire_mode::wait_for(default_lock_timeout);
};

using memory_mapped_file = basic_memory_mapped_file<compatible_lock>;
using read_guard = memory_mapped_file::read_guard;
using write_guard = memory_mapped_file::write_guard;

} // namespace winmmf
