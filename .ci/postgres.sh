#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the test suites and print its admin URL on stdout.
#
#   export PORTCULLIS_TEST_PG_URL=$(bash .ci/postgres.sh)
#
# Idempotent: if a server that accepts the printed URL is already up on the port, it is reused.
# Everything but the URL goes to stderr. Port: PG_PORT (default 54329).
set -euo pipefail

port="${PG_PORT:-54329}"
url="postgres://postgres@127.0.0.1:${port}/postgres"
log() { echo "postgres.sh: $*" >&2; }

find_bin() {
  local candidates
  candidates=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$candidates" && -x "$candidates/initdb" ]]; then
    echo "$candidates"
  fi
}

bin="$(find_bin)"
if [[ -z "$bin" ]]; then
  log "initdb not found: installing postgresql with apt-get"
  if [[ "$(id -u)" -eq 0 ]]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y postgresql >&2
  bin="$(find_bin)"
  [[ -n "$bin" ]] || { log "postgresql installed but no initdb under /usr/lib/postgresql/*/bin"; exit 1; }
fi

# Reuse a server already listening on the port, but only if it accepts our trust login.
if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" \
  && "$bin/psql" -X -q -w -d "$url" -c 'select 1' >/dev/null 2>&1; then
  log "reusing the server already running on 127.0.0.1:${port}"
  echo "$url"
  exit 0
fi

# initdb refuses to run as root: run the cluster as the postgres OS user, who owns the directory.
if [[ "$(id -u)" -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || { log "running as root but there is no 'postgres' OS user"; exit 1; }
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/portcullis-pg.XXXXXX")"
chmod 0755 "$dir"
mkdir -p "$dir/data" "$dir/socket"
if [[ "$(id -u)" -eq 0 ]]; then chown -R postgres: "$dir"; fi
chmod 0700 "$dir/data" "$dir/socket"

log "initdb in $dir/data ($bin)"
as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=reject --encoding=UTF8 --locale=C >&2

# Trust only loopback TCP: the cluster is a disposable test fixture that nothing else can reach.
cat >"$dir/data/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  trust
EOF
cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${dir}/socket'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
if [[ "$(id -u)" -eq 0 ]]; then chown postgres: "$dir/data/pg_hba.conf" "$dir/data/postgresql.conf"; fi

log "starting on 127.0.0.1:${port} (log: $dir/postgres.log)"
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >&2

for _ in $(seq 1 60); do
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    log "ready; stop with: $([[ "$(id -u)" -eq 0 ]] && echo "runuser -u postgres -- ")${bin}/pg_ctl -D $dir/data stop"
    echo "$url"
    exit 0
  fi
  sleep 0.5
done
log "server did not become ready; see $dir/postgres.log"
exit 1
