#!/usr/bin/env bash
# The demo command of the README: installs what is missing, builds, runs `baocuo demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# A debug build: the demo's data is small, and the test command reuses the same build.
swift build --product baocuo >&2
exec .build/debug/baocuo demo "$@"
