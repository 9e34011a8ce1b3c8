#!/usr/bin/env bash
# The test command of the README: installs what is missing, builds, runs a bounded fuzz pass and
# every test, then checks that no log of the run (test output, child-process logs) holds an
# unmasked person ID.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# docs/CONTRACT.md is the shared contract's copy that ships with the repository: it must not drift.
if [ -f ../shared/spec/CONTRACT.md ] && ! cmp -s ../shared/spec/CONTRACT.md docs/CONTRACT.md; then
  diff -u docs/CONTRACT.md ../shared/spec/CONTRACT.md | head -40
  echo "contract: docs/CONTRACT.md differs from ../shared/spec/CONTRACT.md; copy the shared one and adapt the code"
  exit 1
fi
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
# Benchmark smoke (correctness only, no timing): every stage of baocuo-bench once over the demo
# reports (routed and rejected ones), and every line routed or rejected the same way twice.
if ! .build/debug/baocuo-bench --config Config --repeat 1 --check Demo/reports.jsonl > .build/bench-smoke.log 2>&1; then
  cat .build/bench-smoke.log
  echo "benchmark smoke: FAILED"
  exit 1
fi
echo "benchmark smoke: $(grep -m1 '^check ' .build/bench-smoke.log)"
# The classifier on the corpus's evaluation batches (never trained on; Tests/Corpus/README.md):
# first scored 97.0 % and 98.0 %; the floor leaves room for two or three arguable lines.
if ! .build/debug/baocuo rules eval --config Config --min-accuracy 96 \
    --labelled Tests/Corpus/eval/J.jsonl --labelled Tests/Corpus/eval/K.jsonl > .build/classifier-eval.log 2>&1; then
  cat .build/classifier-eval.log
  echo "classifier evaluation: FAILED (below the 96 % floor)"
  exit 1
fi
echo "classifier evaluation: $(head -1 .build/classifier-eval.log)"
mkdir -p .build/test-logs
rm -f .build/test-logs/*.log
status=0
swift test --skip-build "$@" 2>&1 | tee .build/test-logs/swift-test.log || status=$?
# Quiet when clean, so the test summary stays the last line; names file and line of any hit.
scripts/scan-pii.sh .build/test-logs > /dev/null
exit "$status"
