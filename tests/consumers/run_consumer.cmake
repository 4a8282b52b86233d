# Builds and runs tests/consumers/consumer.cpp the way one kind of user takes winmmf in, with the
# compiler and toolchain of the enclosing build. Registered as CTest tests by
# tests/consumers/CMakeLists.txt; run by hand as
#
#   cmake -DWINMMF_MODE=<mode> -DWINMMF_SOURCE_DIR=<checkout> -DWORK_DIR=<scratch dir>
#         [-DCONSUMER_TOOLCHAIN=<file>] [-DCONSUMER_EMULATOR=<wine wrapper>] ... -P run_consumer.cmake
#
# Modes:
#   header_only       the compiler with one include path and nothing else; every public header
#                     must also compile on its own, winmmf_c.h as C11, and winmmf with the
#                     user's <windows.h> choices (windows_h.cpp)
#   find_package      install winmmf with its C ABI into a scratch prefix (cmake --install),
#                     check that the prefix holds headers, the C libraries, the CMake package and
#                     the license only, then build a separate project that does
#                     find_package(winmmf CONFIG REQUIRED COMPONENTS c c_static) and runs a C++
#                     program and two C programs (winmmf::c, winmmf::c_static); then the same
#                     project against the build tree's export, without installing
#   add_subdirectory  a project that add_subdirectory()s the checkout
#   fetchcontent      a project that FetchContent_Declare(winmmf SOURCE_DIR <checkout>)s it
#   vcpkg_port        ports/winmmf/portfile.cmake executed with stand-ins for the vcpkg helpers
#                     it calls (vcpkg itself cannot be installed here), vcpkg's post-build checks
#                     that apply to a header-only port (no winmmf_c.h without its library), then
#                     a find_package consumer of the result
#
# Every program runs through CONSUMER_EMULATOR when there is one (Wine on Linux), with its output
# sent to files: a Wine helper process can hold a pipe open for ever.
cmake_minimum_required(VERSION 3.21)

foreach(required IN ITEMS WINMMF_MODE WINMMF_SOURCE_DIR WORK_DIR)
    if(NOT DEFINED ${required} OR "${${required}}" STREQUAL "")
        message(FATAL_ERROR "run_consumer.cmake: -D${required}=... is required")
    endif()
endforeach()
foreach(optional IN ITEMS CONSUMER_TOOLCHAIN CONSUMER_GENERATOR CONSUMER_MAKE_PROGRAM CONSUMER_CXX
                          CONSUMER_CXX_ID CONSUMER_BUILD_TYPE CONSUMER_EMULATOR CONSUMER_EXE_LINKER_FLAGS
                          OUTER_BINARY_DIR HOST_CATCH2_SOURCE)
    if(NOT DEFINED ${optional})
        set(${optional} "")
    endif()
endforeach()
if(NOT CONSUMER_BUILD_TYPE)
    set(CONSUMER_BUILD_TYPE Release)
endif()
set(consumers_dir "${CMAKE_CURRENT_LIST_DIR}")
# Wine: the enclosing build's prefix, warmed up by whoever runs the tests, never a new one per
# scratch build (the emulator wrapper would otherwise make one beside each CMakeCache.txt).
if(CONSUMER_EMULATOR AND NOT DEFINED ENV{WINEPREFIX} AND OUTER_BINARY_DIR)
    set(ENV{WINEPREFIX} "${OUTER_BINARY_DIR}/wineprefix")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(WRITE "${WORK_DIR}/empty-input" "")
set_property(GLOBAL PROPERTY consumer_step 0)

# run(<label> <command...>): runs a command with its output in log files; stops with the logs on
# failure.
function(run label)
    get_property(n GLOBAL PROPERTY consumer_step)
    math(EXPR n "${n} + 1")
    set_property(GLOBAL PROPERTY consumer_step ${n})
    set(log "${WORK_DIR}/${n}-${label}")
    execute_process(COMMAND ${ARGN}
        INPUT_FILE "${WORK_DIR}/empty-input"
        OUTPUT_FILE "${log}.out" ERROR_FILE "${log}.err"
        RESULT_VARIABLE status)
    file(READ "${log}.out" out)
    file(READ "${log}.err" err)
    set(last_output "${out}" PARENT_SCOPE)
    set_property(GLOBAL PROPERTY last_error "${err}")
    if(NOT status EQUAL 0)
        list(JOIN ARGN " " shown)
        message(FATAL_ERROR "${label} failed (${status}): ${shown}\n--- stdout\n${out}\n--- stderr\n${err}")
    endif()
    message(STATUS "ok: ${label}")
