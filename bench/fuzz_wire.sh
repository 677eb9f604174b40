#!/usr/bin/env bash
# Fuzzes the wire protocol (core/wire.cpp, tests/fuzz/wire_fuzz.cpp) with libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer for SECONDS on one core, then writes the figures to bench/RESULTS.md.
# Usage: bench/fuzz_wire.sh [SECONDS]  (default 600; as root on a fresh Debian 12 it installs clang and
# libFuzzer's runtime). Build outputs, corpus and any crashing inputs go to build-fuzz/.
# The reference for coverage is the seed corpus alone (libFuzzer's INITED line) in the same run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
seconds="${1:-600}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
# shellcheck source=bench/results_section.sh
. "$here/results_section.sh"

# Debian 12's clang 14 keeps libFuzzer's runtime (libclang_rt.fuzzer) in libclang-rt-14-dev.
"$root/scripts/setup.sh" clang libclang-rt-14-dev >&2

out="$root/build-fuzz"
mkdir -p "$out"
# A fresh corpus and artifact folder each run, so the figures belong to this run alone.
rm -rf "$out/corpus" "$out/seeds" "$out/artifacts"
mkdir -p "$out/corpus" "$out/seeds" "$out/artifacts"

echo "fuzz_wire: building $out/wire_fuzz" >&2
(cd "$root" && clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" tests/fuzz/wire_fuzz.cpp core/wire.cpp core/error.cpp -o "$out/wire_fuzz")
"$out/wire_fuzz" --emit-seeds "$out/seeds"

# JSON punctuation and the protocol's names, so mutations reach the field checks sooner.
{
  for w in '{' '}' '[' ']' ':' ',' '"' 'null' 'true' 'false' '-0' '1e999' '\\u0000' '\\ud800' \
           '9223372036854775808' '2147483648' '-2147483649' '1.5'; do
    printf '"%s"\n' "$(printf '%s' "$w" | sed 's/"/\\"/g')"
  done
  for w in type hello heartbeat progress checkpoint error 'done' ping rank world host pid device phase epoch \
           epochs step phase_step phase_steps work loss metric samples_per_sec lr path text code; do
    printf '"\\"%s\\""\n' "$w"
  done
  printf '"\\x00\\x00\\x00"\n"\\x00\\x01\\x00\\x00"\n"\\x00\\x01\\x00\\x01"\n'
} >"$out/wire.dict"

load_before="$(load_average)"
echo "fuzz_wire: fuzzing for $seconds s" >&2
rc=0
"$out/wire_fuzz" -max_total_time="$seconds" -print_final_stats=1 -max_len=20000 -timeout=10 -rss_limit_mb=2048 \
  -dict="$out/wire.dict" -artifact_prefix="$out/artifacts/" "$out/corpus" "$out/seeds" >"$out/fuzz.log" 2>&1 || rc=$?
load_after="$(load_average)"

stat() { awk -v k="stat::$1:" '$1 == k {print $2}' "$out/fuzz.log" | tail -n 1; }
cov_field() {  # cov_field LINE_PATTERN FIELD: a field of the last libFuzzer status line matching the pattern
  awk -v p="$1" -v f="$2" '$0 ~ p { for (i = 1; i < NF; ++i) if ($i == f) v = $(i + 1) } END { print v }' "$out/fuzz.log"
}
runs="$(stat number_of_executed_units)"
rate="$(stat average_exec_per_sec)"
elapsed="$(awk '/Done [0-9]+ runs in/ {print $(NF - 1)}' "$out/fuzz.log" | tail -n 1)"
cov_seeds="$(cov_field 'INITED' 'cov:')"
ft_seeds="$(cov_field 'INITED' 'ft:')"
cov_end="$(cov_field '^#[0-9]+' 'cov:')"
ft_end="$(cov_field '^#[0-9]+' 'ft:')"
corpus_units="$(cov_field '^#[0-9]+' 'corp:')"
crashes="$(find "$out/artifacts" -type f | wc -l)"
[[ -n "$runs" && -n "$cov_end" ]] || { echo "fuzz_wire: no figures in $out/fuzz.log (exit $rc):" >&2; tail -n 40 "$out/fuzz.log" >&2; exit 1; }

machine="$(nproc)-core $(. /etc/os-release && echo "$PRETTY_NAME") CPU, fuzzer on 1 core"
day="$(date +%F)"
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
clang_version="$(clang++ --version | head -n 1)"
if ((crashes)); then
  found="$crashes ($(find "$out/artifacts" -type f -printf '%f ' | head -c 300); libFuzzer exit $rc)"
else
  found="0 (libFuzzer exit $rc)"
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

section="$(mktemp /tmp/strike_fuzz_wire.XXXXXX)"; trap 'rm -f "$section"' EXIT
{
  echo "## Wire-protocol fuzzing (bench/fuzz_wire.sh, $day)"
  echo
  echo "libFuzzer on tests/fuzz/wire_fuzz.cpp at commit $commit ($clang_version, -O1, ASan + UBSan, UBSan"
  echo "errors abort): each input is parsed as one payload and fed to FrameReader in three chunkings (which"
  echo "must give the same frames) and once with a small frame limit; every message that parses must encode,"
  echo "parse back and re-encode to the same bytes. Seeds: one frame and one payload per message type and a"
  echo "stream of all seven (\`wire_fuzz --emit-seeds\`); a dictionary of JSON tokens and field names;"
  echo "inputs up to 20000 bytes. Coverage (libFuzzer's cov: edges, ft: features) is compared with the seeds'"
  echo "alone, measured at the start of the same run. Load average before/after: $load_before / $load_after."
  echo
  echo "| figure | reference | ratio | machine | date |"
  echo "|---|---|---|---|---|"
  printf '| %s s: %s executions (%s exec/s), coverage %s edges / %s features, corpus %s, crashes found: %s | seeds alone: %s edges / %s features | %s× edges, %s× features | %s | %s |\n' \
    "${elapsed:-$seconds}" "$runs" "$rate" "$cov_end" "$ft_end" "$corpus_units" "$found" "$cov_seeds" "$ft_seeds" \
    "$(ratio "$cov_end" "$cov_seeds")" "$(ratio "$ft_end" "$ft_seeds")" "$machine" "$day"
} >"$section"
cat "$section"
replace_results_section "$here/RESULTS.md" "## Wire-protocol fuzzing" "$section"
echo "updated $here/RESULTS.md; log: $out/fuzz.log" >&2
if ((crashes)); then
  echo "fuzz_wire: crashing inputs in $out/artifacts (reproduce: $out/wire_fuzz FILE)" >&2
  exit 1
fi
