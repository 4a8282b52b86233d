# winmmf as an overlay port kept in its own repository: the sources are this checkout, two
# directories up, not a download. Use it with
#   vcpkg install winmmf --overlay-ports=<repo>/ports
# or, in manifest mode, with VCPKG_OVERLAY_PORTS=<repo>/ports (see README.md).
#
# vcpkg's ABI hash covers the port directory, not the checkout two levels up: after changing the
# sources, `vcpkg remove winmmf` alone is not enough, because binary caching restores the old
# package on the next install. Install with `--editable` (no binary caching for the ports named
# on the command line), or with `--no-binarycaching`, or bump "port-version" in vcpkg.json.

# Header-only: one configuration is enough, and no debug tree is produced.
set(VCPKG_BUILD_TYPE release)

get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/winmmf/winmmf.hpp")
    message(FATAL_ERROR "winmmf overlay port: expected the winmmf checkout at ${SOURCE_PATH}")
endif()

# Only the library: every other part of the project is switched off by name, since each is on by
# default in a top-level build (benchmarks would pick up the host's Catch2 and Boost). The C ABI
# (winmmf::c, winmmf_c.dll) is not part of this port; with it off its header, winmmf_c.h, is not
# installed either.
vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DWINMMF_BUILD_TESTS=OFF
        -DWINMMF_BUILD_EXAMPLES=OFF
        -DWINMMF_BUILD_TOOLS=OFF
        -DWINMMF_BUILD_C_API=OFF
        -DWINMMF_BUILD_BENCHMARKS=OFF
        -DWINMMF_BUILD_FUZZERS=OFF
        -DWINMMF_EXPORT=OFF
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME winmmf CONFIG_PATH share/winmmf)

# The license goes to share/winmmf/copyright, not to the project's share/doc.
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/share/doc")

vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
