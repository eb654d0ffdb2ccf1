#!/usr/bin/env bash
# The benchmark command (README "Benchmarks"); not part of the test run.
#
#   bash benchmarks/run.sh
#
# Sets up like the test command (Debian packages, Docker engine, Compose v2, .venv, stand-in
# images), then benchmarks/bench.py deploys two throwaway bare hosts and writes
# benchmarks/results/<date>.md (and latest.md). BENCH_REPEATS (5), BENCH_WINDOW (3 s per call
# window) and BENCH_WRITER_WINDOW (12 s) tune it; BENCH_KEEP_HOSTS=1 keeps the hosts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/test.sh setup-only
export MLOPS_CACHE="$root/.cache" MLOPS_IMAGE_CACHE="$root/.cache/images"
bash tests/images/build.sh
exec "$root/.venv/bin/python" benchmarks/bench.py
