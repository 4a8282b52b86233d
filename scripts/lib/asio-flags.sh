# Sourced by the clang checks: the extra flags a translation unit that uses <winmmf/asio.hpp>
# needs - Asio's headers through the directories of links cmake/winmmf-asio.cmake makes in the
# mingw-wine build (never /usr/include itself: glibc's headers would shadow mingw's), and the
# defines the winmmf::asio target adds. Sets the array asio_variants: one entry per build of the
# source, each a string of flags ("" when it needs none).
asio_include="$root/build/mingw-wine/asio-include"
boost_asio_include="$root/build/mingw-wine/boost-asio-include"

asio_variants_for() {
    local source=$1
    asio_variants=("")
    if grep -qE '#include <winmmf/asio\.hpp>' "$source" || [ "$source" = "$root/include/winmmf/asio.hpp" ]; then
        # ASIO_HAS_CO_AWAIT: Asio 1.22 looks for clang's coroutines in <experimental/coroutine> only,
        # which libstdc++ 12 does not have; g++ and MSVC are detected as they are.
        asio_variants=("-isystem $asio_include -DASIO_STANDALONE -DASIO_HAS_CO_AWAIT=1 -D_WIN32_WINNT=0x0A00")
        # The benchmark's Asio row is compiled where bench/CMakeLists.txt finds winmmf::asio.
        case "$source" in "$root/bench/"*) asio_variants[0]+=" -DWINMMF_BENCH_HAVE_ASIO=1" ;; esac
        # tests/asio is built a second time against Boost.Asio (tests/CMakeLists.txt).
        case "$source" in "$root/tests/asio/"*)
            asio_variants+=("-isystem $boost_asio_include -DWINMMF_TEST_BOOST_ASIO -DBOOST_ASIO_HAS_CO_AWAIT=1 -D_WIN32_WINNT=0x0A00") ;;
        esac
    fi
}
