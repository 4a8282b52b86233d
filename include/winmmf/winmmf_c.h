/* winmmf/winmmf_c.h - the C ABI of winmmf: named shared memory for C and for other languages'
 * foreign-function interfaces (C# P/Invoke, Python ctypes, Rust, Go, ...).
 *
 * Built from c/winmmf_c.cpp as winmmf_c.dll (CMake target winmmf::c) or as a static library
 * (winmmf::c_static; define WINMMF_C_STATIC before including this header when linking it
 * without CMake - the target defines it for you). Unlike the C++ headers this one is not
 * header-only: link one of the two libraries.
 * The mapping layout and the lock are the C++ library's default: a WinMMF-compatible 4-byte
 * lock word, then the data, so C, C++ and Rust (WinMMF) processes share one mapping.
 *
 * Conventions
 *  - Calling convention: __cdecl on every Windows target (WINMMF_CALL). On x64 there is only
 *    one convention; on 32-bit x86 say CallingConvention.Cdecl in P/Invoke.
 *  - Handles are opaque pointers (winmmf_mapping*). There is no global table: each handle is
 *    independent, and a handle may be used from several threads at once (see the lock calls).
 *  - Every fallible call returns an int status: WINMMF_OK (0) on success, otherwise
 *      -1 ... -999        a winmmf condition: the negated winmmf::errc value (WINMMF_E_*),
 *      -1000 ... -1999    a condition of this C layer (bad argument, out of memory, ...),
 *      > 0                a Win32 error, exactly as GetLastError() returned it
 *                         (5 = ERROR_ACCESS_DENIED, 87 = ERROR_INVALID_PARAMETER, ...).
 *    Test for failure with `!= WINMMF_OK`, not `< 0`. winmmf_error_message() describes any
 *    status. Out-parameters are written only on success, unless documented otherwise.
 *  - Names are NUL-terminated UTF-8: "Local\\frames", "Global\\cam0", "Session\\2\\x", or a
 *    bare "frames", which means "Local\\frames". Prefixes are matched without regard to case.
 *    Anything else containing a backslash is passed to the kernel unchanged.
 *  - Sizes, offsets and buffer lengths are explicit size_t byte counts. Timeouts are
 *    milliseconds: WINMMF_NO_WAIT tries once and reports why it failed (e.g.
 *    WINMMF_E_WRITE_LOCKED); WINMMF_WAIT_FOREVER never times out; anything else waits up to
 *    that long and then fails with WINMMF_E_TIMEOUT.
 *  - No C++ exception ever crosses this boundary.
 */
#ifndef WINMMF_WINMMF_C_H
#define WINMMF_WINMMF_C_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define WINMMF_CALL __cdecl
#else
#define WINMMF_CALL
#endif

#if defined(WINMMF_C_STATIC)
#define WINMMF_API
#elif defined(_WIN32)
#if defined(WINMMF_C_BUILDING_DLL)
#define WINMMF_API __declspec(dllexport)
#else
#define WINMMF_API __declspec(dllimport)
#endif
#else
#define WINMMF_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a function's signature or meaning changes; new functions do not bump it. */
#define WINMMF_C_ABI_VERSION 1

/* An open mapping: one section handle and one view of it. */
typedef struct winmmf_mapping winmmf_mapping;

/* Status codes. The winmmf range mirrors winmmf::errc (include/winmmf/error.hpp): values are
 * stable and never reused. */
enum winmmf_status {
    WINMMF_OK = 0,

