#!/usr/bin/env bash
# The test command of the README: installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build --build-tests
# A bounded libFuzzer run over the domain (Fuzz/run.sh; about 2 minutes with its build), before
# the tests so that `swift test`'s summary stays the last thing printed.
mkdir -p .build/fuzz
if ! Fuzz/run.sh --bounded > .build/fuzz/bounded.log 2>&1; then
  tail -n 60 .build/fuzz/bounded.log
  echo "fuzz: FAILED (log: .build/fuzz/bounded.log)"
  exit 1
fi
echo "fuzz: $(grep -m1 '^Done ' .build/fuzz/bounded.log)"
swift test --skip-build --parallel --num-workers 2 "$@"
