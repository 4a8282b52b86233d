// winmmf/winmmf.hpp - the whole user API: named shared memory for Windows, with a lock that is
// byte-compatible with the Rust crate WinMMF. docs/reference/api.md lists every name it brings in.
//
//   error.hpp             error codes (winmmf category) and exceptions
//   name.hpp              Local\ / Global\ / Session\<n>\ / custom names; parse_name
//   acquire.hpp           try_once / wait_for / spin (+ with_cancel): how long a call may wait
//   cancel_token.hpp      cancel_token: ends a wait from another thread
//   large_pages.hpp       large_page_mode
//   privilege_state.hpp   privilege_state
//   sddl.hpp              the security presets as SDDL
//   lock.hpp              the lock_policy concept; compatible_lock and no_lock
//   robust_lock.hpp       robust_lock: survives holders that die; robust_lock_state
//   guard.hpp             read and write guards: zero-copy spans while a lock is held
//   mapping_options.hpp   access_mode, create_options, open_options
//   mapping.hpp           basic_memory_mapped_file, memory_mapped_file, robust_memory_mapped_file
//   notification.hpp      notification: sleep until a sequence in shared memory moves
//   frame_types.hpp       pixel_format, frame_meta, frame_info, writer_status, frame_size
//   frame_options.hpp     writer_options, reader_options
//   frame_clock.hpp       frame_clock
//   frame_writer.hpp      frame_writer, writable_frame
//   frame_reader.hpp      frame_reader, frame_view
//   frame_channel.hpp     both
//   security.hpp          security_descriptor: SDDL and presets for every kernel object we create
//   privilege.hpp         SeCreateGlobalPrivilege / SeLockMemoryPrivilege queries
//   session.hpp           current_session_id(), for Session\<n>\ names
//   inspect.hpp           inspect(name): what a mapping holds, for monitoring
//   directory.hpp         list_named_objects(scope): the named objects of a namespace (ipcs)
//   async.hpp             async_operation: the handle of an asynchronous wait (thread-pool
//                         callbacks and co_await; the async_* members of each object)
//
// Not in the umbrella: asio.hpp, the Asio completion-token forms, which need Asio (standalone
// or Boost) included first; see docs/async.md.
// Not part of the API: winmmf/protocol/ (the platform-independent protocols, namespace
// winmmf::protocol, unstable) and winmmf/detail/ (the Win32 shells).
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/error.hpp>
#include <winmmf/frame_types.hpp>
#include <winmmf/guard.hpp>
#include <winmmf/large_pages.hpp>
#include <winmmf/lock.hpp>
#include <winmmf/name.hpp>
#include <winmmf/privilege_state.hpp>
#include <winmmf/sddl.hpp>

#if defined(_WIN32)
#include <winmmf/async.hpp>
#include <winmmf/cancel_token.hpp>
#include <winmmf/directory.hpp>
#include <winmmf/frame_channel.hpp>
#include <winmmf/frame_clock.hpp>
#include <winmmf/frame_options.hpp>
#include <winmmf/frame_reader.hpp>
#include <winmmf/frame_writer.hpp>
#include <winmmf/inspect.hpp>
#include <winmmf/mapping.hpp>
#include <winmmf/mapping_options.hpp>
#include <winmmf/notification.hpp>
#include <winmmf/privilege.hpp>
#include <winmmf/robust_lock.hpp>
#include <winmmf/security.hpp>
#include <winmmf/session.hpp>
#endif
