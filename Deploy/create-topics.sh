#!/usr/bin/env bash
# Creates the topics of Deploy/topics.txt that do not exist yet, with their partition counts and
# topic configs. Existing topics are left alone (partitions and configs are not altered).
# Used by the compose `topics` job and by operators against a production cluster.
#
#   create-topics.sh --bootstrap-server HOST:PORT [--replication-factor N]
#                    [--command-config admin.properties] [--parallel N] TOPICS_FILE
#
# Each kafka-topics.sh call is a JVM start (~1–2 s); with ~1,240 topics the first run creates them
# a few at a time in parallel. Later runs list the cluster once and create only what is missing.
set -euo pipefail

usage() {
  echo "usage: create-topics.sh --bootstrap-server HOST:PORT [--replication-factor N]" \
    "[--command-config FILE] [--parallel N] TOPICS_FILE" >&2
  exit 64
}

bootstrap="" replication=1 parallel=4 topics_file=""
client_options=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bootstrap-server) bootstrap=$2; shift 2 ;;
    --replication-factor) replication=$2; shift 2 ;;
    --command-config) client_options=(--command-config "$2"); shift 2 ;;
    --parallel) parallel=$2; shift 2 ;;
    -*) usage ;;
    *) topics_file=$1; shift ;;
  esac
done
[[ -n $bootstrap && -n $topics_file ]] || usage
[[ -r $topics_file ]] || { echo "create-topics: cannot read $topics_file" >&2; exit 66; }

kafka_topics=$(command -v kafka-topics.sh || echo /opt/kafka/bin/kafka-topics.sh)
connection=(--bootstrap-server "$bootstrap" "${client_options[@]}")

declare -A existing=()
while IFS= read -r name; do
  [[ -n $name ]] && existing[$name]=1
done < <("$kafka_topics" "${connection[@]}" --list)

create() {
  local name=$1 partitions=$2
  shift 2
  local configs=()
  for config in "$@"; do configs+=(--config "$config"); done
  "$kafka_topics" "${connection[@]}" --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$replication" "${configs[@]}" >/dev/null
  echo "created $name ($partitions partitions${*:+, $*})"
}

running=0 created=0 failed=0
while read -r name partitions configs; do
  [[ -z $name || $name == \#* ]] && continue
  [[ -n ${existing[$name]:-} ]] && continue
  # shellcheck disable=SC2086 # configs are `key=value` words without spaces
  create "$name" "$partitions" $configs </dev/null &
  created=$((created + 1)) running=$((running + 1))
  if ((running >= parallel)); then
    wait -n || failed=$((failed + 1))
    running=$((running - 1))
  fi
done < "$topics_file"
while ((running > 0)); do
  wait -n || failed=$((failed + 1))
  running=$((running - 1))
done

echo "create-topics: ${#existing[@]} topics already on the cluster, $((created - failed)) created, $failed failed" >&2
((failed == 0))
