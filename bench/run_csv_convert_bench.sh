#!/usr/bin/env bash
# CSV conversion benchmark: `strike data convert` against the same pipeline in Python with pandas + h5py
# (bench/csv_convert_reference.py) on a synthetic table, in one run, plus both programs' peak RSS on the
# table and on one 10 times longer; replaces its section of bench/RESULTS.md.
# Usage: bench/run_csv_convert_bench.sh [BUILD_DIR] [ROWS=500000]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"; rows="${2:-500000}"
work="$(mktemp -d /tmp/strike_csv_bench.XXXXXX)"; trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3  # the interpreter with numpy, pandas and h5py
source "$here/results_section.sh"

"$python" "$here/make_csv.py" "$work/x1.csv" "$rows"
"$python" "$here/make_csv.py" "$work/x10.csv" "$((rows * 10))"
wait_for_idle
load="$(load_average)"
# run LABEL CSV COMMAND...: best wall time of 3 runs and the peak RSS, as "seconds kib".
run() {
  local best="" kib=0 out
  for _ in 1 2 3; do
    rm -rf "$work/out"
    out=$(/usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1)
    read -r s k <<<"$out"
    if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$s; fi
    (( k > kib )) && kib=$k
  done
  echo "$best $kib"
}
read -r strike_s strike_kib < <(run "$build/bin/strike" data convert --input "$work/x1.csv" --target species --output "$work/out")
read -r py_s py_kib < <(run "$python" "$here/csv_convert_reference.py" "$work/x1.csv" species "$work/out")
read -r strike10_s strike10_kib < <(run "$build/bin/strike" data convert --input "$work/x10.csv" --target species --output "$work/out")
read -r py10_s py10_kib < <(run "$python" "$here/csv_convert_reference.py" "$work/x10.csv" species "$work/out")
startup=$( { /usr/bin/time -f "%e" "$build/bin/strike" data convert --help >/dev/null; } 2>&1 | tail -1)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
mb=$(( $(stat -c %s "$work/x1.csv") / 1000000 ))
echo "x1 ($mb MB): strike ${strike_s} s ${strike_kib} KiB, python ${py_s} s ${py_kib} KiB; x10: strike ${strike10_s} s ${strike10_kib} KiB, python ${py10_s} s ${py10_kib} KiB; strike start-up ${startup} s"

date_str="${STRIKE_BENCH_DATE:-$(date +%F)}"
machine="${STRIKE_BENCH_MACHINE:-$(nproc)-core $(. /etc/os-release && echo "$NAME $VERSION_ID") CPU}"
section="$work/section.md"
cat > "$section" <<MD
## CSV conversion (bench/run_csv_convert_bench.sh, $date_str)

Synthetic table (bench/make_csv.py): $rows rows ($mb MB) and $((rows * 10)) rows, 5 numeric columns with 2% NA,
3 categorical, 3 classes. strike: \`strike data convert --target species\`: one pass over the text, in ranges read
side by side (one per core), into binary rows in \$TMPDIR; over those the stratified split, the fits (on a second
thread) and the rows staged in shard order; 4+1+1 shards, each encoded while the one before is written and
checksummed on another thread. Reference: bench/csv_convert_reference.py, the same steps with pandas and h5py.
Best of 3 wall times, process start-up included (strike's alone: $startup s: \`strike data\` runs in strike-data,
without LibTorch); peak RSS by GNU time. Load before the runs: $load. The same bench gave 1.22× and 2.02× before
commit 058b7f1 and 2.0× and 2.2× with three passes over the text (session 6). Nothing is held per row.

| figure | reference | ratio | machine | date |
|---|---|---|---|---|
| strike, $rows rows: $strike_s s | pandas + h5py: $py_s s | $(ratio "$py_s" "$strike_s")× faster (bar 5×) | $machine | $date_str |
| strike, $((rows * 10)) rows: $strike10_s s | pandas + h5py: $py10_s s | $(ratio "$py10_s" "$strike10_s")× faster (bar 5×) | $machine | $date_str |
| strike peak RSS, 10× rows: $strike10_kib KiB | 1× rows: $strike_kib KiB | $(ratio "$strike10_kib" "$strike_kib")× | $machine | $date_str |
| pandas peak RSS, 10× rows: $py10_kib KiB | 1× rows: $py_kib KiB | $(ratio "$py10_kib" "$py_kib")× | $machine | $date_str |
MD
replace_results_section "$here/RESULTS.md" "## CSV conversion (bench/run_csv_convert_bench.sh" "$section"
cat "$section"
