// What winmmf does to <windows.h> in a user's translation unit, compiled by the header_only
// consumer test once per case (-DWINDOWS_H_CASE=n):
//   1  winmmf first, as is: <windows.h> is included lean, and WIN32_LEAN_AND_MEAN is not left
//      defined; a later <winsock2.h> works (winsock.h was not dragged in)
//   2  WINMMF_NO_WIN32_LEAN_AND_MEAN: winmmf includes the full <windows.h>
//   3  the user's own full <windows.h> first, without NOMINMAX: winmmf still compiles
#if WINDOWS_H_CASE == 1
#include <winmmf/winmmf.hpp>
#include <winsock2.h>
#if defined(WIN32_LEAN_AND_MEAN)
#error "winmmf left WIN32_LEAN_AND_MEAN defined"
#endif
#if defined(_WINSOCKAPI_) && !defined(_WINSOCK2API_)
#error "winmmf's <windows.h> included winsock.h"
#endif
#elif WINDOWS_H_CASE == 2
#define WINMMF_NO_WIN32_LEAN_AND_MEAN
#include <winmmf/winmmf.hpp>
#include <windows.h>
#if defined(WIN32_LEAN_AND_MEAN)
#error "WIN32_LEAN_AND_MEAN defined despite WINMMF_NO_WIN32_LEAN_AND_MEAN"
#endif
// Declared by <shellapi.h>, which only the full <windows.h> includes.
static_assert(sizeof(&::ShellExecuteW) == sizeof(void (*)()));
#elif WINDOWS_H_CASE == 3
#include <windows.h>
#include <winmmf/winmmf.hpp>
static_assert(sizeof(&::ShellExecuteW) == sizeof(void (*)()));
#else
#error "define WINDOWS_H_CASE to 1, 2 or 3"
#endif

int main()
{
    return winmmf::local("windows-h").scope() == winmmf::name_scope::local ? 0 : 1;
}
