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
# compare CSV ROUNDS: strike and the reference taking turns, ROUNDS times each (so both meet the same
# moments of a shared machine); prints "strike_median strike_kib python_median python_kib per-round-ratios".
compare() {
  local csv="$1" rounds="$2" out s k ss=() ps=() skib=0 pkib=0 ratios=""
  for ((i = 0; i < rounds; ++i)); do
    rm -rf "$work/out"
    out=$(/usr/bin/time -f "%e %M" "$build/bin/strike" data convert --input "$csv" --target species --output "$work/out" 2>&1 >/dev/null | tail -1)
    read -r s k <<<"$out"; ss+=("$s"); (( k > skib )) && skib=$k
    rm -rf "$work/out"
    out=$(/usr/bin/time -f "%e %M" "$python" "$here/csv_convert_reference.py" "$csv" species "$work/out" 2>&1 >/dev/null | tail -1)
    read -r p k <<<"$out"; ps+=("$p"); (( k > pkib )) && pkib=$k
    ratios+="$(awk -v a="$p" -v b="$s" 'BEGIN{printf "%.2f", a/b}') "
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
  echo "$(median "${ss[@]}") $skib $(median "${ps[@]}") $pkib ${ratios% }"
}
read -r strike_s strike_kib py_s py_kib ratios1 < <(compare "$work/x1.csv" 7 | awk '{r=$5; for(i=6;i<=NF;i++) r=r","$i; print $1, $2, $3, $4, r}')
read -r strike10_s strike10_kib py10_s py10_kib ratios10 < <(compare "$work/x10.csv" 3 | awk '{r=$5; for(i=6;i<=NF;i++) r=r","$i; print $1, $2, $3, $4, r}')
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
Wall times: the two programs take turns (7 rounds at $rows rows, 3 at $((rows * 10))) so that both meet the same
moments of a shared machine; the table gives the medians and each round's ratio. Process start-up is included
(strike's alone: $startup s; \`strike data\` runs in strike-data, without LibTorch). Peak RSS by GNU time. Load
before the runs: $load. Nothing is held per row. Earlier: 1.22× and 2.02× before commit 058b7f1; 2.0× and 2.2×
with three passes over the text (best of 3, session 6).

| figure | reference | ratio | machine | date |
|---|---|---|---|---|
| strike, $rows rows: $strike_s s (median of 7; per-round ratios ${ratios1//,/, }) | pandas + h5py: $py_s s (median of 7) | $(ratio "$py_s" "$strike_s")× faster (bar 5×) | $machine | $date_str |
| strike, $((rows * 10)) rows: $strike10_s s (median of 3; per-round ratios ${ratios10//,/, }) | pandas + h5py: $py10_s s (median of 3) | $(ratio "$py10_s" "$strike10_s")× faster (bar 5×) | $machine | $date_str |
| strike peak RSS, 10× rows: $strike10_kib KiB | 1× rows: $strike_kib KiB | $(ratio "$strike10_kib" "$strike_kib")× | $machine | $date_str |
| pandas peak RSS, 10× rows: $py10_kib KiB | 1× rows: $py_kib KiB | $(ratio "$py10_kib" "$py_kib")× | $machine | $date_str |
MD
replace_results_section "$here/RESULTS.md" "## CSV conversion (bench/run_csv_convert_bench.sh" "$section"
cat "$section"
