#!/usr/bin/env bash
# `npm test`: type-check, then every suite on SQLite and PostgreSQL.
# PostgreSQL: PORTCULLIS_TEST_PG_URL if given, else a throwaway cluster started by .ci/postgres.sh
# (installed with apt-get when missing). PORTCULLIS_TEST_DATABASES=sqlite runs the SQLite half only.
# Redis goes with PostgreSQL (the many-instance set-up): PORTCULLIS_TEST_REDIS_URL if given, else a
# throwaway server started by .ci/redis.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${PORTCULLIS_TEST_DATABASES:-sqlite,postgres}" == *postgres* && -z "${PORTCULLIS_TEST_PG_URL:-}" ]]; then
  PORTCULLIS_TEST_PG_URL="$(bash .ci/postgres.sh)"
  export PORTCULLIS_TEST_PG_URL
fi
if [[ "${PORTCULLIS_TEST_DATABASES:-sqlite,postgres}" == *postgres* && -z "${PORTCULLIS_TEST_REDIS_URL:-}" ]]; then
  PORTCULLIS_TEST_REDIS_URL="$(bash .ci/redis.sh)"
  export PORTCULLIS_TEST_REDIS_URL
fi

# The browser tests drive Debian's Chromium; installed with apt-get when missing.
if [[ $# -eq 0 || "$*" == *browser* ]]; then bash .ci/chromium.sh; fi

node --version
tsc --noEmit
# The CLI suites run `portcullis` as users do, which runs the JavaScript build: make it current.
node scripts/build.mjs
# Files run in parallel processes (two cores); each test builds its own servers and databases.
exec node --test --test-concurrency=2 --test-timeout=120000 "${@:-test/**/*.test.ts}"
