#!/usr/bin/env bash
# Makes the media tests' clips and ffmpeg's decode of each, at test time (never committed):
# testsrc, 2 s at 30 fps (60 frames), in a few containers and sizes - one 642 pixels wide, not
# a multiple of 16. The tests (tests/media/*.cpp, window-test.sh) compare what the frame service
# publishes with these references, frame by frame.
#
#   tests/media/make-clips.sh OUTDIR
#
# Exit 77 (skipped) without ffmpeg; scripts/deps.sh installs it.
set -euo pipefail
out=${1:?usage: make-clips.sh OUTDIR}
if ! command -v ffmpeg >/dev/null 2>&1; then
    echo "make-clips: ffmpeg is not installed (scripts/deps.sh installs it); skipping" >&2
    exit 77
fi
mkdir -p "$out"
cd "$out"
rm -f manifest.txt
ff=(ffmpeg -hide_banner -loglevel error -nostdin -y)
src() { echo "testsrc=size=$1:rate=30"; }

# name            container args
make_clip() {
    local name=$1 size=$2
    shift 2
    "${ff[@]}" -f lavfi -i "$(src "$size")" -t 2 "$@" "$name"
}
make_clip h264_320x240.mp4 320x240 -c:v libx264 -pix_fmt yuv420p -bf 0 -g 30
make_clip h264b_320x240.mkv 320x240 -c:v libx264 -pix_fmt yuv420p -bf 2 -g 30
make_clip h264_642x480.mp4 642x480 -c:v libx264 -pix_fmt yuv420p -bf 0 -g 30
make_clip yuy2_320x240.avi 320x240 -c:v rawvideo -pix_fmt yuyv422

# ffmpeg's decode: raw frames, rows without padding, one after another.
decode() {
    "${ff[@]}" -i "$1" -f rawvideo -pix_fmt "$2" "$3"
}
decode h264_320x240.mp4 nv12 h264_320x240.mp4.nv12
decode h264_320x240.mp4 bgra h264_320x240.mp4.bgra
decode h264_320x240.mp4 yuyv422 h264_320x240.mp4.yuy2
decode h264b_320x240.mkv nv12 h264b_320x240.mkv.nv12
decode h264_642x480.mp4 nv12 h264_642x480.mp4.nv12
decode yuy2_320x240.avi yuyv422 yuy2_320x240.avi.yuy2
decode yuy2_320x240.avi bgra yuy2_320x240.avi.bgra

# What is there, for the tests' messages: clip width height frames.
for clip in h264_320x240.mp4 h264b_320x240.mkv h264_642x480.mp4 yuy2_320x240.avi; do
    size=${clip#*_}
    size=${size%%.*}
    echo "$clip ${size%x*} ${size#*x} 60" >>manifest.txt
done
echo "make-clips: $(wc -l <manifest.txt) clips and their references in $out"