endfunction()

# The common configure arguments of a scratch CMake project.
set(configure_args -G "${CONSUMER_GENERATOR}" "-DCMAKE_BUILD_TYPE=${CONSUMER_BUILD_TYPE}")
if(CONSUMER_MAKE_PROGRAM)
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${CONSUMER_MAKE_PROGRAM}")
endif()
if(CONSUMER_TOOLCHAIN)
    list(APPEND configure_args "-DCMAKE_TOOLCHAIN_FILE=${CONSUMER_TOOLCHAIN}")
elseif(CONSUMER_CXX)
    list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CONSUMER_CXX}")
endif()
if(CONSUMER_EXE_LINKER_FLAGS)
    list(APPEND configure_args "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_EXE_LINKER_FLAGS}")
endif()

# Runs a program and fails unless its output contains `expected` (literally).
function(run_program label exe expected)
    if(CONSUMER_EMULATOR)
        run("${label}" "${CONSUMER_EMULATOR}" "${exe}")
    else()
        run("${label}" "${exe}")
    endif()
    string(FIND "${last_output}" "${expected}" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "${label}: expected \"${expected}\" in the output:\n${last_output}")
    endif()
    message(STATUS "${label}: ${last_output}")
endfunction()

# Runs the program `name` built in `build`/bin (or a configuration folder below it).
function(run_built label build name expected)
    file(GLOB_RECURSE exe "${build}/bin/${name}.exe" "${build}/bin/*/${name}.exe" "${build}/bin/${name}")
    if(NOT exe)
        message(FATAL_ERROR "${label}: no ${name} program was built in ${build}/bin")
    endif()
    list(GET exe 0 exe)
    run_program("${label}" "${exe}" "${expected}")
endfunction()

# Configures, builds and runs the consumer project in `source` with extra configure arguments.
# With CONSUMER_WITH_C=ON among them, also runs the C consumers (find_package/CMakeLists.txt).
function(build_and_run label source expected)
    set(build "${WORK_DIR}/${label}-build")
    run("${label}-configure" "${CMAKE_COMMAND}" -S "${source}" -B "${build}" ${configure_args}
        "-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${build}/bin" ${ARGN})
    run("${label}-build" "${CMAKE_COMMAND}" --build "${build}" --config "${CONSUMER_BUILD_TYPE}")
    run_built("${label}-run" "${build}" consumer "consumer: consumed via ${expected}")
    if("-DCONSUMER_WITH_C=ON" IN_LIST ARGN)
        foreach(library IN ITEMS c c_static)
            run_built("${label}-run-${library}" "${build}" ${library}_consumer
                "c consumer: consumed via ${expected} and winmmf::${library}")
        endforeach()
    endif()
endfunction()

# Configures, builds and installs winmmf with the options a package build uses into `prefix`.
# `extra` are further configure arguments (the vcpkg stand-ins pass the portfile's options).
function(install_winmmf build prefix)
    run("winmmf-configure" "${CMAKE_COMMAND}" -S "${WINMMF_SOURCE_DIR}" -B "${build}" ${configure_args}
        "-DCMAKE_INSTALL_PREFIX=${prefix}" ${ARGN})
    set(configure_output "${last_output}" PARENT_SCOPE)
    run("winmmf-build" "${CMAKE_COMMAND}" --build "${build}" --config "${CONSUMER_BUILD_TYPE}")
    run("winmmf-install" "${CMAKE_COMMAND}" --install "${build}" --config "${CONSUMER_BUILD_TYPE}")
endfunction()

