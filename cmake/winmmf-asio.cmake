# winmmf::asio: the headers plus Asio, for <winmmf/asio.hpp> (the Asio completion-token forms of
# the asynchronous waits). Optional: the core needs no Asio, and without one found the target is
# simply not defined (tests and examples that need it are skipped with a message).
#
# Where Asio comes from, in order:
#   WINMMF_ASIO_INCLUDE   a directory holding asio.hpp (standalone Asio);
#   find_package(asio)    vcpkg's asio port (target asio::asio);
#   /usr/include/asio.hpp cross-compiling on Debian (libasio-dev): used through a directory that
#                         holds nothing but links to it, never /usr/include itself (glibc's
#                         headers would shadow mingw's).
# Boost.Asio needs nothing here: include <boost/asio.hpp> before <winmmf/asio.hpp>.
set(WINMMF_ASIO_INCLUDE "" CACHE PATH "A directory holding standalone Asio's asio.hpp (empty: search)")

if(NOT TARGET winmmf_asio)
    set(winmmf_asio_dir "${WINMMF_ASIO_INCLUDE}")
    set(winmmf_asio_target "")
    if(NOT winmmf_asio_dir)
        find_package(asio CONFIG QUIET)
        if(TARGET asio::asio)
            set(winmmf_asio_target asio::asio)
        elseif(CMAKE_CROSSCOMPILING AND EXISTS /usr/include/asio.hpp)
            set(winmmf_asio_dir "${PROJECT_BINARY_DIR}/asio-include")
            if(NOT EXISTS "${winmmf_asio_dir}/asio.hpp")
                file(MAKE_DIRECTORY "${winmmf_asio_dir}")
                file(CREATE_LINK /usr/include/asio "${winmmf_asio_dir}/asio" SYMBOLIC)
                file(CREATE_LINK /usr/include/asio.hpp "${winmmf_asio_dir}/asio.hpp" SYMBOLIC)
            endif()
        endif()
    endif()
    if(winmmf_asio_dir OR winmmf_asio_target)
        add_library(winmmf_asio INTERFACE)
        add_library(winmmf::asio ALIAS winmmf_asio)
        target_link_libraries(winmmf_asio INTERFACE winmmf::winmmf $<$<PLATFORM_ID:Windows>:ws2_32 mswsock>)
        # Asio wants to be told which Windows it targets; winmmf needs Windows 7's thread pool.
        target_compile_definitions(winmmf_asio INTERFACE $<$<PLATFORM_ID:Windows>:_WIN32_WINNT=0x0A00> ASIO_STANDALONE)
        if(winmmf_asio_dir)
            target_include_directories(winmmf_asio SYSTEM INTERFACE "${winmmf_asio_dir}")
        else()
            target_link_libraries(winmmf_asio INTERFACE ${winmmf_asio_target})
        endif()
        message(STATUS "winmmf: Asio found (${winmmf_asio_dir}${winmmf_asio_target}): winmmf::asio")
    else()
        message(STATUS "winmmf: no standalone Asio found; winmmf::asio is not defined")
    endif()
endif()

# Boost.Asio's headers for the tests' second Asio build (Debian's libboost-dev, 1.74), the
# same way: a directory holding only a link to /usr/include/boost.
set(WINMMF_BOOST_ASIO_INCLUDE "" CACHE PATH "A directory holding boost/asio.hpp (empty: search)")
set(winmmf_boost_asio_dir "${WINMMF_BOOST_ASIO_INCLUDE}")
if(NOT winmmf_boost_asio_dir AND CMAKE_CROSSCOMPILING AND EXISTS /usr/include/boost/asio.hpp
   AND (WINMMF_BUILD_TESTS OR WINMMF_BUILD_BENCHMARKS))
    set(winmmf_boost_asio_dir "${PROJECT_BINARY_DIR}/boost-asio-include")
    if(NOT EXISTS "${winmmf_boost_asio_dir}/boost")
        file(MAKE_DIRECTORY "${winmmf_boost_asio_dir}")
        file(CREATE_LINK /usr/include/boost "${winmmf_boost_asio_dir}/boost" SYMBOLIC)
    endif()
endif()
