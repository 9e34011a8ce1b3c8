#!/usr/bin/env bash
# Runs the fault matrix (in-process faults and multi-process fleet scenarios) on each client
# library CI tests — Debian's librdkafka 2.0.2 and 2.16 from PyPI (scripts/second-library.sh), the
# latter also on the tansu broker — and writes the measured outcome into docs/RELIABILITY.md,
# between the reliability-table markers: one column per library, with its rebalance protocol.
# BAOCUO_RELIABILITY_EXTRA_216="range,roundrobin" adds a column: 2.16 with eager rebalancing (the
# rebalance rows, on the mock and on tansu; the workers get the strategy through FleetReport).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/second-library.sh
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
swift build --build-tests
matrix='RouterFaultTests|FleetProcessTests|HostileInputTests|Weekly.*Crash|Weekly.*Race'
status=0
BAOCUO_RELIABILITY_REPORT="$reports/1-2.0.2.jsonl" swift test --skip-build --filter "$matrix" || status=1
LD_LIBRARY_PATH="$PWD/.build/librdkafka-2.16" BAOCUO_TANSU="$PWD/.build/tansu/tansu" BAOCUO_RELIABILITY_REPORT="$reports/2-2.16.jsonl" \
  swift test --skip-build --filter "$matrix|TansuBrokerTests" || status=1
if [ -n "${BAOCUO_RELIABILITY_EXTRA_216:-}" ]; then
  LD_LIBRARY_PATH="$PWD/.build/librdkafka-2.16" BAOCUO_TANSU="$PWD/.build/tansu/tansu" \
    BAOCUO_KAFKA_PROPERTY_PARTITION_ASSIGNMENT_STRATEGY="$BAOCUO_RELIABILITY_EXTRA_216" BAOCUO_RELIABILITY_REPORT="$reports/3-2.16-eager.jsonl" \
    swift test --skip-build --filter 'FleetProcessTests/(aRebalanceStorm|scalingOut)|TansuBrokerTests/scalingOut' || status=1
fi
python3 - "$reports" docs/RELIABILITY.md <<'PY'
import json, sys, datetime, platform, os, glob
rows = [json.loads(line) for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.jsonl"))) for line in open(path) if line.strip()]
doc = sys.argv[2]
columns = []   # (library, rebalance protocol) in the order measured
scenarios = {} # scenario -> (injected, inputs, {column: row})
for r in rows:
    column = (r.get("library", "2.0.2"), r.get("rebalance", "eager"))
    if column not in columns:
        columns.append(column)
    name = r["scenario"]
    entry = scenarios.setdefault(name, {"injected": r["injected"], "inputs": r["inputs"], "cells": {}})
    entry["cells"][column] = r
def cell(r):
    if r is None:
        return "–"
    recovery = f"{r['recoverySeconds']:.1f} s" if r.get("recoverySeconds", -1) >= 0 else "–"
    return f"{r['lost']} / {r['duplicated']:,} / {recovery}"
header = " | ".join(f"librdkafka {lib}, {rebalance}" for lib, rebalance in columns)
extra = os.environ.get("BAOCUO_RELIABILITY_EXTRA_216")
command = f"BAOCUO_RELIABILITY_EXTRA_216={extra} scripts/reliability.sh" if extra else "scripts/reliability.sh"
lines = [
    f"Measured {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %z')} on {platform.node()} "
    f"({os.cpu_count()} cores) by `{command}`, one run per cell. Each library column: lost / duplicated / recovered in. "
    "Every row runs on librdkafka's mock cluster of that library, except the tansu rows (the tansu 0.6 broker, which "
    "librdkafka 2.0.2 cannot talk to). Incremental: `cooperative-sticky`, the default on librdkafka ≥ 2.4; eager: "
    "`range,roundrobin`, the only protocol on 2.0.2"
    + (f" and, in the last column, chosen on 2.16 (`kafka.properties.partition.assignment.strategy: {extra}`) for the rebalance rows." if extra else "."),
    "",
    f"| scenario | injected | input records | {header} |",
    "|---|---|---|" + "---|" * len(columns),
]
for name, entry in scenarios.items():
    cells = " | ".join(cell(entry["cells"].get(column)) for column in columns)
    lines.append(f"| {name} | {entry['injected']} | {entry['inputs']:,} | {cells} |")
table = "\n".join(lines)
start, end = "<!-- reliability-table:start -->", "<!-- reliability-table:end -->"
text = open(doc).read() if os.path.exists(doc) else "# Reliability\n"
if start in text and end in text:
    text = text[:text.index(start) + len(start)] + "\n" + table + "\n" + text[text.index(end):]
else:
    text = text.rstrip() + "\n\n## Fault matrix (measured)\n\n" + start + "\n" + table + "\n" + end + "\n"
open(doc, "w").write(text)
print(table)
lost = sum(r["lost"] for r in rows)
sys.exit(1 if lost else 0)
PY
exit "$status"
