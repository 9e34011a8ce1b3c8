#!/usr/bin/env bash
# The demo command of the README: installs what is missing, builds, runs `baocuo demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product baocuo >&2
exec .build/release/baocuo demo "$@"
