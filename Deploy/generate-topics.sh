#!/usr/bin/env bash
# Writes Deploy/topics.txt and Deploy/acls.txt from the topic layout of the `baocuo` binary
# (`baocuo topics list`, `baocuo topics acls`), which reads Config/regions.csv and the topic prefix.
# The embedded cluster, the demo and the tests create the same layout, so the deployed topics, their
# ACLs and the region table cannot drift apart: after editing Config/regions.csv or the layout, run
# this and commit both files. Deploy/validate.sh (with a binary) and TopicLayoutTests compare them.
#
#   Deploy/generate-topics.sh [PATH_TO_BAOCUO_BINARY]   (default: .build/debug/baocuo, built if missing)
set -euo pipefail

deploy_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$deploy_dir")
binary=${1:-$repo_dir/.build/debug/baocuo}
if [[ ! -x $binary ]]; then
  (cd "$repo_dir" && swift build --product baocuo)
fi

"$binary" topics list --config "$repo_dir/Config" > "$deploy_dir/topics.txt"
"$binary" topics acls --config "$repo_dir/Config" > "$deploy_dir/acls.txt"
echo "$(grep -vc '^#' "$deploy_dir/topics.txt") topics, $(grep -vc '^#' "$deploy_dir/acls.txt") ACL lines" >&2
