#!/usr/bin/env bash
# Samples one benchmark worker with `perf record` (BENCHMARKS.md "Where the CPU goes"):
# `Benchmarks/perf-record.sh OUT.data WORKER ARGS...` as an `e2e.sh` worker template. perf attaches
# once the worker has started (start-up's exec stays out of the profile), SIGTERM is passed to the
# worker, and the exit status is the worker's. Read the files with Benchmarks/perf_components.py.
set -uo pipefail
out=$1
shift
"$@" &
worker=$!
sleep 0.2
perf record --quiet -F 2999 -p "$worker" -o "$out" >/dev/null 2>&1 &
recorder=$!
trap 'kill -TERM "$worker" 2>/dev/null' TERM INT
wait "$worker"
code=$?
# A wait interrupted by the trapped signal returns >128: wait again for the real exit status.
while [ "$code" -gt 128 ] && kill -0 "$worker" 2>/dev/null; do wait "$worker"; code=$?; done
kill -INT "$recorder" 2>/dev/null
wait "$recorder"
exit "$code"
