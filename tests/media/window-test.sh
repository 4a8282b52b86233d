#!/usr/bin/env bash
# frame_viewer --window under Xvfb: the service publishes a clip (raw YUY2, so the viewer's own
# YUY2-to-RGB conversion is what is seen), the viewer shows it in a window and, once the stream
# has ended, keeps showing the last frame it got and says which. A screenshot of the window's
# client area (ffmpeg's x11grab), downscaled to 80x60, is compared with ffmpeg's decode of that
# frame: PSNR >= 35 dB, while the same screenshot against the frame upside down stays below 20 dB.
#
#   tests/media/window-test.sh BUILD_DIR WINE_RUN     (WINE_RUN: cmake/wine-run.sh)
#
# Exit 77 (skipped) without the clips, Xvfb or ffmpeg.
set -uo pipefail
build=${1:?usage: window-test.sh BUILD_DIR WINE_RUN}
wine_run=${2:?usage: window-test.sh BUILD_DIR WINE_RUN}
media=$build/media
examples=$build/examples
clip=yuy2_320x240.avi
for tool in Xvfb ffmpeg; do
    command -v "$tool" >/dev/null 2>&1 || { echo "window-test: $tool is not installed; skipping"; exit 77; }
done
[ -f "$media/manifest.txt" ] || { echo "window-test: no clips in $media (tests/media/make-clips.sh); skipping"; exit 77; }

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "window-test: FAILED: $*"
    for f in "$work"/*.out "$work"/*.err; do
        [ -s "$f" ] && { echo "--- $(basename "$f")"; cat "$f"; }
    done
    exit 1
}
winpath() { local p=${1//\//\\}; printf 'Z:%s' "$p"; }

# A display of our own. Xvfb picks a free number itself and writes it to fd 3 only once it
# accepts connections (-displayfd): choosing a number here and waiting for its socket raced with
# Xvfb's start, and the viewer once failed to create its window (error 0).
Xvfb -displayfd 3 -screen 0 640x480x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.err" 2>&1 </dev/null &
pids+=($!)
display=
for _ in $(seq 100); do
    display=$(head -n 1 "$work/display" 2>/dev/null)
    [ -n "$display" ] && break
    sleep 0.1
done
[ -n "$display" ] || fail "Xvfb did not start"

base=window$$
index="$(winpath "$work")\\$base.txt"
DISPLAY=":$display" "$wine_run" "$examples/frame_viewer.exe" --index "$index" --wait 120 --window --seconds 150 \
    >"$work/viewer.out" 2>"$work/viewer.err" </dev/null &
viewer=$!
pids+=($viewer)
"$wine_run" "$examples/frame_service.exe" run --namespace local --basename "$base" --index-dir "$(winpath "$work")" \
    --source "file:$(winpath "$media/$clip")" --format yuy2 >"$work/service.out" 2>"$work/service.err" </dev/null &
service=$!
pids+=($service)

ended=
for _ in $(seq 1200); do
    ended=$(grep -a "the stream ended; showing frame #" "$work/viewer.out" 2>/dev/null)
    [ -n "$ended" ] && break
    kill -0 "$viewer" 2>/dev/null || break
    sleep 0.1
done
[ -n "$ended" ] || fail "the viewer never reported the end of the stream"
area=$(grep -a "client area at" "$work/viewer.out")
[[ $area =~ client\ area\ at\ ([0-9]+),([0-9]+)\ size\ ([0-9]+)x([0-9]+) ]] || fail "no client area in: $area"
x=${BASH_REMATCH[1]} y=${BASH_REMATCH[2]} w=${BASH_REMATCH[3]} h=${BASH_REMATCH[4]}
[[ $ended =~ frame\ \#([0-9]+) ]] || fail "no frame number in: $ended"
frame=${BASH_REMATCH[1]}
[ "$frame" -ge 1 ] && [ "$frame" -le 60 ] || fail "frame #$frame is not one of the clip's 60"
[ "$w" = 320 ] && [ "$h" = 240 ] || fail "client area ${w}x$h, expected 320x240"
sleep 1 # the last paint

ff=(ffmpeg -hide_banner -loglevel error -nostdin -y)
"${ff[@]}" -f x11grab -draw_mouse 0 -video_size "${w}x$h" -i ":$display+$x,$y" -frames:v 1 "$work/shot.png" ||
    fail "x11grab failed"
# A fresh channel: sequence N is the clip's frame N-1.
"${ff[@]}" -i "$media/$clip" -vf "select=eq(n\,$((frame - 1)))" -frames:v 1 "$work/expected.png" || fail "decode failed"
"${ff[@]}" -i "$work/expected.png" -vf vflip "$work/flipped.png" || fail "vflip failed"
psnr() {
    ffmpeg -hide_banner -nostdin -i "$1" -i "$2" -lavfi \
        "[0:v]scale=80:60:flags=area,format=rgb24[a];[1:v]scale=80:60:flags=area,format=rgb24[b];[a][b]psnr" \
        -f null - 2>&1 | sed -n 's/.*average:\([0-9.inf]*\).*/\1/p' | tail -n 1
}
match=$(psnr "$work/shot.png" "$work/expected.png")
control=$(psnr "$work/shot.png" "$work/flipped.png")
echo "window-test: window at $x,$y ${w}x$h showed frame #$frame; downscaled 80x60 PSNR $match dB against ffmpeg's" \
     "decode of it, $control dB against it upside down"
[ -n "$match" ] && [ -n "$control" ] || fail "no PSNR from ffmpeg"
awk -v m="$match" -v c="$control" 'BEGIN { exit !((m == "inf" || m + 0 >= 35) && c != "inf" && c + 0 < 20) }' ||
    fail "the window does not show the expected frame"
grep -aq "end of stream after 60 frame(s)" "$work/service.out" || fail "the service did not publish 60 frames"
grep -aq "fps, latency" "$work/viewer.out" 2>/dev/null || true
echo "window-test: PASSED"
