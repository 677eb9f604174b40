#!/usr/bin/env bash
# Text conversion benchmark: `strike data convert --source text_folder` on the SpamAssassin corpus (tokenizer
# training and encoding included) against the same pipeline in Python (pandas, sentencepiece, h5py) in the
# same run, and strike's peak RSS on the corpus repeated 10x. Appends a section to bench/RESULTS.md.
# Usage: bench/run_text_convert_bench.sh [BUILD_DIR]   (fetches the corpus with scripts/fetch-spamassassin.sh
# unless STRIKE_SPAMASSASSIN_DIR names a copy)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../build}" && pwd)"
source "$here/results_section.sh"
work="$(mktemp -d /tmp/strike_text_bench.XXXXXX)"; trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3
corpus="${STRIKE_SPAMASSASSIN_DIR:-$work/corpus}"
[ -d "$corpus/spam-2" ] || "$here/../scripts/fetch-spamassassin.sh" "$corpus" >/dev/null

# The corpus 10x: hard links under new names, so the files are distinct documents to both pipelines.
for folder in "$corpus"/*/; do
  name="$(basename "$folder")"
  mkdir -p "$work/x10/$name"
  for k in 0 1 2 3 4 5 6 7 8 9; do
    for f in "$folder"*; do ln "$f" "$work/x10/$name/$k-$(basename "$f")" 2>/dev/null || cp "$f" "$work/x10/$name/$k-$(basename "$f")"; done
  done
done

# measure NAME CMD...: GNU time's wall seconds and peak RSS (KiB) into $work/NAME.time
measure() {
  local name=$1; shift
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; exit 1; }
}
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$work/$1.time"; }
rss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$1.time"; }

wait_for_idle 120
load_before="$(load_average)"
measure strike "$build/bin/strike" data convert --source text_folder --input "$corpus" --output "$work/ds" --seed 0
measure python "$python" "$here/text_convert_reference.py" "$corpus" "$work/py" --seed 0
measure strike10 "$build/bin/strike" data convert --source text_folder --input "$work/x10" --output "$work/ds10" --seed 0
load_after="$(load_average)"

docs="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['extra']['documents']['usable'])" "$work/ds/manifest.json")"
docs10="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['extra']['documents']['usable'])" "$work/ds10/manifest.json")"
bytes="$(du -sb "$corpus" | cut -f1)"
s_wall="$(wall strike)"; p_wall="$(wall python)"; s10_wall="$(wall strike10)"
s_rss="$(rss strike)"; p_rss="$(rss python)"; s10_rss="$(rss strike10)"
speedup="$(awk -v a="$p_wall" -v b="$s_wall" 'BEGIN{printf "%.2f", a/b}')"
met="$(awk -v s="$speedup" 'BEGIN{print (s >= 5 ? "met" : "not met")}')"
growth="$(awk -v a="$s_rss" -v b="$s10_rss" 'BEGIN{printf "%+.1f%%", 100*(b-a)/a}')"
# Tokenizer training is sentencepiece in both pipelines (the same C++ trainer, same settings and sample
# size), so the rest of the pipeline is shown on its own too.
s_train="$(sed -n 's/.*trained in \([0-9.]*\) s.*/\1/p' "$work/strike.log" | head -1)"
p_train="$(sed -n 's/.*trained in \([0-9.]*\) s.*/\1/p' "$work/python.log" | head -1)"
s_rest="$(awk -v a="$s_wall" -v b="$s_train" 'BEGIN{printf "%.2f", a-b}')"
p_rest="$(awk -v a="$p_wall" -v b="$p_train" 'BEGIN{printf "%.2f", a-b}')"
rest_speedup="$(awk -v a="$p_rest" -v b="$s_rest" 'BEGIN{printf "%.2f", a/b}')"
date="$(date +%F)"
commit="$(git -C "$here/.." rev-parse --short HEAD)"
echo "strike $s_wall s ($s_rss KiB), python $p_wall s ($p_rss KiB): ${speedup}x; without training ${rest_speedup}x; 10x corpus: strike $s10_wall s, $s10_rss KiB ($growth)"

section="$work/section.md"
{
  echo "## Text conversion (bench/run_text_convert_bench.sh, $date)"
  echo
  echo "SpamAssassin corpus from npm (scripts/fetch-spamassassin.sh): $docs messages, $bytes bytes, five class folders."
  echo "strike at commit $commit: \`strike data convert --source text_folder\` with its defaults (unigram tokenizer,"
  echo "vocabulary 8000, trained on a seeded sample of at most 10 MB of train documents, 512 tokens per document,"
  echo "4 train shards). Reference: bench/text_convert_reference.py, the same pipeline in Python (pandas table and"
  echo "split, sentencepiece training with the same settings on the same amount of train text, batched encoding,"
  echo "truncation, h5py ragged shards), run right after it. Wall time and peak RSS from GNU time -v. strike encodes"
  echo "only the prefix of a document that its first 512 tokens need (exact: pieces never cross whitespace); the"
  echo "reference encodes whole documents and truncates. 10x: the corpus repeated 10 times ($docs10 documents), same"
  echo "flags: memory must not grow beyond the tokenizer sample. Load average before/after: $load_before / $load_after."
  echo "Bar: strike ≥ 5× faster than Python."
  echo
  echo "| figure | reference | ratio | machine | date |"
  echo "|---|---|---|---|---|"
  echo "| strike convert: $s_wall s | Python (pandas + sentencepiece + h5py): $p_wall s | ${speedup}× (bar 5×: $met) | 2-core Debian 12 CPU | $date |"
  echo "| strike without tokenizer training: $s_rest s (training $s_train s) | Python without it: $p_rest s (training $p_train s) | ${rest_speedup}× | 2-core Debian 12 CPU | $date |"
  echo "| strike peak RSS: $s_rss KiB | Python peak RSS: $p_rss KiB | $(awk -v a="$s_rss" -v b="$p_rss" 'BEGIN{printf "%.2f", a/b}')× | 2-core Debian 12 CPU | $date |"
  echo "| strike peak RSS, corpus 10x: $s10_rss KiB ($s10_wall s) | corpus 1x: $s_rss KiB | $growth | 2-core Debian 12 CPU | $date |"
} >"$section"
replace_results_section "$here/RESULTS.md" "## Text conversion" "$section"
cat "$section"
