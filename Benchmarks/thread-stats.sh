#!/usr/bin/env bash
# Records one benchmark worker's threads at SIGTERM (BENCHMARKS.md "Where the CPU goes"):
# `Benchmarks/thread-stats.sh OUT WORKER ARGS...` as an `e2e.sh` worker template. OUT gets one line
# per thread: name|voluntary context switches|involuntary ones|user+system CPU ticks. SIGTERM is then
# passed to the worker, and the exit status is the worker's.
set -uo pipefail
out=$1
shift
"$@" &
worker=$!
record() {
  for task in /proc/"$worker"/task/*; do
    local stat name
    # A thread can end while the loop reads: skip it.
    stat=$(cat "$task/stat" 2>/dev/null) && name=$(cat "$task/comm" 2>/dev/null) || continue
    # Fields after the parenthesised name: 14th and 15th of stat are utime and stime.
    read -r -a fields <<<"${stat##*) }"
    echo "$name|$(awk '/^voluntary_ctxt/ {print $2}' "$task/status" 2>/dev/null)|$(awk '/^nonvoluntary_ctxt/ {print $2}' "$task/status" 2>/dev/null)|$((fields[11] + fields[12]))"
  done >"$out"
}
trap 'record; kill -TERM "$worker" 2>/dev/null' TERM INT
wait "$worker"
code=$?
# A wait interrupted by the trapped signal returns >128: wait again for the real exit status.
while [ "$code" -gt 128 ] && kill -0 "$worker" 2>/dev/null; do wait "$worker"; code=$?; done
exit "$code"
