#!/usr/bin/env bash
# Runs N `baocuo run` processes of one consumer group as one benchmark worker (BENCHMARKS.md
# "Fleet scaling"): `Benchmarks/fleet.sh N BAOCUO run --brokers ... --group ...`. Each gets its own
# HTTP port (0); SIGTERM is passed to all, and the exit status is the first non-zero one.
set -uo pipefail
count=$1
shift
pids=()
for _ in $(seq "$count"); do
  "$@" --http-port 0 &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null' TERM INT
status=0
for pid in "${pids[@]}"; do
  wait "$pid"
  code=$?
  # A wait interrupted by the trapped signal returns >128: wait again for the real exit status.
  while [ "$code" -gt 128 ] && kill -0 "$pid" 2>/dev/null; do wait "$pid"; code=$?; done
  [ "$status" -eq 0 ] && status=$code
done
exit "$status"
