#!/usr/bin/env bash
# Packs the Debian libraries strike needs but the GPU machine lacks (CLI11, nlohmann-json, spdlog, fmt, fast_float,
# yaml-cpp, libpng, libjpeg) into .gpu-deps/usr, to travel with the working tree to that machine.
# zlib is not bundled: that machine's HDF5 links its own, and two zlibs in one process crash.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.gpu-deps/usr"
rm -rf "$root/.gpu-deps"
mkdir -p "$out/include" "$out/lib/x86_64-linux-gnu/cmake" "$out/share/cmake"
for pkg in libcli11-dev nlohmann-json3-dev libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libyaml-cpp-dev \
           libyaml-cpp0.7 libpng-dev libpng16-16 libjpeg62-turbo-dev libjpeg62-turbo libfast-float-dev; do
  dpkg -L "$pkg" | while read -r f; do
    [ -f "$f" ] || [ -L "$f" ] || continue
    case "$f" in
      /usr/include/*|/usr/lib/x86_64-linux-gnu/*|/usr/share/cmake/*|/lib/x86_64-linux-gnu/*)
        rel="${f#/usr/}"; rel="${rel#/}"
        [[ "$f" == /lib/* ]] && rel="${f#/}"
        mkdir -p "$out/$(dirname "$rel")"
        cp -a "$f" "$out/$rel" ;;
    esac
  done
done
rm -rf "$out/lib/x86_64-linux-gnu/pkgconfig"
mkdir -p "$root/.gpu-deps/fashion-mnist"
cp /usr/share/datasets/fashion-mnist/*.gz "$root/.gpu-deps/fashion-mnist/"
du -sh "$root/.gpu-deps"
