#!/usr/bin/env bash
# The `strike` front: `strike data …` runs in strike-data, which has no LibTorch in it; every other
# command runs in strike-app; --version and --help exit 0; a front without its siblings says so.
set -uo pipefail
bin="$1"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Whole outputs are searched (ldd's taken first, grep without -q): with pipefail, `cmd | grep -q` fails
# when grep stops reading at its match and cmd dies of SIGPIPE.
for exe in strike strike-data; do
  libs="$(ldd "$bin/$exe")" || fail "ldd $exe"
  grep -q torch <<<"$libs" && fail "$exe links LibTorch: $(grep torch <<<"$libs" | head -1)"
done
libs="$(ldd "$bin/strike-app")" || fail "ldd strike-app"
grep -q torch <<<"$libs" || fail "strike-app does not link LibTorch: is ldd telling the truth?"

[ "$("$bin/strike" --version)" = "strike 0.1.0" ] || fail "strike --version"
"$bin/strike" --help | grep "quickstart" >/dev/null || fail "strike --help does not list the command tree"
"$bin/strike" data --help | grep "convert" >/dev/null || fail "strike data --help does not list convert"
"$bin/strike" list backbones | grep "small_cnn" >/dev/null || fail "strike list backbones (strike-app)"

# A data command through the front: its process image is strike-data from the start (exec keeps the pid).
printf 'x,y,label\n1,a,p\n2,b,q\n3,a,p\n4,b,q\n5,a,p\n6,b,q\n7,a,p\n8,b,q\n9,a,p\n10,b,q\n' > "$work/t.csv"
"$bin/strike" data convert --input "$work/t.csv" --target label --output "$work/d" --val-fraction 0 --test-fraction 0.2 \
  > "$work/convert.log" 2>&1 || { cat "$work/convert.log"; fail "strike data convert through the front"; }
"$bin/strike" data verify "$work/d" | grep OK >/dev/null || fail "strike data verify"
"$bin/strike" data convert --input "$work/t.csv" --output "$work/e" 2>"$work/usage.err"
[ $? -eq 2 ] || fail "a data usage error does not exit 2"
grep -q -- "--target" "$work/usage.err" || fail "the usage error does not name --target: $(cat "$work/usage.err")"

# strike-data run by hand with another program's command: exit 2, naming the way that works.
"$bin/strike-data" train --data "$work/d" 2>"$work/direct.err"
[ $? -eq 2 ] || fail "strike-data train does not exit 2"
grep -q "strike-data runs only .data" "$work/direct.err" || fail "unclear error: $(cat "$work/direct.err")"

# The front alone: a clear error naming the missing executable, exit 1.
mkdir "$work/lonely" && cp "$bin/strike" "$work/lonely/"
"$work/lonely/strike" data inspect "$work/d" 2>"$work/lonely.err"
[ $? -eq 1 ] || fail "a front without strike-data does not exit 1"
grep -q "cannot run .*strike-data" "$work/lonely.err" || fail "unclear error: $(cat "$work/lonely.err")"
"$work/lonely/strike" list backbones 2>"$work/lonely.err"
grep -q "cannot run .*strike-app" "$work/lonely.err" || fail "unclear error: $(cat "$work/lonely.err")"
echo "front: OK"