    /* names */
    WINMMF_E_EMPTY_NAME = -1,
    WINMMF_E_NAME_CONTAINS_BACKSLASH = -2,
    WINMMF_E_NAME_CONTAINS_NUL = -3,
    WINMMF_E_NAME_TOO_LONG = -4,
    WINMMF_E_INVALID_UTF8 = -5,
    WINMMF_E_INVALID_UTF16 = -6,
    /* sizes and bounds */
    WINMMF_E_ZERO_SIZE = -7,
    WINMMF_E_SIZE_OVERFLOW = -8,
    WINMMF_E_TOO_LARGE = -9,
    WINMMF_E_OUT_OF_BOUNDS = -10,
    /* lifetime and access */
    WINMMF_E_ALREADY_EXISTS = -11,
    WINMMF_E_NOT_FOUND = -12,
    WINMMF_E_NOT_OPEN = -13,
    WINMMF_E_READ_ONLY = -14,
    /* the lock word */
    WINMMF_E_READ_LOCKED = -15,
    WINMMF_E_WRITE_LOCKED = -16,
    WINMMF_E_UNINITIALIZED = -17,
    WINMMF_E_MAX_READERS = -18,
    WINMMF_E_LOCK_VIOLATION = -19,
    WINMMF_E_CORRUPT_LOCK_WORD = -20,
    WINMMF_E_WRONG_LOCK_POLICY = -21,
    WINMMF_E_TIMEOUT = -22,
    WINMMF_E_MAX_TRIES_REACHED = -23,
    WINMMF_E_OWNER_DEAD = -24,
    WINMMF_E_CANCELLED = -25,
    /* platform specifics */
    WINMMF_E_LARGE_PAGE_PRIVILEGE_MISSING = -26,
    WINMMF_E_GLOBAL_PRIVILEGE_MISSING = -27,
    WINMMF_E_NOT_WINMMF_MAPPING = -28,
    /* frame channels and notifications (the C ABI does not offer these yet; listed so that
     * every winmmf status has its name) */
    WINMMF_E_WRONG_LAYOUT = -29,
    WINMMF_E_UNSUPPORTED_LAYOUT_VERSION = -30,
    WINMMF_E_INVALID_SLOT_COUNT = -31,
    WINMMF_E_CHANNEL_HAS_WRITER = -32,
    WINMMF_E_END_OF_STREAM = -33,
    WINMMF_E_WRITER_GONE = -34,
    WINMMF_E_BUFFER_TOO_SMALL = -35,
    WINMMF_E_FRAME_OVERWRITTEN = -36,
    WINMMF_E_TOO_MANY_WAITERS = -37,
    WINMMF_E_UNCOMMITTED_VIEW = -38,  /* a section reserved, not committed: not made by winmmf */
    WINMMF_E_FOREIGN_OWNER = -39,     /* another account created the object first: not taken over */
    WINMMF_E_GEOMETRY_MISMATCH = -40, /* a frame channel of another frame size or slot count */
    WINMMF_E_FRAME_ABANDONED = -41,   /* a frame slot abandoned by a later begin_frame */
    /* names a Rust WinMMF peer can share (the C++ check_winmmf_name) */
    WINMMF_E_WINMMF_NAME_TOO_LONG = -42,  /* more than 63 bytes, prefix included: WinMMF cuts it */
    WINMMF_E_WINMMF_NAME_NOT_ASCII = -43, /* WinMMF uses the ANSI API: only ASCII names meet */
    WINMMF_E_MISALIGNED = -44,            /* typed access at an offset misaligned for the type */
    WINMMF_E_NO_CHANGE_NOTIFICATION = -45, /* a mapping without its change notification */
    WINMMF_E_ABORTED = -46,           /* C++ asynchronous waits: the object closed while pending */
    WINMMF_E_OPERATION_PENDING = -47, /* C++ asynchronous waits: a reader's wait already pending */

    /* this C layer */
    WINMMF_E_INVALID_ARGUMENT = -1000, /* a required pointer was NULL, or flags are unknown */
    WINMMF_E_OUT_OF_MEMORY = -1001,
    WINMMF_E_UNEXPECTED = -1002 /* an internal failure that fits nowhere else; a bug */
};

/* Timeouts, in milliseconds. */
#define WINMMF_NO_WAIT 0u
#define WINMMF_WAIT_FOREVER 0xFFFFFFFFu

