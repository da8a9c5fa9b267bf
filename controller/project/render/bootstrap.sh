#!/bin/sh
# kubabase database bootstrap: waits for Postgres, then runs the bootstrap SQL once.
# Env: PGHOST, PGPORT (5432), PGDATABASE (postgres), PGUSER (a superuser), PGPASSWORD,
#      one <ROLE>_PASSWORD per login role, JWT_EXP (seconds); optional BOOTSTRAP_SQL
#      (the SQL file) and BOOTSTRAP_WAIT_SECONDS (how long to wait for the server).
# Passwords stay in the environment: psql reads them with \getenv, so they never appear
# in a command line. Exit: 0 done, 1 server not ready, 2 bad environment, else psql's.
set -eu
export PGPORT="${PGPORT:-5432}"
export PGDATABASE="${PGDATABASE:-postgres}"
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}"
sql="${BOOTSTRAP_SQL:-@BOOTSTRAP_SQL@}"
wait_seconds="${BOOTSTRAP_WAIT_SECONDS:-300}"
missing=""
for name in @REQUIRED_ENV@; do
  eval "value=\${$name:-}"
  [ -n "$value" ] || missing="$missing $name"
done
value=""
if [ -n "$missing" ]; then
  echo "bootstrap: missing or empty environment variables:$missing" >&2
  exit 2
fi
case "$JWT_EXP" in
  *[!0-9]*) echo "bootstrap: JWT_EXP must be a whole number of seconds" >&2; exit 2 ;;
esac
case "$wait_seconds" in
  ''|*[!0-9]*)
    echo "bootstrap: BOOTSTRAP_WAIT_SECONDS must be a whole number" >&2
    exit 2 ;;
esac
if [ ! -r "$sql" ]; then
  echo "bootstrap: cannot read $sql" >&2
  exit 2
fi
ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -t 2
  else
    psql -X -q -w -c 'SELECT 1' >/dev/null 2>&1
  fi
}
waited=0
until ready; do
  if [ "$waited" -ge "$wait_seconds" ]; then
    echo "bootstrap: $PGHOST:$PGPORT not ready after ${wait_seconds}s" >&2
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done
echo "bootstrap: $PGHOST:$PGPORT is ready; running $sql as $PGUSER"
psql -X -w -v ON_ERROR_STOP=1 -f "$sql"
echo "bootstrap: done"