# Fails unless the files under `root` are exactly `expected` (paths relative to root).
function(check_tree root)
    set(expected ${ARGN})
    file(GLOB_RECURSE actual LIST_DIRECTORIES false RELATIVE "${root}" "${root}/*")
    list(SORT actual)
    list(SORT expected)
    set(missing ${expected})
    list(REMOVE_ITEM missing ${actual})
    set(unexpected ${actual})
    list(REMOVE_ITEM unexpected ${expected})
    if(missing OR unexpected)
        list(JOIN missing "\n  " missing)
        list(JOIN unexpected "\n  " unexpected)
        message(FATAL_ERROR "${root} does not hold what it should.\nmissing:\n  ${missing}\nunexpected:\n  ${unexpected}")
    endif()
    list(LENGTH actual n)
    message(STATUS "ok: ${root} holds exactly the ${n} files expected")
endfunction()

# The headers of the checkout, as an installed tree names them.
file(GLOB_RECURSE public_headers LIST_DIRECTORIES false RELATIVE "${WINMMF_SOURCE_DIR}"
    "${WINMMF_SOURCE_DIR}/include/winmmf/*")

# Fails if a file under `root` (matching `pattern`) names a directory it must not depend on: an
# absolute path baked into a package that is supposed to be relocatable.
function(check_no_paths root pattern)
    file(GLOB_RECURSE files LIST_DIRECTORIES false "${root}/${pattern}")
    foreach(file IN LISTS files)
        file(READ "${file}" text)
        foreach(forbidden IN LISTS ARGN)
            string(FIND "${text}" "${forbidden}" at)
            if(NOT at EQUAL -1)
                message(FATAL_ERROR "${file} contains the absolute path ${forbidden}")
            endif()
        endforeach()
    endforeach()
    message(STATUS "ok: the files under ${root} hold no absolute build or install paths")
endfunction()
function(check_relocatable root)
    check_no_paths("${root}" "*.cmake" ${ARGN})
endfunction()

if(WINMMF_MODE STREQUAL "header_only")
    if(NOT CONSUMER_CXX)
        message(FATAL_ERROR "header_only needs -DCONSUMER_CXX=<compiler>")
    endif()
    set(include_dir "${WINMMF_SOURCE_DIR}/include")
    set(exe "${WORK_DIR}/consumer.exe")
    if(CONSUMER_CXX_ID STREQUAL "MSVC")
        run("compile" "${CONSUMER_CXX}" /nologo /std:c++20 /EHsc /W4 /WX /permissive- /utf-8
            "/I${include_dir}" "${consumers_dir}/consumer.cpp" "/Fe:${exe}" "/Fo:${WORK_DIR}/")
    else()
        separate_arguments(link_flags NATIVE_COMMAND "${CONSUMER_EXE_LINKER_FLAGS}")
        run("compile" "${CONSUMER_CXX}" -std=c++20 -Wall -Wextra -Wpedantic -Werror
            "-I${include_dir}" "${consumers_dir}/consumer.cpp" -o "${exe}" ${link_flags})
        # A consumer may include any public header alone, and winmmf_c.h from C.
        foreach(header IN LISTS public_headers)
            string(REGEX REPLACE "^include/" "" header "${header}")
            if(header MATCHES "^winmmf/detail/")
                continue()
            endif()
            # asio.hpp needs Asio first (tests/asio builds it against both Asios).
            if(header STREQUAL "winmmf/asio.hpp")
                continue()
            endif()
            string(MAKE_C_IDENTIFIER "${header}" tu)
            if(header MATCHES "\\.h$")
                file(WRITE "${WORK_DIR}/${tu}.c" "#include <${header}>\nint main(void) { return 0; }\n")
                run("alone-${tu}" "${CONSUMER_CXX}" -x c -std=c11 -Wall -Wextra -Wpedantic -Werror
                    -fsyntax-only "-I${include_dir}" "${WORK_DIR}/${tu}.c")
            else()
                file(WRITE "${WORK_DIR}/${tu}.cpp" "#include <${header}>\n#include <${header}>\nint main() {}\n")
                run("alone-${tu}" "${CONSUMER_CXX}" -std=c++20 -Wall -Wextra -Wpedantic -Werror
                    -fsyntax-only "-I${include_dir}" "${WORK_DIR}/${tu}.cpp")
            endif()
        endforeach()
        # The user's <windows.h>: winmmf's lean one by default, the full one on request
        # (WINMMF_NO_WIN32_LEAN_AND_MEAN) or when the user included it first.
        foreach(case IN ITEMS 1 2 3)
            run("windows-h-${case}" "${CONSUMER_CXX}" -std=c++20 -Wall -Wextra -Wpedantic -Werror
                -fsyntax-only "-I${include_dir}" -DWINDOWS_H_CASE=${case} "${consumers_dir}/windows_h.cpp")
        endforeach()
    endif()
    run_program("run" "${exe}" "consumer: consumed via one include path")