/* Flags for winmmf_open. */
#define WINMMF_OPEN_READ_ONLY 0x1u

/* ---- version ----------------------------------------------------------------------------- */

/* WINMMF_C_ABI_VERSION of the library actually loaded; compare with the header's. */
WINMMF_API int WINMMF_CALL winmmf_abi_version(void);
/* "0.1.0": the winmmf release the library was built from. Static storage; never free it. */
WINMMF_API const char* WINMMF_CALL winmmf_version_string(void);

/* ---- creating, opening, closing ----------------------------------------------------------- */

/* Creates a new mapping with at least `size` usable bytes (page rounding may give more: see
 * winmmf_capacity). Fails with WINMMF_E_ALREADY_EXISTS if the name is taken, whatever the
 * existing mapping's size. The mapping lives while any process has a handle to it. */
WINMMF_API int WINMMF_CALL winmmf_create(const char* name, size_t size, winmmf_mapping** out);

/* As winmmf_create, with a security descriptor: `security_attributes` is a
 * SECURITY_ATTRIBUTES* passed to CreateFileMappingW unchanged (NULL: the default). */
WINMMF_API int WINMMF_CALL winmmf_create_ex(const char* name, size_t size,
                                            void* security_attributes, winmmf_mapping** out);

/* As winmmf_create, with the security descriptor given as an SDDL string (UTF-8), e.g.
 * "D:P(A;;GA;;;SY)(A;;GRGW;;;AU)": SYSTEM full access, authenticated users read/write.
 * Malformed SDDL fails with ERROR_INVALID_PARAMETER (87) and creates nothing. */
WINMMF_API int WINMMF_CALL winmmf_create_sddl(const char* name, size_t size, const char* sddl,
                                              winmmf_mapping** out);

/* Opens an existing mapping; WINMMF_E_NOT_FOUND if there is none. `expected_size` is the
 * number of usable bytes the caller relies on (0: whatever is there); a mapping smaller than
 * that fails with WINMMF_E_TOO_LARGE. `flags`: 0 or WINMMF_OPEN_READ_ONLY. A read-only handle
 * cannot take locks (they write the lock word): use winmmf_unsynchronized_data. */
WINMMF_API int WINMMF_CALL winmmf_open(const char* name, size_t expected_size, uint32_t flags,
                                       winmmf_mapping** out);

/* Opens the mapping if it exists, creates it otherwise. `*created` (optional, may be NULL)
 * says which. An existing mapping smaller than `size` fails with WINMMF_E_TOO_LARGE. */
WINMMF_API int WINMMF_CALL winmmf_open_or_create(const char* name, size_t size,
                                                 winmmf_mapping** out, int* created);

/* Releases any lock this handle still holds, unmaps the view, closes the section handle and
 * frees the handle, which must not be used again. NULL is accepted. Returns a Win32 error
 * only if unmapping or closing failed; the handle is freed in every case. */
WINMMF_API int WINMMF_CALL winmmf_close(winmmf_mapping* mapping);

/* ---- what it is ----------------------------------------------------------------------------- */

/* The usable size asked for (or, when opened with expected_size 0, the whole capacity). */
WINMMF_API size_t WINMMF_CALL winmmf_size(const winmmf_mapping* mapping);
/* The usable bytes page rounding provides; reads, writes and locked pointers may use them all. */
WINMMF_API size_t WINMMF_CALL winmmf_capacity(const winmmf_mapping* mapping);
/* 1 if this handle created the mapping, 0 if it opened an existing one (or mapping is NULL). */
WINMMF_API int WINMMF_CALL winmmf_created(const winmmf_mapping* mapping);
/* 1 for a handle opened with WINMMF_OPEN_READ_ONLY. */
WINMMF_API int WINMMF_CALL winmmf_read_only(const winmmf_mapping* mapping);
/* The full kernel name, UTF-8 ("Local\\frames"), like snprintf: writes at most buffer_size
 * bytes including the terminating NUL, and returns the length the full name needs (without the
 * NUL). Call with (NULL, 0) to measure. */
