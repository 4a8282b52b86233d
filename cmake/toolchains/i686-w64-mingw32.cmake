# Cross-compile for 32-bit Windows with mingw-w64. 32-bit Wine is not installable on the
# Debian build machine, so these builds are compiled and linked but not run.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86)

set(WINMMF_MINGW_TRIPLET i686-w64-mingw32)
set(CMAKE_C_COMPILER   ${WINMMF_MINGW_TRIPLET}-gcc-posix)
set(CMAKE_CXX_COMPILER ${WINMMF_MINGW_TRIPLET}-g++-posix)
set(CMAKE_RC_COMPILER  ${WINMMF_MINGW_TRIPLET}-windres)

list(APPEND CMAKE_FIND_ROOT_PATH /usr/${WINMMF_MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
