// c/winmmf_c.cpp - the C ABI (include/winmmf/winmmf_c.h) over the header-only C++ library.
//
// One translation unit, built twice by c/CMakeLists.txt: as winmmf_c.dll (exports marked with
// WINMMF_API) and as a static library. Every entry point is noexcept in effect: each body runs
// inside `guarded`, which turns any C++ exception into a status, so none crosses into C.
// Compiled without either macro (straight into a program, or by a checker), the functions are
// plain definitions: the static library's case.
#if !defined(WINMMF_C_BUILDING_DLL) && !defined(WINMMF_C_STATIC)
#define WINMMF_C_STATIC
#endif
#include <winmmf/winmmf_c.h>

#include <winmmf/mapping.hpp>
#include <winmmf/security.hpp>


#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#if !defined(WINMMF_VERSION_STRING)
#define WINMMF_VERSION_STRING "unknown"
#endif

// The handle. The lock word is shared between processes and has no owner, so the handle keeps
// count of the locks taken through it: winmmf_unlock needs to know which kind to release, and
// winmmf_close releases what a caller forgot instead of leaving the mapping locked for everyone.
struct winmmf_mapping {
    winmmf::memory_mapped_file file;
    std::atomic<std::uint32_t> shared_held{0};
    std::atomic<bool> exclusive_held{false};
};

