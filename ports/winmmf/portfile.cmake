# winmmf as an overlay port kept in its own repository: the sources are this checkout, two
# directories up, not a download. Use it with
#   vcpkg install winmmf --overlay-ports=<repo>/ports
# or, in manifest mode, with VCPKG_OVERLAY_PORTS=<repo>/ports (see README.md).
#
# vcpkg hashes the port directory, not the checkout: after changing the sources, run
# `vcpkg remove winmmf` (or bump "port-version") so that a cached package is not reused.

# Header-only: one configuration is enough, and no debug tree is produced.
set(VCPKG_BUILD_TYPE release)

get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/winmmf/winmmf.hpp")
    message(FATAL_ERROR "winmmf overlay port: expected the winmmf checkout at ${SOURCE_PATH}")
endif()

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DWINMMF_BUILD_TESTS=OFF
        -DWINMMF_BUILD_EXAMPLES=OFF
        -DWINMMF_BUILD_TOOLS=OFF
        -DWINMMF_BUILD_C_API=OFF
        -DWINMMF_INSTALL=ON
        -DWINMMF_CMAKE_DIR=share/winmmf
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME winmmf CONFIG_PATH share/winmmf)

# Nothing but headers and the CMake package: no debug tree, and the license goes to copyright.
file(REMOVE_RECURSE
    "${CURRENT_PACKAGES_DIR}/debug"
    "${CURRENT_PACKAGES_DIR}/share/doc")

vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
