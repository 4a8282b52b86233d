// winmmf/privilege_state.hpp - whether a privilege is held, and in effect.
//
// Platform-independent (privilege.hpp queries it on Windows; the error rules reason about it).
#pragma once

#include <cstdint>

namespace winmmf {

// Whether a privilege is in a token, and whether it is switched on. The kernel only honours
// an enabled privilege.
enum class privilege_state : std::uint8_t {
    unknown,  // the token could not be read
    absent,   // the account does not hold it
    disabled, // held, but switched off (AdjustTokenPrivileges can switch it on)
    enabled,  // held and in effect
};

} // namespace winmmf
