#!/usr/bin/env python3
"""Latency and memory of `baocuo run` under a steady offered load (BENCHMARKS.md, "Latency and
memory").

    python3 Benchmarks/soak.py --baocuo .build/release/baocuo --data REPORTS.jsonl \
        --rate 10000 --seconds 60 [--bench ../shared/bench] [--workers 1]

Starts the shared bench's mock cluster (same topics as e2e.sh: 64 input partitions, one 4-partition
inbox per pooling region), starts the worker(s), waits until every worker is ready
(/health/ready), then produces REPORTS.jsonl (cycled) into yb.settlement.failures at --rate
records/s for --seconds, paced every 10 ms. Each record's Kafka timestamp is its produce time: the
ingest timestamp.

Measures, over the load only (the histogram is read before and after, so the group join is left
out):
- ingest-to-acknowledgement latency from the worker's own `baocuo_ingest_to_ack_seconds`
  histogram (every input record, from its timestamp to the broker's acknowledgement of its first
  output: the owner copy, or its dead letter); p50/p90/p99 are interpolated within buckets;
- the worker's resident set size every second (VmRSS of /proc/PID/status);
- whether the worker kept up: its committed offsets reach the end within 30 s of the load's end;
- per window of the load (--window-seconds): p50/p99 and the mock cluster's CPU share. The mock
  (librdkafka 2.0.2) finds a fetch's offset by walking the partition's whole list of retained
  batches and answers one batch per partition per fetch, so its cost grows with the retained log
  until its ~5 MB retention caps it; fewer, larger input batches (--input-partitions) cut that
  quadratically. A real broker's offset index makes it logarithmic.

Needs Python 3 with confluent-kafka and the bench's build/mockcluster (`make -C BENCH`).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition

INPUT = "yb.settlement.failures"
LATENCY = "baocuo_ingest_to_ack_seconds"
PRODUCE_LATENCY = "baocuo_produce_latency_seconds"


def log(message):
    print("soak: " + message, file=sys.stderr, flush=True)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def histogram(port, name=LATENCY):
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
    bucket = re.compile(r'^%s_bucket\{le="([^"]+)"\} (\d+)' % name, re.M)
    return {float(le): int(count) for le, count in bucket.findall(body)}


def ready(port):
    try:
        return urllib.request.urlopen("http://127.0.0.1:%d/health/ready" % port, timeout=2).status == 200
    except OSError:
        return False


def quantile(buckets, q):
    """Linear interpolation inside the cumulative bucket holding the q-quantile (Prometheus's way)."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total == 0:
        return None
    rank, previous_bound, previous_count = q * total, 0.0, 0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return previous_bound
            return previous_bound + (bound - previous_bound) * (rank - previous_count) / max(1, count - previous_count)
        previous_bound, previous_count = bound, count
    return bounds[-1]


def difference(before, after):
    """Bucket counts added between two scrapes, summed over the workers."""
    buckets = {}
    for b, a in zip(before, after):
        for bound, count in a.items():
            buckets[bound] = buckets.get(bound, 0) + count - b.get(bound, 0)
    return buckets


def window_quantiles(buckets):
    """p50/p99 in ms of one histogram difference, or None when it holds no records."""
    if not buckets.get(float("inf")):
        return None, None
    return round(1000 * quantile(buckets, 0.5), 1), round(1000 * quantile(buckets, 0.99), 1)


def close_window(windows, window_start, now, start, workers, cluster_cpu_seconds):
    """Appends the window since `window_start` (time, histograms, mock CPU) and returns the next one's start.
    The mock cluster's CPU share shows when the broker, not the worker, is the limit."""
    started, histograms, cluster_cpu = window_start
    current = [histogram(port) for _, port in workers]
    current_cpu = cluster_cpu_seconds()
    p50, p99 = window_quantiles(difference(histograms, current))
    windows.append({"until_s": round(now - start, 1), "p50_ms": p50, "p99_ms": p99,
                    "mock_cpu": round((current_cpu - cluster_cpu) / (now - started), 2)})
    return now, current, current_cpu


def committed_total(brokers, group, partitions):
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": group, "enable.auto.commit": False, "log_level": 3})
    offsets = consumer.committed([TopicPartition(INPUT, p) for p in range(partitions)], timeout=10)
    end = sum(consumer.get_watermark_offsets(TopicPartition(INPUT, p), timeout=10)[1] for p in range(partitions))
    consumer.close()
    return sum(max(0, tp.offset) for tp in offsets), end


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baocuo", required=True, help="the baocuo binary")
    parser.add_argument("--data", required=True, help="report JSON lines (gen_reports.py), cycled")
    parser.add_argument("--rate", type=int, default=10000, help="offered records per second")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--bench", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench"))
    parser.add_argument("--loader-linger-ms", type=int, default=1)
    parser.add_argument("--input-partitions", type=int, default=64,
                        help="partitions of the input topic (e2e.sh's 64 by default)")
    parser.add_argument("--window-seconds", type=float, default=10,
                        help="also report p50/p99 and the mock cluster's CPU share per window of the load")
    parser.add_argument("--json", help="also write the summary here")
    args = parser.parse_args()

    sys.path.insert(0, args.bench)
    import harness  # the bench's topic list and mock-cluster runner, so soak and e2e share a topology

    with open(args.data, "rb") as f:
        lines = [line.rstrip(b"\n") for line in f if line.strip()]
    report_id = re.compile(rb'"reportId"\s*:\s*"([^"]*)"')
    keys = [match.group(1) if (match := report_id.search(line)) else None for line in lines]
    run_dir = os.path.abspath("soak-run")
    os.makedirs(run_dir, exist_ok=True)
    topics_file = os.path.join(run_dir, "topics.txt")
    with open(topics_file, "w") as f:
        f.write("\n".join(harness.topic_specs(args.input_partitions, 4)) + "\n")
    cluster = harness.MockCluster(os.path.join(args.bench, "build", "mockcluster"), 3, topics_file,
                                  os.path.join(run_dir, "cluster.log"))
    group = "soak-%d" % int(time.time())
    workers = []
    try:
        for index in range(args.workers):
            port = 19464 + index
            log_file = open(os.path.join(run_dir, "worker-%d.log" % index), "wb")
            workers.append((subprocess.Popen([args.baocuo, "run", "--brokers", cluster.bootstraps, "--group", group,
                                              "--http-port", str(port), "--no-scheduler"],
                                             stdout=log_file, stderr=subprocess.STDOUT, preexec_fn=harness.die_with_parent), port))
        deadline = time.monotonic() + 60
        while not all(ready(port) for _, port in workers):
            if time.monotonic() > deadline:
                raise RuntimeError("workers not ready within 60 s (logs in %s)" % run_dir)
            time.sleep(0.2)
        before = [histogram(port) for _, port in workers]
        produce_before = [histogram(port, PRODUCE_LATENCY) for _, port in workers]
        log("%d worker(s) ready; offering %d records/s for %.0f s" % (args.workers, args.rate, args.seconds))

        producer = Producer({"bootstrap.servers": cluster.bootstraps, "linger.ms": args.loader_linger_ms,
                             "queue.buffering.max.messages": 1000000, "log_level": 3})
        tick, produced, index = 0.01, 0, 0
        rss = {pid: [] for pid in (w.pid for w, _ in workers)}
        start = time.monotonic()
        next_sample = start
        cluster_cpu_seconds = lambda: harness.cpu_seconds(cluster.proc.pid)
        windows, window_start = [], (start, before, cluster_cpu_seconds())
        while True:
            now = time.monotonic()
            elapsed = now - start
            if elapsed >= args.seconds:
                break
            due = min(int(elapsed * args.rate) + int(tick * args.rate), int(args.seconds * args.rate))
            while produced < due:
                line = lines[index]
                producer.produce(INPUT, value=line, key=keys[index])
                produced += 1
                index = (index + 1) % len(lines)
            producer.poll(0)
            if now >= next_sample:
                for pid in rss:
                    rss[pid].append(rss_kib(pid))
                next_sample += 1
            if now - window_start[0] >= args.window_seconds:
                window_start = close_window(windows, window_start, now, start, workers, cluster_cpu_seconds)
            time.sleep(max(0, tick - (time.monotonic() - now)))
        if time.monotonic() - window_start[0] >= 1:
            close_window(windows, window_start, time.monotonic(), start, workers, cluster_cpu_seconds)
        producer.flush(30)
        load_seconds = time.monotonic() - start
        caught_up, done, end = False, 0, produced
        for _ in range(300):
            done, end = committed_total(cluster.bootstraps, group, args.input_partitions)
            if done >= end:
                caught_up = True
                break
            time.sleep(0.1)
        lag_after_load = end - done
        buckets = difference(before, [histogram(port) for _, port in workers])
        produce_buckets = difference(produce_before, [histogram(port, PRODUCE_LATENCY) for _, port in workers])
        summary = {
            "offered_per_s": args.rate, "achieved_per_s": round(produced / load_seconds), "records": produced,
            "workers": args.workers, "caught_up": caught_up, "lag_after_load": lag_after_load,
            "latency_count": buckets.get(float("inf"), 0),
            "p50_ms": None, "p90_ms": None, "p99_ms": None,
            "within_50ms": None,
            "rss_mib": {},
            "windows": windows,
        }
        if summary["latency_count"]:
            for q, name in ((0.5, "p50_ms"), (0.9, "p90_ms"), (0.99, "p99_ms")):
                summary[name] = round(1000 * quantile(buckets, q), 1)
            summary["within_50ms"] = round(buckets.get(0.05, 0) / summary["latency_count"], 4)
        if produce_buckets.get(float("inf")):
            summary["produce_p50_ms"] = round(1000 * quantile(produce_buckets, 0.5), 1)
            summary["produce_p99_ms"] = round(1000 * quantile(produce_buckets, 0.99), 1)
        for pid, samples in rss.items():
            samples = [s for s in samples if s]
            if samples:
                third = max(1, len(samples) // 3)
                summary["rss_mib"][str(pid)] = {
                    "first": round(samples[0] / 1024, 1), "max": round(max(samples) / 1024, 1),
                    "median_first_third": round(sorted(samples[:third])[len(samples[:third]) // 2] / 1024, 1),
                    "median_last_third": round(sorted(samples[-third:])[len(samples[-third:]) // 2] / 1024, 1),
                    "last": round(samples[-1] / 1024, 1), "samples": len(samples)}
        print(json.dumps(summary))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(summary, f)
        return 0 if caught_up else 1
    finally:
        for worker, _ in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker, _ in workers:
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
