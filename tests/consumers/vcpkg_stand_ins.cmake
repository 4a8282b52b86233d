# Included by run_consumer.cmake in vcpkg_port mode.
#
# vcpkg cannot be installed on the machine these tests were written on (no GitHub access), so
# this runs ports/winmmf/portfile.cmake with stand-ins for the helpers it calls. Each stand-in
# does what the real helper does for a release-only, header-only CMake port, and is stricter
# where the real one would quietly repair a mistake (absolute paths in the CMake package). Then
# come vcpkg's post-build checks that apply to such a port, and a consumer that finds the
# result with find_package. What this cannot show is that a real vcpkg accepts the port: that
# is to be checked with `vcpkg install winmmf --overlay-ports=ports` on a machine that has it.

set(port_dir "${WINMMF_SOURCE_DIR}/ports/winmmf")
set(PORT winmmf)
set(FEATURES core)
set(VCPKG_TARGET_ARCHITECTURE x64)
set(VCPKG_TARGET_IS_WINDOWS ON)
if(CONSUMER_CXX_ID STREQUAL "MSVC")
    set(TARGET_TRIPLET x64-windows)
    set(VCPKG_LIBRARY_LINKAGE dynamic)
else()
    set(TARGET_TRIPLET x64-mingw-static)
    set(VCPKG_TARGET_IS_MINGW ON)
    set(VCPKG_LIBRARY_LINKAGE static)
endif()
set(CURRENT_PACKAGES_DIR "${WORK_DIR}/packages/${PORT}_${TARGET_TRIPLET}")
set(CURRENT_BUILDTREES_DIR "${WORK_DIR}/buildtrees/${PORT}")
message(STATUS "vcpkg stand-ins: ${PORT} for ${TARGET_TRIPLET} into ${CURRENT_PACKAGES_DIR}")

# ---- the manifest ------------------------------------------------------------------------------
file(READ "${port_dir}/vcpkg.json" manifest)
string(JSON manifest_name GET "${manifest}" name)
string(JSON manifest_version GET "${manifest}" version)
string(JSON manifest_license GET "${manifest}" license)
file(STRINGS "${WINMMF_SOURCE_DIR}/CMakeLists.txt" project_version REGEX "^[ \t]*VERSION [0-9]+\\.[0-9]+\\.[0-9]+")
string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" project_version "${project_version}")
if(NOT manifest_name STREQUAL PORT)
    message(FATAL_ERROR "vcpkg.json: name is '${manifest_name}', expected '${PORT}'")
endif()
if(NOT manifest_version STREQUAL project_version)
    message(FATAL_ERROR "vcpkg.json: version ${manifest_version} differs from the project's ${project_version}")
endif()
if(NOT manifest_license STREQUAL "MIT")
    message(FATAL_ERROR "vcpkg.json: license '${manifest_license}', but LICENSE is MIT")
endif()
string(JSON dependency_count LENGTH "${manifest}" dependencies)
set(host_dependencies "")
math(EXPR last "${dependency_count} - 1")
foreach(i RANGE ${last})
    string(JSON dependency_name GET "${manifest}" dependencies ${i} name)
    string(JSON dependency_host ERROR_VARIABLE no_host GET "${manifest}" dependencies ${i} host)
    if(dependency_host)
        list(APPEND host_dependencies ${dependency_name})
    endif()
endforeach()
foreach(helper IN ITEMS vcpkg-cmake vcpkg-cmake-config)
    if(NOT helper IN_LIST host_dependencies)
        message(FATAL_ERROR "vcpkg.json: the portfile calls ${helper}'s functions, so it must be a host dependency")
    endif()
endforeach()
message(STATUS "ok: vcpkg.json (${manifest_name} ${manifest_version}, ${manifest_license}, host: ${host_dependencies})")

# ---- the helpers the portfile calls ----------------------------------------------------------------