namespace {

using winmmf::errc;

// The C enumerators are the negated errc values; these fail to compile if either side moves.
#define WINMMF_C_SAME(c, e) static_assert((c) == -static_cast<int>(errc::e), #c " != -errc::" #e)
WINMMF_C_SAME(WINMMF_E_EMPTY_NAME, empty_name);
WINMMF_C_SAME(WINMMF_E_NAME_CONTAINS_BACKSLASH, name_contains_backslash);
WINMMF_C_SAME(WINMMF_E_NAME_CONTAINS_NUL, name_contains_nul);
WINMMF_C_SAME(WINMMF_E_NAME_TOO_LONG, name_too_long);
WINMMF_C_SAME(WINMMF_E_INVALID_UTF8, invalid_utf8);
WINMMF_C_SAME(WINMMF_E_INVALID_UTF16, invalid_utf16);
WINMMF_C_SAME(WINMMF_E_ZERO_SIZE, zero_size);
WINMMF_C_SAME(WINMMF_E_SIZE_OVERFLOW, size_overflow);
WINMMF_C_SAME(WINMMF_E_TOO_LARGE, too_large);
WINMMF_C_SAME(WINMMF_E_OUT_OF_BOUNDS, out_of_bounds);
WINMMF_C_SAME(WINMMF_E_ALREADY_EXISTS, already_exists);
WINMMF_C_SAME(WINMMF_E_NOT_FOUND, not_found);
WINMMF_C_SAME(WINMMF_E_NOT_OPEN, not_open);
WINMMF_C_SAME(WINMMF_E_READ_ONLY, read_only);
WINMMF_C_SAME(WINMMF_E_READ_LOCKED, read_locked);
WINMMF_C_SAME(WINMMF_E_WRITE_LOCKED, write_locked);
WINMMF_C_SAME(WINMMF_E_UNINITIALIZED, uninitialized);
WINMMF_C_SAME(WINMMF_E_MAX_READERS, max_readers);
WINMMF_C_SAME(WINMMF_E_LOCK_VIOLATION, lock_violation);
WINMMF_C_SAME(WINMMF_E_CORRUPT_LOCK_WORD, corrupt_lock_word);
WINMMF_C_SAME(WINMMF_E_WRONG_LOCK_POLICY, wrong_lock_policy);
WINMMF_C_SAME(WINMMF_E_TIMEOUT, timeout);
WINMMF_C_SAME(WINMMF_E_MAX_TRIES_REACHED, max_tries_reached);
WINMMF_C_SAME(WINMMF_E_OWNER_DEAD, owner_dead);
WINMMF_C_SAME(WINMMF_E_CANCELLED, cancelled);
WINMMF_C_SAME(WINMMF_E_LARGE_PAGE_PRIVILEGE_MISSING, large_page_privilege_missing);
WINMMF_C_SAME(WINMMF_E_GLOBAL_PRIVILEGE_MISSING, global_privilege_missing);
WINMMF_C_SAME(WINMMF_E_NOT_WINMMF_MAPPING, not_winmmf_mapping);
WINMMF_C_SAME(WINMMF_E_WRONG_LAYOUT, wrong_layout);
WINMMF_C_SAME(WINMMF_E_UNSUPPORTED_LAYOUT_VERSION, unsupported_layout_version);
WINMMF_C_SAME(WINMMF_E_INVALID_SLOT_COUNT, invalid_slot_count);
WINMMF_C_SAME(WINMMF_E_CHANNEL_HAS_WRITER, channel_has_writer);
WINMMF_C_SAME(WINMMF_E_END_OF_STREAM, end_of_stream);
WINMMF_C_SAME(WINMMF_E_WRITER_GONE, writer_gone);
WINMMF_C_SAME(WINMMF_E_BUFFER_TOO_SMALL, buffer_too_small);
WINMMF_C_SAME(WINMMF_E_FRAME_OVERWRITTEN, frame_overwritten);
WINMMF_C_SAME(WINMMF_E_TOO_MANY_WAITERS, too_many_waiters);
WINMMF_C_SAME(WINMMF_E_UNCOMMITTED_VIEW, uncommitted_view);
WINMMF_C_SAME(WINMMF_E_FOREIGN_OWNER, foreign_owner);
WINMMF_C_SAME(WINMMF_E_GEOMETRY_MISMATCH, geometry_mismatch);
WINMMF_C_SAME(WINMMF_E_FRAME_ABANDONED, frame_abandoned);
WINMMF_C_SAME(WINMMF_E_WINMMF_NAME_TOO_LONG, winmmf_name_too_long);
WINMMF_C_SAME(WINMMF_E_WINMMF_NAME_NOT_ASCII, winmmf_name_not_ascii);
WINMMF_C_SAME(WINMMF_E_MISALIGNED, misaligned);
WINMMF_C_SAME(WINMMF_E_NO_CHANGE_NOTIFICATION, no_change_notification);
WINMMF_C_SAME(WINMMF_E_ABORTED, aborted);
WINMMF_C_SAME(WINMMF_E_OPERATION_PENDING, operation_pending);
#undef WINMMF_C_SAME

// The last errc the header knows. A value appended to errc later maps to a negative status the
// header does not name yet, which winmmf_error_message still describes.
constexpr int last_named_errc = static_cast<int>(errc::operation_pending);
constexpr int winmmf_range_end = -999; // -1 ... -999: winmmf::errc

int status_of(const std::error_code& ec) noexcept
{
    if (!ec) {
        return WINMMF_OK;
    }
    if (ec.category() == winmmf::winmmf_category() && ec.value() > 0 && -ec.value() >= winmmf_range_end) {
        return -ec.value();
    }
    if (ec.category() == std::system_category() && ec.value() > 0) {
        return ec.value();
    }
    return WINMMF_E_UNEXPECTED;
}

// Runs `body`, which returns a status; a C++ exception becomes a status instead of crossing
// into C (where it would be undefined behaviour).
template <class Body>
int guarded(Body&& body) noexcept
{
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return WINMMF_E_OUT_OF_MEMORY;
    } catch (...) {
        return WINMMF_E_UNEXPECTED;
    }
}

winmmf::acquire_mode mode_for(std::uint32_t timeout_ms) noexcept
{
    if (timeout_ms == WINMMF_NO_WAIT) {
        return winmmf::acquire_mode::try_once();
    }
    if (timeout_ms == WINMMF_WAIT_FOREVER) {
        // Bounded backoff (spin, yield, sleep) for ever, rather than spin_forever's busy loop.
        return winmmf::acquire_mode::wait_for(std::chrono::hours::max());
    }
    return winmmf::acquire_mode::wait_for(std::chrono::milliseconds(timeout_ms));
}

enum class disposition { create, open, open_or_create };

