#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (test/browser): installed
# with apt-get only when missing. Everything goes to stderr.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
echo "chromium.sh: /usr/bin/chromium not found: installing chromium with apt-get" >&2
if [[ "$(id -u)" -eq 0 ]]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" apt-get update >&2
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y chromium >&2
[[ -x /usr/bin/chromium ]] || { echo "chromium.sh: installed, but /usr/bin/chromium is missing" >&2; exit 1; }