# vcpkg-cmake: configures the release build in the buildtree with vcpkg's standard options.
function(vcpkg_cmake_configure)
    cmake_parse_arguments(PARSE_ARGV 0 arg "DISABLE_PARALLEL_CONFIGURE;NO_CHARSET_FLAG;WINDOWS_USE_MSBUILD"
        "SOURCE_PATH;GENERATOR;LOGFILE_BASE" "OPTIONS;OPTIONS_RELEASE;OPTIONS_DEBUG;MAYBE_UNUSED_VARIABLES")
    if(arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "vcpkg_cmake_configure was passed extra arguments: ${arg_UNPARSED_ARGUMENTS}")
    endif()
    if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
        message(FATAL_ERROR "a header-only port builds one configuration: set(VCPKG_BUILD_TYPE release)")
    endif()
    if(NOT IS_DIRECTORY "${arg_SOURCE_PATH}" OR NOT EXISTS "${arg_SOURCE_PATH}/CMakeLists.txt")
        message(FATAL_ERROR "vcpkg_cmake_configure: SOURCE_PATH '${arg_SOURCE_PATH}' is not a CMake project")
    endif()
    set(build "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel")
    set_property(GLOBAL PROPERTY vcpkg_build_dir "${build}")
    if(VCPKG_LIBRARY_LINKAGE STREQUAL "dynamic")
        set(shared ON)
    else()
        set(shared OFF)
    endif()
    # A host with Catch2 installed, as a real vcpkg machine often is: a part of the project that
    # the portfile forgot to switch off then builds (and the check after the install sees it).
    set(host_packages "")
    if(HOST_CATCH2_SOURCE)
        set(host_packages "-DWINMMF_CATCH2_SOURCE=${HOST_CATCH2_SOURCE}")
    endif()
    # What vcpkg passes besides the port's options; the source tree must not be written to.
    run("vcpkg_cmake_configure" "${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${build}" ${configure_args}
        "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}" -DCMAKE_INSTALL_BINDIR=bin -DCMAKE_INSTALL_LIBDIR=lib
        "-DBUILD_SHARED_LIBS=${shared}" -DCMAKE_DISABLE_SOURCE_CHANGES=ON
        -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
        -DFETCHCONTENT_FULLY_DISCONNECTED=ON ${host_packages}
        ${arg_OPTIONS} ${arg_OPTIONS_RELEASE})
    # vcpkg lists the port's -D options the project never read; here that is an error, since it
    # means an option name in the portfile is misspelt and its setting silently lost.
    get_property(err GLOBAL PROPERTY last_error)
    string(FIND "${err}" "not used by the project:" unused_at)
    if(NOT unused_at EQUAL -1)
        string(SUBSTRING "${err}" ${unused_at} -1 unused)
        foreach(option IN LISTS arg_OPTIONS arg_OPTIONS_RELEASE)
            if(option MATCHES "^-D([A-Za-z0-9_]+)")
                string(FIND "${unused}" "\n    ${CMAKE_MATCH_1}\n" found)
                if(NOT found EQUAL -1 AND NOT CMAKE_MATCH_1 IN_LIST arg_MAYBE_UNUSED_VARIABLES)
                    message(FATAL_ERROR "the portfile passes ${CMAKE_MATCH_1}, which winmmf's CMakeLists.txt never reads")
                endif()
            endif()
        endforeach()
    endif()
endfunction()

# vcpkg-cmake: builds the install target of the configured build.
function(vcpkg_cmake_install)
    cmake_parse_arguments(PARSE_ARGV 0 arg "DISABLE_PARALLEL;ADD_BIN_TO_PATH" "" "")
    get_property(build GLOBAL PROPERTY vcpkg_build_dir)
    if(NOT build)
        message(FATAL_ERROR "vcpkg_cmake_install before vcpkg_cmake_configure")
    endif()
    run("vcpkg_cmake_install" "${CMAKE_COMMAND}" --build "${build}" --target install --config Release)
    # A header-only port compiles nothing: a program or library here means the portfile left a
    # part of the project on (the benchmark once built, with the host's Catch2 and Boost).
    file(GLOB_RECURSE built "${build}/*.exe" "${build}/*.dll" "${build}/*.a" "${build}/*.lib" "${build}/*.obj")
    list(FILTER built EXCLUDE REGEX "/CMakeFiles/[0-9.]+/Compiler") # CMake's own compiler probes
    if(built)
        message(FATAL_ERROR "vcpkg_cmake_install: the port's build compiled ${built}")
    endif()
endfunction()

# vcpkg-cmake-config: moves the package's config files to share/<PACKAGE_NAME> (removing the
# old directory, and its parent when that is named "cmake"). The real helper also rewrites
# absolute paths; this one refuses them instead, because our package must not contain any.
function(vcpkg_cmake_config_fixup)
    cmake_parse_arguments(PARSE_ARGV 0 arg "DO_NOT_DELETE_PARENT_CONFIG_PATH;NO_PREFIX_CORRECTION"
        "PACKAGE_NAME;CONFIG_PATH;TOOLS_PATH" "")
    if(NOT arg_PACKAGE_NAME)
        set(arg_PACKAGE_NAME "${PORT}")
    endif()
    if(NOT arg_CONFIG_PATH)
        set(arg_CONFIG_PATH "share/${arg_PACKAGE_NAME}")
    endif()
    set(from "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}")
    set(to "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}")
    if(NOT IS_DIRECTORY "${from}")
        message(FATAL_ERROR "'${from}' does not exist.")
    endif()
    if(NOT from STREQUAL to)
        file(MAKE_DIRECTORY "${to}")
        file(GLOB files "${from}/*")
        file(COPY ${files} DESTINATION "${to}")
        file(REMOVE_RECURSE "${from}")
        get_filename_component(parent "${from}" DIRECTORY)
        get_filename_component(parent_name "${parent}" NAME)
        if(parent_name STREQUAL "cmake" AND NOT arg_DO_NOT_DELETE_PARENT_CONFIG_PATH)
            file(REMOVE_RECURSE "${parent}")
        endif()
    endif()
    if(NOT EXISTS "${to}/${arg_PACKAGE_NAME}Config.cmake" AND NOT EXISTS "${to}/${arg_PACKAGE_NAME}-config.cmake")
        message(FATAL_ERROR "vcpkg_cmake_config_fixup: no ${arg_PACKAGE_NAME}Config.cmake in ${to}")
    endif()
    check_relocatable("${to}" "${CURRENT_PACKAGES_DIR}" "${CURRENT_BUILDTREES_DIR}" "${WINMMF_SOURCE_DIR}")
