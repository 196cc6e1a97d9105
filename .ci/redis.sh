#!/usr/bin/env bash
# Start a throwaway Redis for the test suites and print its URL on stdout.
#
#   export PORTCULLIS_TEST_REDIS_URL=$(bash .ci/redis.sh)
#
# Idempotent: if a Redis already answers on the port, it is reused. Everything but the URL goes to
# stderr. Port: REDIS_PORT (default 63790). Debian's redis-server is installed with apt-get when missing.
set -euo pipefail

port="${REDIS_PORT:-63790}"
url="redis://127.0.0.1:${port}"
log() { echo "redis.sh: $*" >&2; }

if ! command -v redis-server >/dev/null 2>&1; then
  log "redis-server not found: installing redis-server with apt-get"
  if [[ "$(id -u)" -eq 0 ]]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y redis-server >&2
  command -v redis-server >/dev/null 2>&1 || { log "redis-server installed but not on PATH"; exit 1; }
fi

ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" == "PONG" ]]; }

if ping; then
  log "reusing the Redis already running on 127.0.0.1:${port}"
  echo "$url"
  exit 0
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/portcullis-redis.XXXXXX")"
# Loopback only, no persistence, no password: a disposable fixture that nothing else can reach.
log "starting on 127.0.0.1:${port} in $dir (log: $dir/redis.log)"
redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes --dir "$dir" \
  --save '' --appendonly no --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2

for _ in $(seq 1 60); do
  if ping; then
    log "ready; stop with: redis-cli -p ${port} shutdown nosave"
    echo "$url"
    exit 0
  fi
  sleep 0.25
done
log "Redis did not become ready; see $dir/redis.log"
exit 1
