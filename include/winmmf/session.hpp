// winmmf/session.hpp - terminal-services sessions, for Session\<n>\ names.
//
// Every logged-on user gets a session (1, 2, ... on current Windows; services run in session 0),
// and each session has its own Local\ namespace. session(n, "x") names session n's Local\x
// from anywhere: a service in session 0 can reach a user's Local\x without the user's program
// moving it to Global\, as long as the object's DACL lets the service in (a service must not
// create objects in a user's session namespace that the user then trusts, though: prefer
// letting the user's program create, and the service open).
#pragma once

#include <winmmf/detail/token.hpp>
#include <winmmf/detail/win32.hpp>
#include <winmmf/error.hpp>

#include <cstdint>
#include <system_error>

namespace winmmf {

// The session this process runs in: session(current_session_id(), "x") is the same object as
// local("x").
inline std::uint32_t current_session_id(std::error_code& ec) noexcept
{
    return detail::process_session_id(ec);
}
#if WINMMF_EXCEPTIONS
inline std::uint32_t current_session_id()
{
    std::error_code ec;
    const std::uint32_t id = current_session_id(ec);
    detail::throw_if(ec, "winmmf: current_session_id");
    return id;
}
#endif

} // namespace winmmf
