#!/usr/bin/env bash
# The layout rules of include/winmmf/ (CONTRIBUTING.md, "Where code goes"), checked:
#   1. <windows.h> is included in one place, detail/win32.hpp;
#   2. Win32 functions are called (as ::Name(...)) only under detail/;
#   3. protocol/ is platform-independent: it includes the standard library, other protocol/
#      headers and the portable public headers, nothing else;
#   4. every protocol/X.hpp names its Win32 shell ("// Win32 shell: winmmf/Y.hpp"), which
#      exists and includes it;
#   5. every public header is in the umbrella winmmf.hpp and in docs/reference/api.md; the one
#      exception to the umbrella is asio.hpp, which needs Asio (an optional dependency).
# Prints each violation and exits 1 if there is any.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
inc="$root/include/winmmf"
portable="error.hpp acquire.hpp frame_types.hpp large_pages.hpp privilege_state.hpp"
bad=0
fail() { echo "layout: $*"; bad=1; }

while IFS= read -r f; do
    rel=${f#"$inc/"}
    [ "$rel" = detail/win32.hpp ] && continue
    if grep -qiE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<windows\.h>' "$f"; then
        fail "$rel includes <windows.h>; include <winmmf/detail/win32.hpp> instead"
    fi
done < <(find "$inc" -name '*.hpp' -o -name '*.h')

for f in "$inc"/*.hpp "$inc"/protocol/*.hpp; do
    rel=${f#"$inc/"}
    # Comments aside: a Win32 call is a global-scope call of a capitalised name.
    if sed -e 's://.*$::' "$f" | grep -nE '(^|[^A-Za-z0-9_:])::[A-Z][A-Za-z0-9]*[[:space:]]*\(' >/dev/null; then
        fail "$rel calls Win32 directly (move the call under detail/):"
        sed -e 's://.*$::' "$f" | grep -nE '(^|[^A-Za-z0-9_:])::[A-Z][A-Za-z0-9]*[[:space:]]*\(' | sed 's/^/    /'
    fi
done

for f in "$inc"/protocol/*.hpp; do
    rel=${f#"$inc/"}
    while IFS= read -r included; do
        case "$included" in
        protocol/*) ;;
        *) case " $portable " in *" $included "*) ;; *) fail "$rel includes <winmmf/$included>, which is not platform-independent" ;; esac ;;
        esac
    done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<winmmf\/([^>]+)>.*/\1/p' "$f")
    if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(windows|winnt|winbase|intrin)\.h>' "$f"; then
        fail "$rel includes a platform header"
    fi
    shell=$(sed -nE 's/^\/\/ Win32 shell: winmmf\/(.+)$/\1/p' "$f" | head -n 1)
    if [ -z "$shell" ]; then
        fail "$rel does not name its Win32 shell (// Win32 shell: winmmf/...)"
    elif [ ! -f "$inc/$shell" ]; then
        fail "$rel names $shell as its Win32 shell, which does not exist"
    elif ! grep -qE "#include <winmmf/$rel>" "$inc/$shell"; then
        fail "$shell, the Win32 shell of $rel, does not include it"
    fi
done

for f in "$inc"/*.hpp; do
    rel=${f#"$inc/"}
    [ "$rel" = winmmf.hpp ] && continue
    [ "$rel" = asio.hpp ] || grep -qE "#include <winmmf/$rel>" "$inc/winmmf.hpp" || fail "public header $rel is not in the umbrella winmmf.hpp"
    grep -qF "$rel" "$root/docs/reference/api.md" || fail "public header $rel is not in docs/reference/api.md"
done

[ $bad -eq 0 ] && echo "layout: include/winmmf follows the rules"
exit $bad
