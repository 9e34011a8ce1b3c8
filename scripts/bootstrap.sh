#!/usr/bin/env bash
# Installs what a fresh Debian bookworm machine with the Swift toolchain lacks to build Baocuo:
# librdkafka-dev (the Kafka client and its mock cluster) and pkg-config. Idempotent.
set -euo pipefail

missing=()
for pkg in librdkafka-dev pkg-config; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
