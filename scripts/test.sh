#!/usr/bin/env bash
# The test command of the README: installs what is missing, builds, runs every test, then checks
# that no log of the run (test output, child-process logs) holds an unmasked person ID.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build --build-tests
mkdir -p .build/test-logs
rm -f .build/test-logs/*.log
status=0
swift test --skip-build "$@" 2>&1 | tee .build/test-logs/swift-test.log || status=$?
scripts/scan-pii.sh .build/test-logs
exit "$status"
