# Cross-compile for 64-bit Windows with mingw-w64 and run the results under Wine.
#
# Uses the *-posix compilers: the plain x86_64-w64-mingw32-g++ is the win32-thread variant,
# which has no std::thread.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(WINMMF_MINGW_TRIPLET x86_64-w64-mingw32)
set(CMAKE_C_COMPILER   ${WINMMF_MINGW_TRIPLET}-gcc-posix)
set(CMAKE_CXX_COMPILER ${WINMMF_MINGW_TRIPLET}-g++-posix)
set(CMAKE_RC_COMPILER  ${WINMMF_MINGW_TRIPLET}-windres)

# Append, never overwrite: vcpkg chainloads this file and adds its own root.
list(APPEND CMAKE_FIND_ROOT_PATH /usr/${WINMMF_MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest and catch_discover_tests run every .exe through this; the wrapper gives each build
# tree its own Wine prefix and quiet logging.
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/../wine-run.sh")