WINMMF_API size_t WINMMF_CALL winmmf_name(const winmmf_mapping* mapping, char* buffer,
                                          size_t buffer_size);
/* The section HANDLE, for Win32 calls such as DuplicateHandle or GetSecurityInfo. Owned by
 * the mapping: do not close it. */
WINMMF_API void* WINMMF_CALL winmmf_native_handle(const winmmf_mapping* mapping);

/* ---- copying in and out --------------------------------------------------------------------- */

/* Copies `length` bytes at `offset` into `buffer` under the shared (read) lock. Nothing is
 * copied when the range reaches past the capacity (WINMMF_E_OUT_OF_BOUNDS). */
WINMMF_API int WINMMF_CALL winmmf_read(winmmf_mapping* mapping, size_t offset, void* buffer,
                                       size_t length, uint32_t timeout_ms);
/* Copies `length` bytes from `data` to `offset` under the exclusive (write) lock. Nothing is
 * written when the range reaches past the capacity. Do not call it while this thread holds a
 * lock on the same mapping: the locks are not reentrant, so it would wait until it times out. */
WINMMF_API int WINMMF_CALL winmmf_write(winmmf_mapping* mapping, size_t offset, const void* data,
                                        size_t length, uint32_t timeout_ms);

/* ---- locks and zero-copy access --------------------------------------------------------------- */

/* Takes the shared lock. On success `*data` points at the first usable byte and `*length` is
 * the capacity; both stay valid until the matching winmmf_unlock. Many readers, in any
 * processes, may hold it at once. `data` and `length` may be NULL. */
WINMMF_API int WINMMF_CALL winmmf_lock_read(winmmf_mapping* mapping, uint32_t timeout_ms,
                                            const void** data, size_t* length);
/* Takes the exclusive lock: no other reader or writer, in any process, until winmmf_unlock. */
WINMMF_API int WINMMF_CALL winmmf_lock_write(winmmf_mapping* mapping, uint32_t timeout_ms,
                                             void** data, size_t* length);
/* Releases one lock taken through this handle: the write lock if it holds it, else one of its
 * read locks. WINMMF_E_LOCK_VIOLATION if it holds none. Like pthread_rwlock_unlock, it does
 * not know which thread took the lock; pairing lock and unlock is the caller's job. A process
 * that exits while holding a lock leaves it held (the WinMMF protocol has no owner): see
 * winmmf_force_unlock. */
WINMMF_API int WINMMF_CALL winmmf_unlock(winmmf_mapping* mapping);

/* The data without any lock: for read-only handles and diagnostics. Another process may be
 * writing while you read. */
WINMMF_API int WINMMF_CALL winmmf_unsynchronized_data(const winmmf_mapping* mapping,
                                                      const void** data, size_t* length);

/* The raw 32-bit lock word: 0 free, 1..0x00FFFFFF readers, 0x80000000 a writer,
 * 0xFF000000 uninitialized. */
WINMMF_API int WINMMF_CALL winmmf_lock_word(const winmmf_mapping* mapping, uint32_t* value);

/* Clears the lock word whatever it holds, for a lock whose holder is known to be dead. If the
 * holder is in fact alive, mutual exclusion is broken: this is a recovery tool, not an unlock.
 * `*previous` (optional) receives the value replaced. */
WINMMF_API int WINMMF_CALL winmmf_force_unlock(winmmf_mapping* mapping, uint32_t* previous);

/* ---- errors ----------------------------------------------------------------------------------- */

/* A one-line English description of any status this library returns (Win32 errors included),
 * UTF-8, like snprintf: writes at most buffer_size bytes including the NUL, returns the length
 * of the whole message. Never fails; unknown codes get a generic message. */
WINMMF_API size_t WINMMF_CALL winmmf_error_message(int status, char* buffer, size_t buffer_size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WINMMF_WINMMF_C_H */
