#!/usr/bin/env bash
# Installs everything strike needs from Debian's packages (idempotent; run as root on Debian 12).
# Extra package names given as arguments are installed too (tools that only a bench needs).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev                      # LibTorch 1.13 (CPU)
  libopenblas0-openmp               # an optimized BLAS behind libblas.so.3 (Debian's default is the reference BLAS:
                                    # the text transformer ran ~10x slower on it); the OpenMP build follows torch's threads
  libopenmpi-dev openmpi-bin        # MPI ranks (openmpi-bin: mpirun, mpicc as used by tests/e2e/netns_smoke.sh)
  slurmctld slurmd slurm-client munge  # a real single-node Slurm 22.05 for tests/e2e/slurm_cluster.sh; its mpi/pmix plugin
                                    # (slurm-wlm-basic-plugins) loads libpmix2's PMIx, the one Open MPI uses (libopenmpi3 -> libpmix2)
  iproute2                          # `ip netns`/bridges: the two test hosts of tests/e2e/netns_hosts.sh (unshare, hostname: essential)
  libhdf5-dev                       # shards and checkpoints
  libboost-dev                      # Boost.Asio (coordination service)
  libgtest-dev                      # tests
  libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libpng-dev libjpeg62-turbo-dev zlib1g-dev
  libfast-float-dev                 # number parsing of CSV conversion (dataset_tools/tabular_schema.cpp)
  dataset-fashion-mnist             # the embedded default data set
  libsentencepiece-dev              # the text tokenizer (dataset_tools/tokenizer.cpp)
  python3-torch python3-torchvision python3-h5py python3-numpy  # references for tests and benchmarks
  python3-sentencepiece python3-pandas  # the Python reference of bench/run_text_convert_bench.sh
  time                              # peak-memory figures in bench/
)

packages+=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages: ${missing[*]}; run this script as root" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
