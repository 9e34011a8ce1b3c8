#!/bin/bash
# Container health probe without curl: GETs a path of the worker's HTTP endpoint over bash's
# /dev/tcp and succeeds on HTTP 200. Installed in the image as `baocuo-healthcheck`.
#
#   baocuo-healthcheck [PATH]    PATH: /health/live (default) or /health/ready
#
# Port: $BAOCUO_HTTP_PORT, else 9464 (the http.port default).
set -euo pipefail
path=${1:-/health/live}
exec 3<>"/dev/tcp/127.0.0.1/${BAOCUO_HTTP_PORT:-9464}"
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$path" >&3
IFS= read -r -t 2 status_line <&3
[[ $status_line == "HTTP/1."?" 200 "* ]]
