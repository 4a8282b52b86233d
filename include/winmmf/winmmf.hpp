// winmmf/winmmf.hpp - everything: named shared memory for Windows, with a lock that is
// byte-compatible with the Rust crate WinMMF.
//
//   error.hpp      error codes (winmmf category) and exceptions
//   name.hpp       Local\ / Global\ / Session\<n>\ / custom names, validated, never truncated
//   page.hpp       page rounding and the mapping layout, overflow-checked
//   lock_word.hpp  the WinMMF lock word state machine (platform-independent)
//   acquire.hpp    try_once / wait_for / spin: how long a lock call may wait
//   lock.hpp       the lock_policy concept; compatible_lock and no_lock
//   guard.hpp      read and write guards: zero-copy spans while a lock is held
//   mapping.hpp    basic_memory_mapped_file and memory_mapped_file
//   win32_errors.hpp  what a Win32 failure means (Global\ privilege, large pages), pure rules
//   sddl.hpp       the security presets as SDDL (platform-independent)
//   security.hpp   security_descriptor: SDDL and presets for every kernel object we create
//   privilege.hpp  SeCreateGlobalPrivilege / SeLockMemoryPrivilege queries
//   session.hpp    current_session_id(), for Session\<n>\ names
//   robust_word.hpp  the robust lock's header and state machines (platform-independent)
//   robust_lock.hpp  robust_lock: survives holders that die; robust_memory_mapped_file
//   frame_protocol.hpp  the frame channel's layout and sequence lock (platform-independent)
//   notify.hpp     notification: sleep until a sequence in shared memory moves; cancel_token
//   frame_channel.hpp  frame_writer / frame_reader: one writer, many readers, never a torn frame
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/error.hpp>
#include <winmmf/guard.hpp>
#include <winmmf/lock.hpp>
#include <winmmf/lock_word.hpp>
#include <winmmf/name.hpp>
#include <winmmf/page.hpp>
#include <winmmf/robust_word.hpp>
#include <winmmf/sddl.hpp>
#include <winmmf/frame_protocol.hpp>
#include <winmmf/win32_errors.hpp>

#if defined(_WIN32)
#include <winmmf/mapping.hpp>
#include <winmmf/privilege.hpp>
#include <winmmf/robust_lock.hpp>
#include <winmmf/security.hpp>
#include <winmmf/session.hpp>
#include <winmmf/notify.hpp>
#include <winmmf/frame_channel.hpp>
#endif