endfunction()

# vcpkg: the license files, concatenated, become share/<port>/copyright.
function(vcpkg_install_copyright)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "COMMENT" "FILE_LIST")
    if(NOT arg_FILE_LIST)
        message(FATAL_ERROR "vcpkg_install_copyright: FILE_LIST is required")
    endif()
    set(text "")
    foreach(license IN LISTS arg_FILE_LIST)
        if(NOT EXISTS "${license}")
            message(FATAL_ERROR "vcpkg_install_copyright: ${license} does not exist")
        endif()
        file(READ "${license}" part)
        string(APPEND text "${part}")
    endforeach()
    file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()

# ---- the portfile ------------------------------------------------------------------------------------
include("${port_dir}/portfile.cmake")

# ---- vcpkg's post-build checks that apply to a header-only port ----------------------------------------
set(pkg "${CURRENT_PACKAGES_DIR}")
if(NOT EXISTS "${pkg}/share/${PORT}/copyright")
    message(FATAL_ERROR "post-build: the license must be at share/${PORT}/copyright")
endif()
file(GLOB include_files "${pkg}/include/*")
if(NOT include_files)
    message(FATAL_ERROR "post-build: the include folder is empty or missing")
endif()
foreach(forbidden IN ITEMS debug debug/include debug/share lib bin lib/cmake cmake)
    if(EXISTS "${pkg}/${forbidden}")
        message(FATAL_ERROR "post-build: a release-only header-only port must not install ${forbidden}/")
    endif()
endforeach()
file(GLOB_RECURSE directories LIST_DIRECTORIES true "${pkg}/*")
foreach(directory IN LISTS directories)
    if(IS_DIRECTORY "${directory}")
        file(GLOB children "${directory}/*")
        if(NOT children)
            message(FATAL_ERROR "post-build: empty directory ${directory}")
        endif()
    endif()
endforeach()
check_no_paths("${pkg}" "*" "${WORK_DIR}" "${WINMMF_SOURCE_DIR}")
file(READ "${pkg}/share/${PORT}/usage" usage)
if(NOT usage MATCHES "find_package\\(winmmf CONFIG REQUIRED\\)" OR NOT usage MATCHES "winmmf::winmmf")
    message(FATAL_ERROR "post-build: the usage file does not show find_package(winmmf CONFIG REQUIRED) and winmmf::winmmf")
endif()
# The usage file adds what vcpkg's generated one cannot know: the C++20 requirement, the
# <windows.h> opt-out, and that the C ABI is not in the port.
foreach(fact IN ITEMS "C\\+\\+20" "WINMMF_NO_WIN32_LEAN_AND_MEAN" "WINMMF_BUILD_C_API")
    if(NOT usage MATCHES "${fact}")
        message(FATAL_ERROR "post-build: the usage file does not mention ${fact}")
    endif()
endforeach()
# The port has no C library (a port feature for it is another issue), so it must not have the C
# ABI's header either: winmmf_c.h declares functions nothing in the package defines.
if(EXISTS "${pkg}/include/winmmf/winmmf_c.h")
    message(FATAL_ERROR "post-build: the header-only port installs include/winmmf/winmmf_c.h without its library")
endif()
set(port_headers ${public_headers})
list(REMOVE_ITEM port_headers include/winmmf/winmmf_c.h)
check_tree("${pkg}" ${port_headers}
    share/winmmf/winmmfConfig.cmake share/winmmf/winmmfConfigVersion.cmake share/winmmf/winmmfTargets.cmake
    share/winmmf/copyright share/winmmf/usage)
message(STATUS "ok: vcpkg's post-build checks for a header-only port")

# ---- a consumer that follows the usage file (header-only: it checks there is no winmmf::c) ------------------
set(find_args "-DCMAKE_PREFIX_PATH=${pkg}")
if(CONSUMER_TOOLCHAIN)
    list(APPEND find_args "-DCMAKE_FIND_ROOT_PATH=${pkg}")
endif()
build_and_run("consumer" "${consumers_dir}/find_package" "find_package" ${find_args})
