# Warnings for our own tests and examples; consumers of the INTERFACE target get none of this.
add_library(winmmf_project_options INTERFACE)
if(MSVC)
    target_compile_options(winmmf_project_options INTERFACE /W4 /permissive- /WX /utf-8)
else()
    target_compile_options(winmmf_project_options INTERFACE -Wall -Wextra -Wpedantic -Wconversion
        -Wsign-conversion -Wshadow -Werror)
endif()
# mingw: link the C++ runtime statically so the executables run under Wine (and on a bare
# Windows machine) without libstdc++-6.dll / libgcc_s_seh-1.dll beside them.
if(MINGW)
    target_link_options(winmmf_project_options INTERFACE -static)
endif()
