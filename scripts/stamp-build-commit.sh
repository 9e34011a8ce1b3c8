#!/usr/bin/env bash
# Writes the git commit into Sources/BaocuoCLI/BuildCommit.swift, for `baocuo --version` and the
# `baocuo_build_info` gauge. The Dockerfile runs it with the GIT_COMMIT build argument; locally:
#
#   scripts/stamp-build-commit.sh [COMMIT]     (default: git rev-parse --short=12 HEAD)
#
# Undo with `git checkout Sources/BaocuoCLI/BuildCommit.swift` before committing.
set -euo pipefail
repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
commit=${1:-$(git -C "$repo_dir" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
[[ $commit =~ ^[0-9A-Za-z._-]+$ ]] || { echo "stamp-build-commit: not a commit: $commit" >&2; exit 64; }
printf '%s\n%s\n' \
  '// Rewritten by scripts/stamp-build-commit.sh before a release build; keep the line format.' \
  "enum BuildCommit { static let value = \"$commit\" }" > "$repo_dir/Sources/BaocuoCLI/BuildCommit.swift"
