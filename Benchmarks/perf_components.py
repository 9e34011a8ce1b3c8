#!/usr/bin/env python3
"""CPU per record by component, from `perf record` files of benchmark workers (BENCHMARKS.md "Where
the CPU goes").

    Benchmarks/perf_components.py --records 300000 baocuo=b1.data,b2.data routepass=r1.data,r2.data

Each NAME=FILES is one worker; its files are runs of it (Benchmarks/observe-worker.sh --perf as the
e2e.sh worker, `perf record -F 2999`, cpu-clock). A sample is 1/2999 s of one thread's CPU. The table gives
the median over a worker's runs of µs per input record, per component, and each worker's total;
`--threads` gives the same by thread instead of by code.
"""

import argparse
import re
import statistics
import subprocess
import sys

SAMPLE_HZ = 2999
LINE = re.compile(r"^\s*(?P<comm>\S+)\s+(?P<ip>[0-9a-f]+)\s+(?P<sym>.*?)\s+\((?P<dso>[^()]*)\)\s*$")

KERNEL_SCHEDULING = re.compile(
    r"finish_task_switch|__schedule|schedule|_raw_spin_unlock_irqrestore|try_to_wake_up|futex|"
    r"irqentry_exit_to_user_mode|exit_to_user_mode|pick_next|enqueue_task|dequeue_task|update_curr|"
    r"switch_mm|__switch_to|ttwu|select_task_rq|hrtimer|poll_schedule|do_sys_poll|ep_poll|pipe_|eventfd")
KERNEL_NETWORK = re.compile(
    r"_copy_from_iter|_copy_to_iter|copy_user|tcp_|skb|sock|__sys_sendmsg|__sys_recvmsg|___sys_|"
    r"____sys_|ip_|__ip|net_|netif|loopback|__dev_queue_xmit|dev_hard_start|process_backlog|inet_|"
    r"release_sock|__release_sock|lock_sock|csum|validate_xmit|__napi|napi_|__kfree_skb|kmem_cache|"
    r"__alloc_skb|page_frag|__local_bh_enable|do_softirq|__softirqentry")
KERNEL_MEMORY = re.compile(
    r"page_fault|clear_page|anonymous_page|handle_mm_fault|__handle_mm_fault|folio|lru|zap_|unmap|"
    r"madvise|mmap|munmap|alloc_pages|__alloc_pages|get_page_from_freelist|free_pages|free_unref|"
    r"release_pages|memcg|mem_cgroup|pte|pmd|tlb|vma")
LIBC_COPY = re.compile(r"mem(move|cpy|set|cmp|chr)|__memmove|__memcpy|__memset|__memcmp|str(len|cmp|chr)")
LIBC_MALLOC = re.compile(r"malloc|free|_int_|unlink_chunk|realloc|calloc|tcache|sysmalloc|memalign|arena|trim")
LIBC_LOCKS = re.compile(r"pthread_|lll_|futex|mutex|cond_|rwlock|sem_")

# The report's order and wording.
COMPONENTS = [
    "routing engine: parse, validate, classify, encode",
    "worker code: batching, fan-out, offsets, delivery reports",
    "Swift runtime: retain/release, hashing, tasks",
    "librdkafka",
    "libc: memcpy/memmove",
    "libc: malloc/free",
    "libc: locks, other",
    "kernel: scheduling, wake-ups, futex, poll",
    "kernel: TCP (loopback send/receive, copies)",
    "kernel: page faults, memory",
    "kernel: other (syscall entry, timers, ...)",
    "other (vdso, zlib, ld.so)",
]


def component(dso: str, sym: str) -> str:
    if dso.startswith("[kernel"):
        if KERNEL_MEMORY.search(sym):
            return COMPONENTS[9]
        if KERNEL_NETWORK.search(sym):
            return COMPONENTS[8]
        if KERNEL_SCHEDULING.search(sym):
            return COMPONENTS[7]
        return COMPONENTS[10]
    base = dso.rsplit("/", 1)[-1]
    if base.startswith("librdkafka"):
        return COMPONENTS[3]
    if base.startswith(("libswift", "libdispatch", "libFoundation", "libBlocksRuntime")):
        return COMPONENTS[2]
    if base.startswith("libc.so") or base.startswith("libc-"):
        if LIBC_COPY.search(sym):
            return COMPONENTS[4]
        if LIBC_MALLOC.search(sym):
            return COMPONENTS[5]
        return COMPONENTS[6]
    if base.startswith(("baocuo", "routepass", "passthrough")):
        if "BaocuoDomain" in sym:
            return COMPONENTS[0]
        if sym.startswith(("swift_", "$ss")):  # runtime entry points and stdlib specialisations in the binary
            return COMPONENTS[2]
        return COMPONENTS[1]
    return COMPONENTS[11]


def thread_class(comm: str) -> str:
    if comm.startswith("rdk:broker"):
        return "librdkafka broker threads"
    if comm.startswith("rdk:"):
        return "librdkafka main/other threads"
    if comm.endswith("overcommit"):
        return "dispatch threads (blocking polls, delivery reports)"
    if comm.endswith("default-qos"):
        return "Swift cooperative pool (router)"
    return "worker main thread"


def samples(path: str, by_thread: bool) -> dict:
    script = subprocess.run(
        ["perf", "script", "-i", path, "-F", "comm,ip,sym,dso", "-G"],
        check=True, capture_output=True, text=True, errors="replace").stdout
    counts: dict = {}
    for line in script.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        key = thread_class(match["comm"]) if by_thread else component(match["dso"], match["sym"])
        counts[key] = counts.get(key, 0) + 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, required=True, help="input records per run")
    parser.add_argument("--threads", action="store_true", help="by thread instead of by code")
    parser.add_argument("workers", nargs="+", metavar="NAME=FILE[,FILE...]")
    arguments = parser.parse_args()

    per_worker = {}
    for spec in arguments.workers:
        name, _, files = spec.partition("=")
        runs = [samples(path, arguments.threads) for path in files.split(",")]
        per_worker[name] = runs

    def micros(count: int) -> float:
        return count / SAMPLE_HZ / arguments.records * 1e6

    keys = COMPONENTS if not arguments.threads else sorted({k for runs in per_worker.values() for run in runs for k in run})
    names = list(per_worker)
    print("µs per input record, median of runs (" + ", ".join(f"{n}: {len(per_worker[n])}" for n in names) + ")")
    header = ["component" if not arguments.threads else "threads"] + names
    rows = []
    for key in keys:
        values = [statistics.median(micros(run.get(key, 0)) for run in per_worker[n]) for n in names]
        if any(v >= 0.005 for v in values):
            rows.append([key] + [f"{v:.2f}" for v in values])
    totals = [statistics.median(micros(sum(run.values())) for run in per_worker[n]) for n in names]
    rows.append(["total"] + [f"{v:.2f}" for v in totals])
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
