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
#pragma once

#include <winmmf/acquire.hpp>
#include <winmmf/error.hpp>
#include <winmmf/guard.hpp>
#include <winmmf/lock.hpp>
#include <winmmf/lock_word.hpp>
#include <winmmf/name.hpp>
#include <winmmf/page.hpp>

#if defined(_WIN32)
#include <winmmf/mapping.hpp>
#endif