int establish(disposition how, const char* name, std::size_t size, SECURITY_ATTRIBUTES* security,
              std::uint32_t flags, winmmf_mapping** out, int* created) noexcept
{
    return guarded([&] {
        if (name == nullptr || out == nullptr || (flags & ~WINMMF_OPEN_READ_ONLY) != 0) {
            return static_cast<int>(WINMMF_E_INVALID_ARGUMENT);
        }
        // Allocated first, so that running out of memory never creates and then drops a
        // mapping another process might already have seen.
        std::unique_ptr<winmmf_mapping> handle(new (std::nothrow) winmmf_mapping);
        if (!handle) {
            return static_cast<int>(WINMMF_E_OUT_OF_MEMORY);
        }
        const winmmf::name_ref ref = winmmf::parse_name(std::string_view(name)).ref;
        std::error_code ec;
        switch (how) {
        case disposition::create:
            handle->file = winmmf::memory_mapped_file::create(
                ref, size, winmmf::create_options{.security_attributes = security}, ec);
            break;
        case disposition::open: {
            winmmf::open_options options;
            options.expected_size = size;
            options.access = (flags & WINMMF_OPEN_READ_ONLY) != 0 ? winmmf::access_mode::read_only
                                                                  : winmmf::access_mode::read_write;
            handle->file = winmmf::memory_mapped_file::open(ref, options, ec);
            break;
        }
        case disposition::open_or_create:
            handle->file = winmmf::memory_mapped_file::open_or_create(ref, size, ec);
            break;
        }
        if (ec) {
            return status_of(ec);
        }
        if (created != nullptr) {
            *created = handle->file.created() ? 1 : 0;
        }
        *out = handle.release();
        return static_cast<int>(WINMMF_OK);
    });
}

// Snprintf-style copy: at most `size` bytes including the NUL; returns the full length.
std::size_t copy_out(std::string_view text, char* buffer, std::size_t size) noexcept
{
    if (buffer != nullptr && size != 0) {
        const std::size_t n = text.size() < size - 1 ? text.size() : size - 1;
        std::memcpy(buffer, text.data(), n);
        buffer[n] = '\0';
    }
    return text.size();
}

int check_usable(const winmmf_mapping* m) noexcept
{
    if (m == nullptr) {
        return WINMMF_E_INVALID_ARGUMENT;
    }
    return m->file.is_open() ? WINMMF_OK : static_cast<int>(WINMMF_E_NOT_OPEN);
}

int check_writable(const winmmf_mapping* m) noexcept
{
    const int status = check_usable(m);
    if (status == WINMMF_OK && !m->file.writable()) {
        return WINMMF_E_READ_ONLY;
    }
    return status;
}

// Releases one lock held through `m`; the exclusive one first (a handle cannot hold both, as
// the lock excludes readers while a writer holds it).
int release_one(winmmf_mapping* m) noexcept
{
    std::error_code ec;
    winmmf::compatible_lock lock = m->file.lock_policy();
    if (m->exclusive_held.exchange(false, std::memory_order_acq_rel)) {
        lock.unlock(ec);
        return status_of(ec);
    }
    std::uint32_t held = m->shared_held.load(std::memory_order_acquire);
    do {
        if (held == 0) {
            return WINMMF_E_LOCK_VIOLATION;
        }
    } while (!m->shared_held.compare_exchange_weak(held, held - 1, std::memory_order_acq_rel,
                                                   std::memory_order_acquire));
    lock.unlock_shared(ec);
    return status_of(ec);
}

// A read or a write of `length` bytes at `bytes`: the mapping and the buffer checked first.
template <class Byte, class Copy>
int transfer(winmmf_mapping* mapping, Byte* bytes, std::size_t length, Copy copy) noexcept
{
    if (const int status = check_usable(mapping); status != WINMMF_OK) {
        return status;
    }
    if (bytes == nullptr && length != 0) {
        return WINMMF_E_INVALID_ARGUMENT;
    }
    std::error_code ec;
    copy(std::span<Byte>(bytes, length), ec);
    return status_of(ec);
}

} // namespace

