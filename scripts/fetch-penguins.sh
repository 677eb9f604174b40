#!/usr/bin/env bash
# Fetches Palmer penguins (penguins.csv) from Debian's r-cran-palmerpenguins into DIR; R is not needed.
# Usage: scripts/fetch-penguins.sh DIR   (Debian 12; `apt-get download` needs no root, the index does)
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"
work=$(mktemp -d)
# apt fetches as its unprivileged _apt user, which must be able to write the download there.
if [[ $EUID -eq 0 ]] && id _apt >/dev/null 2>&1; then chown _apt "$work"; fi
trap 'rm -rf "$work"' EXIT

# apt-get download writes into the current directory; a fresh one keeps stray .debs out of the repo.
(cd "$work" && apt-get download r-cran-palmerpenguins >/dev/null) || {
  echo "cannot download r-cran-palmerpenguins: run 'apt-get update' (as root) and retry" >&2
  exit 1
}
dpkg -x "$work"/r-cran-palmerpenguins_*.deb "$work/root"
csv=$(find "$work/root" -path '*extdata/penguins.csv' -print -quit)
if [[ -z "$csv" ]]; then
  echo "extdata/penguins.csv is not in the package" >&2
  exit 1
fi
cp "$csv" "$dir/penguins.csv"
echo "$dir/penguins.csv ($(($(wc -l <"$dir/penguins.csv") - 1)) rows)"
