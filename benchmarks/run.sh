#!/usr/bin/env bash
# The benchmark command (README "Benchmarks"); not part of the test run.
#
#   bash benchmarks/run.sh
#
# Sets up like the test command (Debian packages, Docker engine, Compose v2, .venv, stand-in
# images), then benchmarks/bench.py deploys two throwaway bare hosts and writes
# benchmarks/results/<date>.md (and latest.md). BENCH_REPEATS (5), BENCH_WINDOW (3 s per call
# window), BENCH_WRITER_WINDOW (60 s), BENCH_FIGURES (1,2,3,4,5), BENCH_ARTIFACT_MIB (256,1024,2048)
# and BENCH_MIGRATION_SHAPE (100,10,1000: runs, metrics, steps) tune it; BENCH_KEEP_HOSTS=1
# keeps the hosts, BENCH_REUSE_HOSTS=1 uses kept ones, and BENCH_RESUME=1 (with kept hosts)
# finishes today's interrupted run: figures already in results/<date>.json are not measured again;
# with BENCH_REMEASURE=1,2 (fresh hosts) it measures those figures again after a change and
# keeps today's others, and the report says which figures were measured when; BENCH_RESUME_FROM
# (a date, YYYY-MM-DD) resumes that day's report instead of today's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/test.sh setup-only
export MLOPS_CACHE="$root/.cache" MLOPS_IMAGE_CACHE="$root/.cache/images" PATH="$root/.venv/bin:$PATH"
bash tests/images/build.sh
if [ "${1:-}" = arena ]; then  # benchmarks/arena.py: the MALLOC_ARENA_MAX side by side
  exec "$root/.venv/bin/python" benchmarks/arena.py
fi
exec "$root/.venv/bin/python" benchmarks/bench.py
