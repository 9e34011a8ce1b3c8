#!/usr/bin/env bash
# Observes one benchmark worker (BENCHMARKS.md "Where the CPU goes"); an `e2e.sh` worker template:
#   Benchmarks/observe-worker.sh [--perf OUT.data] [--threads OUT.txt] WORKER ARGS...
# --perf     `perf record -F 2999` (cpu-clock, every thread), attached once the worker has started so
#            that start-up's exec stays out; read the files with Benchmarks/perf_components.py.
# --threads  at SIGTERM, one line per thread: name|voluntary|involuntary context switches|CPU ticks.
# SIGTERM is passed to the worker, and the exit status is the worker's.
set -uo pipefail
perf_out=""
threads_out=""
while [ $# -gt 0 ]; do
  case $1 in
    --perf) perf_out=$2; shift 2 ;;
    --threads) threads_out=$2; shift 2 ;;
    *) break ;;
  esac
done
"$@" &
worker=$!
recorder=""
if [ -n "$perf_out" ]; then
  sleep 0.2
  perf record --quiet -F 2999 -p "$worker" -o "$perf_out" >/dev/null 2>&1 &
  recorder=$!
fi
record_threads() {
  for task in /proc/"$worker"/task/*; do
    local stat name
    # A thread can end while the loop reads: skip it.
    stat=$(cat "$task/stat" 2>/dev/null) && name=$(cat "$task/comm" 2>/dev/null) || continue
    # The fields after the parenthesised name; stat's 14th and 15th are utime and stime.
    read -r -a fields <<<"${stat##*) }"
    echo "$name|$(awk '/^voluntary_ctxt/ {print $2}' "$task/status" 2>/dev/null)|$(awk '/^nonvoluntary_ctxt/ {print $2}' "$task/status" 2>/dev/null)|$((fields[11] + fields[12]))"
  done >"$threads_out"
}
trap '[ -n "$threads_out" ] && record_threads; kill -TERM "$worker" 2>/dev/null' TERM INT
wait "$worker"
code=$?
# A wait interrupted by the trapped signal returns >128: wait again for the real exit status.
while [ "$code" -gt 128 ] && kill -0 "$worker" 2>/dev/null; do wait "$worker"; code=$?; done
if [ -n "$recorder" ]; then
  kill -INT "$recorder" 2>/dev/null
  wait "$recorder"
fi
exit "$code"
