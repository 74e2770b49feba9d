#!/usr/bin/env bash
# The project's private PostgreSQL cluster: listens on 127.0.0.1:$PG_PORT only,
# no Unix socket, `trust` auth for 127.0.0.1; Odoo connects as role $PG_ROLE.
#   tools/pg.sh start | stop | status | psql [psql args...]
# Data lives in .run/pg (data/ and postgres.log). initdb refuses to run as
# root, so as root the cluster runs as the `postgres` OS user (created as a
# system user if missing); when that user cannot reach .run/ (e.g. a clone
# under /root), .run/pg is a symlink to a directory under /tmp instead.
set -euo pipefail
. "$(dirname "$0")/env.sh"

PG_BIN=$(pg_bin_dir)
[ -n "$PG_BIN" ] || die "PostgreSQL server binaries not found (run tools/sysdeps.sh postgres)"
PG_LINK="$RUN_DIR/pg"
PG_DIR=$(readlink -m "$PG_LINK")  # the real path: the cluster's user may not reach .run/

if [ "$(id -u)" -eq 0 ]; then
    PG_OS_USER=postgres
    id -u "$PG_OS_USER" >/dev/null 2>&1 \
        || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER"
    as_pg() { (cd / && runuser -u "$PG_OS_USER" -- "$@"); }
else
    PG_OS_USER=$(id -un)
    as_pg() { "$@"; }
fi

psql_() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" "$@"
}

# Creates .run/pg owned by the cluster's OS user, or the /tmp fallback.
prepare_dir() {
    mkdir -p "$RUN_DIR"
    if [ -L "$PG_LINK" ] && [ ! -d "$PG_LINK" ]; then
        rm "$PG_LINK"  # the /tmp fallback was cleaned (e.g. by a reboot)
    fi
    if [ -d "$PG_LINK" ]; then
        return
    fi
    mkdir -m 700 "$PG_LINK"
    [ "$(id -u)" -eq 0 ] || return 0
    chown "$PG_OS_USER:" "$PG_LINK"
    if as_pg test -w "$PG_LINK/."; then
        return
    fi
    rmdir "$PG_LINK"
    local fallback
    fallback="/tmp/social_crm-pg-$(printf %s "$REPO" | sha256sum | cut -c1-12)"
    mkdir -m 700 "$fallback" 2>/dev/null || true
    [ ! -L "$fallback" ] || die "$fallback is a symlink; remove it"
    case "$(stat -c %U "$fallback")" in
    root | "$PG_OS_USER") ;;
    *) die "$fallback exists and belongs to someone else; remove it" ;;
    esac
    chown "$PG_OS_USER:" "$fallback"
    ln -s "$fallback" "$PG_LINK"
    echo "$PG_OS_USER cannot reach $RUN_DIR; the cluster lives in $fallback (.run/pg links to it)."
}

running() {
    [ -f "$PG_DIR/data/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1
}

start() {
    prepare_dir
    PG_DIR=$(readlink -m "$PG_LINK")
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
        # Unless given, the port is chosen once, here, and kept in .run/pg_port:
        # another clone's cluster may hold the default one.
        [ -n "$PG_PORT_GIVEN" ] || PG_PORT=$(free_port 54329)
        echo "$PG_PORT" >"$RUN_DIR/pg_port"
        echo "Creating the PostgreSQL cluster in .run/pg (port $PG_PORT)..."
        as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
        # Only TCP from 127.0.0.1 (listen_addresses below); no Unix socket.
        echo "host all all 127.0.0.1/32 trust" | as_pg tee "$PG_DIR/data/pg_hba.conf" >/dev/null
    fi
    if ! running; then
        # synchronous_commit=off: a crash may lose the last transactions of
        # this development cluster, never corrupt it; installs run faster.
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 -o \
            "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='' -c synchronous_commit=off" \
            start >/dev/null \
            || { tail -n 20 "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start (port $PG_PORT in use? set PG_PORT)"; }
        echo "PostgreSQL is up on 127.0.0.1:$PG_PORT."
    fi
    if [ -z "$(psql_ -U postgres -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE'")" ]; then
        psql_ -U postgres -d postgres -c "CREATE ROLE \"$PG_ROLE\" LOGIN SUPERUSER"
    fi
}

stop() {
    if running; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
        echo "PostgreSQL stopped."
    fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) running ;;
psql) shift; psql_ -U "$PG_ROLE" "$@" ;;
*) die "usage: tools/pg.sh start|stop|status|psql [args]" ;;
esac
