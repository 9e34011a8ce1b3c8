#!/usr/bin/env bash
# Fails when a log holds a person ID of the sample reports unmasked (CONTRACT: person IDs are PII).
# Usage: scripts/scan-pii.sh LOG_FILE_OR_DIR...   (directories are scanned recursively)
# The IDs are every GB 11643-valid ID in the sample report files and the test sources; a hit is reported by file,
# line and masked ID, never the ID itself, so that the scan's own output stays clean.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || { echo "usage: $0 LOG_FILE_OR_DIR..." >&2; exit 2; }

ids=$(mktemp)
trap 'rm -f "$ids"' EXIT
# Every GB 11643-valid ID written in the sample files and the tests' sources.
find Demo Tests \( -name '*.jsonl' -o -name '*.swift' \) -print0 \
  | xargs -0 grep -ohE '(^|[^0-9])[0-9]{17}[0-9Xx]([^0-9]|$)' | grep -oE '[0-9]{17}[0-9Xx]' | sort -u \
  | python3 -c '
import sys
weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
for line in sys.stdin:
    id = line.strip()
    check = "10X98765432"[sum(int(d) * w for d, w in zip(id[:17], weights)) % 11]
    if id[17].upper() == check:
        print(id)
' > "$ids"
[ -s "$ids" ] || { echo "scan-pii: no person IDs found in the sample files" >&2; exit 2; }

logs=()
for target in "$@"; do
  [ -e "$target" ] && logs+=("$target")
done
if [ "${#logs[@]}" -eq 0 ]; then
  echo "scan-pii: nothing to scan" >&2
  exit 0
fi

# -o prints each matched ID; mask it (keep the region prefix and the last 4) before showing it.
hits=$(grep -rHnoF -f "$ids" "${logs[@]}" | sed -E 's/([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])$/\1********\2/' || true)
if [ -n "$hits" ]; then
  echo "scan-pii: unmasked person IDs of the sample reports in the logs ($(wc -l <<< "$hits") hits):" >&2
  head -n 20 <<< "$hits" >&2
  exit 1
fi
echo "scan-pii: $(wc -l < "$ids") sample person IDs, none unmasked in ${#logs[@]} log location(s)"