elseif(WINMMF_MODE STREQUAL "find_package")
    set(prefix "${WORK_DIR}/prefix")
    set(winmmf_build "${WORK_DIR}/winmmf-build")
    install_winmmf("${winmmf_build}" "${prefix}"
        -DWINMMF_BUILD_TESTS=OFF -DWINMMF_BUILD_EXAMPLES=OFF -DWINMMF_BUILD_TOOLS=OFF
        -DWINMMF_BUILD_BENCHMARKS=OFF -DWINMMF_BUILD_C_API=ON)
    # The C ABI: winmmf_c.dll, its import library and the static library, as each toolchain
    # names them, and one configuration's targets file beside the package's.
    string(TOLOWER "${CONSUMER_BUILD_TYPE}" config)
    if(CONSUMER_CXX_ID STREQUAL "MSVC")
        set(c_libraries lib/winmmf_c.lib lib/winmmf_c_static.lib)
    else()
        set(c_libraries lib/libwinmmf_c.dll.a lib/libwinmmf_c_static.a)
    endif()
    check_tree("${prefix}" ${public_headers}
        bin/winmmf_c.dll ${c_libraries}
        share/winmmf/winmmfConfig.cmake share/winmmf/winmmfConfigVersion.cmake
        share/winmmf/winmmfTargets.cmake share/winmmf/winmmfTargets-${config}.cmake
        share/doc/winmmf/LICENSE)
    check_relocatable("${prefix}" "${prefix}" "${WORK_DIR}" "${WINMMF_SOURCE_DIR}")
    # Cross-compiling toolchains only search below CMAKE_FIND_ROOT_PATH (ours appends the mingw
    # sysroot to it): the prefix is a root of its own there, as vcpkg's installed tree is.
    set(find_args "-DCMAKE_PREFIX_PATH=${prefix}")
    if(CONSUMER_TOOLCHAIN)
        list(APPEND find_args "-DCMAKE_FIND_ROOT_PATH=${prefix}")
    endif()
    build_and_run("consumer" "${consumers_dir}/find_package" "find_package" ${find_args}
        -DCONSUMER_WITH_C=ON)
    # The build tree as a package (export()): the same project, nothing installed, winmmf_DIR
    # naming the build directory. Its targets point into the build and source trees.
    foreach(file IN ITEMS winmmfConfig.cmake winmmfConfigVersion.cmake winmmfTargets.cmake)
        if(NOT EXISTS "${winmmf_build}/${file}")
            message(FATAL_ERROR "the build tree does not export the package: no ${file} in ${winmmf_build}")
        endif()
    endforeach()
    build_and_run("build-tree-consumer" "${consumers_dir}/find_package" "the build tree"
        "-Dwinmmf_DIR=${winmmf_build}" "-DWINMMF_CONSUMER_HOW=the build tree" -DCONSUMER_WITH_C=ON)

elseif(WINMMF_MODE STREQUAL "add_subdirectory" OR WINMMF_MODE STREQUAL "fetchcontent")
    build_and_run("consumer" "${consumers_dir}/subproject" "${WINMMF_MODE}"
        "-DWINMMF_SOURCE_DIR=${WINMMF_SOURCE_DIR}" "-DWINMMF_CONSUMER_MODE=${WINMMF_MODE}")

elseif(WINMMF_MODE STREQUAL "vcpkg_port")
    include("${consumers_dir}/vcpkg_stand_ins.cmake")

else()
    message(FATAL_ERROR "unknown WINMMF_MODE '${WINMMF_MODE}'")
endif()
message(STATUS "consumption path '${WINMMF_MODE}' works")
