#!/usr/bin/env bash
# Bad input through the real executables: each case must exit with the stated code and a message
# naming the culprit, never crash (no exit code >= 128, no "terminate"/"Segmentation").
set -uo pipefail
bin="$1"; here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
failures=0

# expect CODE NEEDLE -- command...: runs it, checks the exit code and that stderr+stdout contain NEEDLE.
expect() {
  local code="$1" needle="$2"; shift 3
  local out rc
  out="$("$@" 2>&1)"; rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -qF -- "$needle" <<<"$out" || grep -qE "terminate called|Segmentation|Aborted" <<<"$out"; then
    echo "FAIL: '$*' exited $rc (want $code), output lacks '$needle':"; echo "$out" | tail -5
    failures=$((failures + 1))
  else
    echo "ok: $* -> $rc"
  fi
}

# A tiny valid dataset: image folders with two classes of generated PNGs.
python3 - "$work/raw" <<'PY'
import struct, sys, zlib
from pathlib import Path
def png(path, w, h, value):
    raw = b"".join(b"\x00" + bytes([value]) * w for _ in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
root = Path(sys.argv[1])
for c, v in (("dark", 20), ("light", 230)):
    (root / c).mkdir(parents=True)
    for i in range(40):
        png(root / c / f"{i}.png", 12, 12, v + (i % 7))
PY
"$bin/strike" data convert --input "$work/raw" --output "$work/data" --image-size 12 --shards 2 >/dev/null || { echo "FAIL: setup convert"; exit 1; }
"$bin/strike" train --data "$work/data" --output "$work/run" --epochs 1 --batch-size 8 --progress none >/dev/null 2>&1 \
  || { echo "FAIL: setup train"; exit 1; }
ckpt="$work/run/checkpoints/best.h5"

# Wrong flags and values: usage errors, exit 2.
expect 2 "unknown-net" -- "$bin/strike" train --data "$work/data" --output "$work/r2" --backbone unknown-net
expect 2 "--epochs" -- "$bin/strike" train --data "$work/data" --epochs -1
expect 2 "--lr" -- "$bin/strike" train --data "$work/data" --lr abc
expect 2 "--no-such-flag" -- "$bin/strike" train --data "$work/data" --no-such-flag
expect 2 "--kind" -- "$bin/strike" predict --checkpoint "$ckpt" --kind colours x.png
expect 2 "nope" -- "$bin/strike" list nope

# Missing and damaged data: runtime errors naming the file, exit 1.
expect 1 "manifest.json" -- "$bin/strike" train --data "$work/raw" --output "$work/r3"
expect 1 "does not exist" -- "$bin/strike" data inspect "$work/missing"
cp -r "$work/data" "$work/flipped"
shard="$(ls "$work/flipped"/train-*.h5 | head -1)"
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[-100]^=0xFF; open(p,'wb').write(b)" "$shard"
expect 1 "$(basename "$shard")" -- "$bin/strike" data verify "$work/flipped"
expect 1 "$(basename "$shard")" -- "$bin/strike" train --data "$work/flipped" --output "$work/r4" --epochs 1
# On 2 ranks each checks half the shards: rank 1 finds the second train shard damaged, names it, and rank 0
# stops too, naming rank 1.
cp -r "$work/data" "$work/flipped2"
shard="$(ls "$work/flipped2"/train-*.h5 | sed -n 2p)"
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[-100]^=0xFF; open(p,'wb').write(b)" "$shard"
expect 1 "$(basename "$shard")" -- "$bin/strike" train --data "$work/flipped2" --output "$work/r4b" --epochs 1 --ranks 2
expect 1 "rank 1 found a damaged shard" -- "$bin/strike" train --data "$work/flipped2" --output "$work/r4c" --epochs 1 --ranks 2
cp -r "$work/data" "$work/truncated"
shard="$(ls "$work/truncated"/train-*.h5 | head -1)"
truncate -s 1000 "$shard"
expect 1 "$(basename "$shard")" -- "$bin/strike" data verify "$work/truncated"
expect 1 "$(basename "$shard")" -- "$bin/strike" train --data "$work/truncated" --output "$work/r5" --epochs 1 --no-verify-data

# Bad images: unreadable, wrong size without resizing, empty class folder.
echo "not an image" > "$work/bad.png"
expect 1 "bad.png" -- "$bin/strike" predict --checkpoint "$ckpt" "$work/bad.png"
cp -r "$work/raw" "$work/raw_bad"; cp "$work/bad.png" "$work/raw_bad/dark/zz.png"
expect 1 "zz.png" -- "$bin/strike" data convert --input "$work/raw_bad" --output "$work/d2"
cp -r "$work/raw" "$work/raw_sizes"
python3 - "$work/raw_sizes/light/odd.png" <<'PY'
import struct, sys, zlib
w, h = 13, 9
raw = b"".join(b"\x00" + b"\x80" * w for _ in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
expect 1 "odd.png" -- "$bin/strike" data convert --input "$work/raw_sizes" --output "$work/d3"
cp -r "$work/raw" "$work/raw_empty"; mkdir "$work/raw_empty/void"
expect 1 "void" -- "$bin/strike" data convert --input "$work/raw_empty" --output "$work/d4"

# A checkpoint that is not one.
expect 1 "bad.png" -- "$bin/strike" eval --checkpoint "$work/bad.png" --data "$work/data"

if [ "$failures" -ne 0 ]; then echo "$failures case(s) failed"; exit 1; fi
echo "PASS"
