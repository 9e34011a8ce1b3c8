#!/usr/bin/env bash
# Runs the fault matrix (in-process faults and multi-process fleet scenarios on the mock cluster)
# and writes its measured outcome into docs/RELIABILITY.md, between the reliability-table markers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
report=$(mktemp)
trap 'rm -f "$report"' EXIT
swift build --build-tests
BAOCUO_RELIABILITY_REPORT="$report" swift test --skip-build \
  --filter 'RouterFaultTests|FleetProcessTests|HostileInputTests|Weekly.*Crash|Weekly.*Race'
python3 - "$report" docs/RELIABILITY.md <<'PY'
import json, sys, datetime, platform, os
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
doc = sys.argv[2]
lines = [
    f"Measured {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %z')} on {platform.node()} "
    f"({os.cpu_count()} cores) by `scripts/reliability.sh`.",
    "",
    "| scenario | injected | input records | owner copies | dead letters | lost | duplicated | recovered in |",
    "|---|---|---|---|---|---|---|---|",
]
for r in rows:
    recovery = f"{r['recoverySeconds']:.1f} s" if r.get("recoverySeconds", -1) >= 0 else "–"
    lines.append(f"| {r['scenario']} | {r['injected']} | {r['inputs']:,} | {r['ownerCopies']:,} | {r['deadLetters']:,} "
                 f"| {r['lost']} | {r['duplicated']:,} | {recovery} |")
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
