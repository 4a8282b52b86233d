# Catch2 v3 for the tests.
#
# An installed package wins (vcpkg on Windows: `vcpkg install catch2`; a distro's catch2 3.x).
# Otherwise WINMMF_CATCH2_SOURCE names a Catch2 v3 source tree or release tarball - on Debian,
# scripts/deps.sh fetches trixie's source package - and we build its amalgamated single file,
# which is several times faster than the full library. Forwarding headers keep the
# <catch2/...> include paths identical in both cases.
find_package(Catch2 3 QUIET CONFIG)
if(Catch2_FOUND)
    message(STATUS "winmmf tests: using installed Catch2 ${Catch2_VERSION}")
else()
    set(WINMMF_CATCH2_SOURCE "" CACHE PATH
        "Catch2 v3 source directory or .tar.gz, used when find_package(Catch2 3) fails")
    if(NOT WINMMF_CATCH2_SOURCE)
        message(FATAL_ERROR
            "winmmf tests need Catch2 v3. Install it (vcpkg install catch2) or set "
            "WINMMF_CATCH2_SOURCE to a Catch2 v3 source tree or tarball; scripts/deps.sh fetches one "
            "on Debian. To configure without tests: -DWINMMF_BUILD_TESTS=OFF")
    endif()
    set(catch2_root "${WINMMF_CATCH2_SOURCE}")
    if(NOT IS_DIRECTORY "${catch2_root}")
        set(catch2_unpacked "${CMAKE_BINARY_DIR}/_deps/catch2-src")
        if(NOT EXISTS "${catch2_unpacked}/.unpacked")
            file(REMOVE_RECURSE "${catch2_unpacked}")
            file(ARCHIVE_EXTRACT INPUT "${catch2_root}" DESTINATION "${catch2_unpacked}")
            file(TOUCH "${catch2_unpacked}/.unpacked")
        endif()
        file(GLOB catch2_root LIST_DIRECTORIES true "${catch2_unpacked}/Catch2-*")
    endif()
    if(NOT EXISTS "${catch2_root}/extras/catch_amalgamated.cpp")
        message(FATAL_ERROR "WINMMF_CATCH2_SOURCE=${WINMMF_CATCH2_SOURCE} is not a Catch2 v3 source tree")
    endif()
    message(STATUS "winmmf tests: building Catch2 from ${catch2_root}")

    set(forward_dir "${CMAKE_BINARY_DIR}/_deps/catch2-include")
    file(GLOB_RECURSE catch2_headers RELATIVE "${catch2_root}/src" "${catch2_root}/src/catch2/*.hpp")
    foreach(header IN LISTS catch2_headers)
        file(CONFIGURE OUTPUT "${forward_dir}/${header}"
            CONTENT "#include \"${catch2_root}/extras/catch_amalgamated.hpp\"\n")
    endforeach()

    add_library(winmmf_catch2 STATIC "${catch2_root}/extras/catch_amalgamated.cpp")
    target_include_directories(winmmf_catch2 SYSTEM PUBLIC "${forward_dir}" "${catch2_root}/extras")
    target_compile_features(winmmf_catch2 PUBLIC cxx_std_20)
    add_library(Catch2::Catch2WithMain ALIAS winmmf_catch2)
    list(APPEND CMAKE_MODULE_PATH "${catch2_root}/extras")
endif()
include(Catch)