extern "C" {

WINMMF_API int WINMMF_CALL winmmf_abi_version(void) { return WINMMF_C_ABI_VERSION; }

WINMMF_API const char* WINMMF_CALL winmmf_version_string(void) { return WINMMF_VERSION_STRING; }

WINMMF_API int WINMMF_CALL winmmf_create(const char* name, size_t size, winmmf_mapping** out)
{
    return establish(disposition::create, name, size, nullptr, 0, out, nullptr);
}

WINMMF_API int WINMMF_CALL winmmf_create_ex(const char* name, size_t size,
                                            void* security_attributes, winmmf_mapping** out)
{
    return establish(disposition::create, name, size,
                     static_cast<SECURITY_ATTRIBUTES*>(security_attributes), 0, out, nullptr);
}

WINMMF_API int WINMMF_CALL winmmf_create_sddl(const char* name, size_t size, const char* sddl,
                                              winmmf_mapping** out)
{
    return guarded([&] {
        if (sddl == nullptr) {
            return static_cast<int>(WINMMF_E_INVALID_ARGUMENT);
        }
        std::error_code ec;
        winmmf::security_descriptor security = winmmf::security_descriptor::from_sddl(std::string_view(sddl), ec);
        if (ec) {
            return status_of(ec);
        }
        return establish(disposition::create, name, size, security.attributes(), 0, out, nullptr);
    });
}

WINMMF_API int WINMMF_CALL winmmf_open(const char* name, size_t expected_size, uint32_t flags,
                                       winmmf_mapping** out)
{
    return establish(disposition::open, name, expected_size, nullptr, flags, out, nullptr);
}

WINMMF_API int WINMMF_CALL winmmf_open_or_create(const char* name, size_t size,
                                                 winmmf_mapping** out, int* created)
{
    return establish(disposition::open_or_create, name, size, nullptr, 0, out, created);
}

WINMMF_API int WINMMF_CALL winmmf_close(winmmf_mapping* mapping)
{
    if (mapping == nullptr) {
        return WINMMF_OK;
    }
    std::unique_ptr<winmmf_mapping> owned(mapping);
    if (owned->file.is_open() && owned->file.writable()) {
        while (release_one(owned.get()) == WINMMF_OK) {
        }
    }
    std::error_code ec;
    owned->file.close(ec);
    return status_of(ec);
}

WINMMF_API size_t WINMMF_CALL winmmf_size(const winmmf_mapping* mapping)
{
    return mapping != nullptr ? mapping->file.size() : 0;
}

WINMMF_API size_t WINMMF_CALL winmmf_capacity(const winmmf_mapping* mapping)
{
    return mapping != nullptr ? mapping->file.capacity() : 0;
}

WINMMF_API int WINMMF_CALL winmmf_created(const winmmf_mapping* mapping)
{
    return mapping != nullptr && mapping->file.created() ? 1 : 0;
}

WINMMF_API int WINMMF_CALL winmmf_read_only(const winmmf_mapping* mapping)
{
    return mapping != nullptr && mapping->file.is_open() && !mapping->file.writable() ? 1 : 0;
}

WINMMF_API size_t WINMMF_CALL winmmf_name(const winmmf_mapping* mapping, char* buffer,
                                          size_t buffer_size)
{
    if (mapping == nullptr) {
        return copy_out({}, buffer, buffer_size);
    }
    try {
        return copy_out(mapping->file.name().to_utf8(), buffer, buffer_size);
    } catch (...) {
        return copy_out({}, buffer, buffer_size);
    }
}

WINMMF_API void* WINMMF_CALL winmmf_native_handle(const winmmf_mapping* mapping)
{
    return mapping != nullptr ? mapping->file.native_handle() : nullptr;
}

WINMMF_API int WINMMF_CALL winmmf_read(winmmf_mapping* mapping, size_t offset, void* buffer,
                                       size_t length, uint32_t timeout_ms)
{
    return transfer(mapping, static_cast<std::byte*>(buffer), length, [&](std::span<std::byte> bytes, std::error_code& ec) {
        mapping->file.read(offset, bytes, mode_for(timeout_ms), ec);
    });
}

WINMMF_API int WINMMF_CALL winmmf_write(winmmf_mapping* mapping, size_t offset, const void* data,
                                        size_t length, uint32_t timeout_ms)
{
    return transfer(mapping, static_cast<const std::byte*>(data), length,
                    [&](std::span<const std::byte> bytes, std::error_code& ec) {
                        mapping->file.write(offset, bytes, mode_for(timeout_ms), ec);
                    });
}

WINMMF_API int WINMMF_CALL winmmf_lock_read(winmmf_mapping* mapping, uint32_t timeout_ms,
                                            const void** data, size_t* length)
{
    if (const int status = check_usable(mapping); status != WINMMF_OK) {
        return status;
    }
    if (!mapping->file.writable()) {
        return WINMMF_E_READ_ONLY; // taking the lock writes the lock word
    }
    std::error_code ec;
    winmmf::compatible_lock lock = mapping->file.lock_policy();
    if (!lock.lock_shared(mode_for(timeout_ms), ec)) {
        return status_of(ec);
    }
    mapping->shared_held.fetch_add(1, std::memory_order_acq_rel);
    const std::span<const std::byte> bytes = mapping->file.unsynchronized_bytes();
    if (data != nullptr) {
        *data = bytes.data();
    }
    if (length != nullptr) {
        *length = bytes.size();
    }
    return WINMMF_OK;
}

WINMMF_API int WINMMF_CALL winmmf_lock_write(winmmf_mapping* mapping, uint32_t timeout_ms,
                                             void** data, size_t* length)
{
    if (const int status = check_writable(mapping); status != WINMMF_OK) {
        return status;
    }
    std::error_code ec;
    winmmf::compatible_lock lock = mapping->file.lock_policy();
    if (!lock.lock(mode_for(timeout_ms), ec)) {
        return status_of(ec);
    }
    mapping->exclusive_held.store(true, std::memory_order_release);
    const std::span<const std::byte> bytes = mapping->file.unsynchronized_bytes();
    if (data != nullptr) {
        // The view is mapped read/write (checked above); the library hands out a const span only
        // because unsynchronized_bytes() is also offered to read-only views.
        *data = const_cast<std::byte*>(bytes.data());
    }
    if (length != nullptr) {
        *length = bytes.size();
    }
    return WINMMF_OK;
}

WINMMF_API int WINMMF_CALL winmmf_unlock(winmmf_mapping* mapping)
{
    if (const int status = check_usable(mapping); status != WINMMF_OK) {
        return status;
    }
    return release_one(mapping);
}

WINMMF_API int WINMMF_CALL winmmf_unsynchronized_data(const winmmf_mapping* mapping,
                                                      const void** data, size_t* length)
{
    if (const int status = check_usable(mapping); status != WINMMF_OK) {
        return status;
    }
    if (data == nullptr || length == nullptr) {
        return WINMMF_E_INVALID_ARGUMENT;
    }
    const std::span<const std::byte> bytes = mapping->file.unsynchronized_bytes();
    *data = bytes.data();
    *length = bytes.size();
    return WINMMF_OK;
}

WINMMF_API int WINMMF_CALL winmmf_lock_word(const winmmf_mapping* mapping, uint32_t* value)
{
    if (const int status = check_usable(mapping); status != WINMMF_OK) {
        return status;
    }
    if (value == nullptr) {
        return WINMMF_E_INVALID_ARGUMENT;
    }
    *value = mapping->file.lock_policy().value();
    return WINMMF_OK;
}

WINMMF_API int WINMMF_CALL winmmf_force_unlock(winmmf_mapping* mapping, uint32_t* previous)
{
    if (const int status = check_writable(mapping); status != WINMMF_OK) {
        return status;
    }
    std::error_code ec;
    winmmf::compatible_lock lock = mapping->file.lock_policy();
    const std::uint32_t replaced = lock.force_unlock(ec);
    if (ec) {
        return status_of(ec);
    }
    // Nothing is held by anyone any more, including through this handle.
    mapping->shared_held.store(0, std::memory_order_release);
    mapping->exclusive_held.store(false, std::memory_order_release);
    if (previous != nullptr) {
        *previous = replaced;
    }
    return WINMMF_OK;
}

WINMMF_API size_t WINMMF_CALL winmmf_error_message(int status, char* buffer, size_t buffer_size)
{
    try {
        std::string text;
        if (status == WINMMF_OK) {
            text = "success";
        } else if (status < 0 && status >= winmmf_range_end) {
            text = winmmf::winmmf_category().message(-status);
            if (-status > last_named_errc && text == "unknown winmmf error") {
                text += ' ';
                text += std::to_string(status);
            }
        } else if (status == WINMMF_E_INVALID_ARGUMENT) {
            text = "invalid argument: a required pointer is NULL or the flags are unknown";
        } else if (status == WINMMF_E_OUT_OF_MEMORY) {
            text = "out of memory";
        } else if (status == WINMMF_E_UNEXPECTED) {
            text = "unexpected internal error in winmmf (please report it)";
        } else if (status > 0) {
            text = std::system_category().message(status);
            while (!text.empty() && (text.back() == '\n' || text.back() == '\r' ||
                                     text.back() == ' ' || text.back() == '.')) {
                text.pop_back();
            }
            text += " (Win32 error ";
            text += std::to_string(status);
            text += ')';
        } else {
            text = "unknown winmmf status ";
            text += std::to_string(status);
        }
        return copy_out(text, buffer, buffer_size);
    } catch (...) {
        return copy_out("out of memory", buffer, buffer_size);
    }
}

} // extern "C"
