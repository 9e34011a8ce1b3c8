#!/usr/bin/env python3
"""Writes Deploy/topics.txt and Deploy/acls.txt from Config/regions.csv (CONTRACT §1).

Both files are generated so that the 401 agency topics, their ACLs and the region table can never
drift apart: after editing Config/regions.csv, run this script and commit all three files.
Deploy/validate.sh regenerates them into a temporary folder and fails on any difference.

    Deploy/generate-topics.py [--regions Config/regions.csv] [--output-dir Deploy] [--prefix yb.]
"""

import argparse
import csv
import re
import sys
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent
REPO_DIR = DEPLOY_DIR.parent

# The ingest topic's partition count is the ceiling of useful workers (RUNBOOK.md: Scale).
INGEST_PARTITIONS = 16
DAY_MS = 24 * 60 * 60 * 1000
# Routed records embed the report (up to the 1 MiB record limit) plus routing fields and headers;
# the worker's producer allows 1 MiB + 64 KiB (1,114,112 bytes), so the topics must accept that.
LARGE_RECORD = "max.message.bytes=1115000"
# Replays and re-drives read the ingest topic back: keep a month of it.
INGEST_RETENTION = f"retention.ms={30 * DAY_MS}"
# Dead letters wait for a rules or region-table fix and a re-drive.
DLQ_RETENTION = f"retention.ms={90 * DAY_MS}"
OPS_RETENTION = f"retention.ms={30 * DAY_MS}"
# Weekly batches are rebuilt from the inboxes and resolutions, and returns carry unresolved reports
# over from earlier weeks: keep a year of history plus a margin.
HISTORY_RETENTION = f"retention.ms={400 * DAY_MS}"

REGION_CODE = re.compile(r"^[0-9]{6}$")


def read_regions(path):
    """Pooling-region codes and province codes (`XX0000`), sorted, validated."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    regions, provinces = set(), set()
    for line, row in enumerate(rows, start=2):
        code, province = row.get("code", ""), row.get("province_code", "")
        if not REGION_CODE.match(code) or not REGION_CODE.match(province) or not province.endswith("0000"):
            sys.exit(f"{path}:{line}: expected 6-digit code and XX0000 province_code, got {code!r}, {province!r}")
        if code in regions:
            sys.exit(f"{path}:{line}: duplicate region {code}")
        regions.add(code)
        provinces.add(province)
    if not regions:
        sys.exit(f"{path}: no regions")
    return sorted(regions), sorted(provinces)


def topic_lines(prefix, regions, provinces):
    """`name partitions [config=value ...]`, in the order of CONTRACT §1."""
    lines = [
        f"{prefix}settlement.failures {INGEST_PARTITIONS} {INGEST_RETENTION} {LARGE_RECORD}",
        f"{prefix}settlement.failures.dlq 4 {DLQ_RETENTION} {LARGE_RECORD}",
        f"{prefix}ops.incidents 4 {OPS_RETENTION} {LARGE_RECORD}",
        f"{prefix}agency.resolutions 4 {HISTORY_RETENTION}",
        f"{prefix}agency.resolutions.dlq 1 {DLQ_RETENTION} {LARGE_RECORD}",
        # Emission markers of the weekly scheduler: the latest marker per batch id is all that counts.
        f"{prefix}baocuo.batches 1 cleanup.policy=compact",
    ]
    for region in regions:
        lines.append(f"{prefix}agency.{region}.inbox 2 {HISTORY_RETENTION} {LARGE_RECORD}")
        lines.append(f"{prefix}agency.{region}.intake 1 {HISTORY_RETENTION}")
    for province in provinces:
        lines.append(f"{prefix}province.{province}.returns 1 {HISTORY_RETENTION}")
    return lines


def acl_lines(prefix, regions, provinces):
    """One `kafka-acls.sh --add` argument list per line (see Deploy/acls.md).

    READ implies DESCRIBE; WRITE on a topic implies cluster IDEMPOTENT_WRITE (Kafka ≥ 3.0).
    """
    prefixed = "--resource-pattern-type prefixed"
    lines = [
        # The worker owns the namespace: it reads the ingest topic, inboxes and resolutions, writes
        # every agency, province, ops and DLQ topic, and replays re-drive DLQs into their sources.
        f"--allow-principal User:baocuo --operation Read --operation Write --topic {prefix} {prefixed}",
        f"--allow-principal User:baocuo --operation Read --group baocuo- {prefixed}",
        f"--allow-principal User:baocuo --operation Write --operation Describe"
        f" --transactional-id {prefix}baocuo. {prefixed}",
        f"--allow-principal User:ops --operation Read --topic {prefix}ops.incidents",
        f"--allow-principal User:ops --operation Read --group ops- {prefixed}",
        # Hospitals report through their provincial platform; a hospital principal is added the same way.
        " ".join([f"--allow-principal User:platform-{p}" for p in provinces]
                 + [f"--operation Write --topic {prefix}settlement.failures"]),
        " ".join([f"--allow-principal User:agency-{r}" for r in regions]
                 + [f"--operation Write --topic {prefix}agency.resolutions"]),
    ]
    for region in regions:
        lines.append(f"--allow-principal User:agency-{region} --operation Read"
                     f" --topic {prefix}agency.{region}.inbox --topic {prefix}agency.{region}.intake")
        lines.append(f"--allow-principal User:agency-{region} --operation Read --group agency-{region}- {prefixed}")
    for province in provinces:
        lines.append(f"--allow-principal User:province-{province} --operation Read"
                     f" --topic {prefix}province.{province}.returns")
        lines.append(f"--allow-principal User:province-{province} --operation Read"
                     f" --group province-{province}- {prefixed}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=Path, default=REPO_DIR / "Config" / "regions.csv")
    parser.add_argument("--output-dir", type=Path, default=DEPLOY_DIR)
    parser.add_argument("--prefix", default="yb.", help="topic prefix (baocuo.yaml topicPrefix)")
    args = parser.parse_args()

    regions, provinces = read_regions(args.regions)
    header = "# Generated by Deploy/generate-topics.py from Config/regions.csv: do not edit by hand.\n"
    topics = topic_lines(args.prefix, regions, provinces)
    acls = acl_lines(args.prefix, regions, provinces)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "topics.txt").write_text(
        header + "# name partitions [topic-config=value ...]\n" + "\n".join(topics) + "\n", encoding="utf-8")
    (args.output_dir / "acls.txt").write_text(
        header + "# One kafka-acls.sh --add argument list per line; apply as shown in Deploy/acls.md.\n"
        + "\n".join(acls) + "\n", encoding="utf-8")
    print(f"{len(topics)} topics, {len(acls)} ACL commands for {len(regions)} regions"
          f" in {len(provinces)} provinces", file=sys.stderr)


if __name__ == "__main__":
    main()
