#!/usr/bin/env bash
# `make demo`: a database with demo data and social_crm_demo installed (it
# brings social_crm; created on the first run, reused afterwards), the fake
# platform servers its demo sources pull from (social_crm_demo/fake_platforms,
# feeds, X, Mastodon and Bluesky on 127.0.0.1), and Odoo at
# http://127.0.0.1:$HTTP_PORT, both in the background with pid files and logs
# under .run/. `make stop` stops them.
set -euo pipefail
. "$(dirname "$0")/env.sh"
require_odoo_src
cd "$REPO"

tools/sysdeps.sh postgres
tools/venv.sh
tools/pg.sh start
tools/odoo_conf.sh

odoo_bin="$ODOO_SRC/odoo-bin"
odoo_pid="$RUN_DIR/odoo.pid"
site_pid="$RUN_DIR/demo_site.pid"

odoo_up() {
    "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \
        "http://127.0.0.1:$HTTP_PORT/web/health" 2>/dev/null
}

# Runs the command "$@" every second, for up to 120 s, until it succeeds or
# the process in pid file $1 dies; on failure shows the end of its log $2.
wait_until() {
    local pid log=$2
    pid=$(cat "$1")
    shift 2
    for _ in $(seq 120); do
        if "$@"; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    tail -n 30 "$log" >&2
    die "the process logging to $log did not come up"
}

psql_() { tools/pg.sh psql "$@"; }

# missing | empty (created, but Odoo's install stopped before base) |
# social_crm_demo's state (installed, uninstalled, to install...) | absent
demo_db_state() {
    if [ "$(psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DEMO_DB'")" != 1 ]; then
        echo missing
    elif [ -z "$(psql_ -d "$DEMO_DB" -tAc "SELECT to_regclass('ir_module_module')")" ]; then
        echo empty
    else
        psql_ -d "$DEMO_DB" -tAc \
            "SELECT COALESCE((SELECT state FROM ir_module_module WHERE name = 'social_crm_demo'), 'absent')"
    fi
}

if ! live_pid "$odoo_pid" odoo-bin >/dev/null; then
    state=$(demo_db_state)
    if [ "$state" = empty ]; then
        psql_ -d postgres -c "DROP DATABASE \"$DEMO_DB\" WITH (FORCE)"
    fi
    if [ "$state" != installed ]; then
        echo "Installing social_crm and social_crm_demo with demo data into database $DEMO_DB" \
            "(a few minutes; log: .run/demo-install.log)..."
        if ! "$VENV/bin/python" "$odoo_bin" -c "$ODOO_CONF" -d "$DEMO_DB" -i social_crm_demo \
            --stop-after-init --http-port "$HTTP_PORT" >"$RUN_DIR/demo-install.log" 2>&1; then
            tail -n 30 "$RUN_DIR/demo-install.log" >&2
            die "installing social_crm_demo failed; see .run/demo-install.log"
        fi
    fi
fi

if ! live_pid "$site_pid" fake_platforms.demo_site >/dev/null; then
    for port in $(seq "$DEMO_SITE_PORT" $((DEMO_SITE_PORT + 3))); do
        port_busy "$port" && die "port $port (fake platform servers) is in use by another program"
    done
    (cd social_crm_demo && exec setsid nohup "$VENV/bin/python" -m fake_platforms.demo_site --port "$DEMO_SITE_PORT" \
        >"$RUN_DIR/demo_site.log" 2>&1 </dev/null) &
    echo $! >"$site_pid"
    wait_until "$site_pid" "$RUN_DIR/demo_site.log" port_busy $((DEMO_SITE_PORT + 3))  # the last one started
fi

if ! live_pid "$odoo_pid" odoo-bin >/dev/null; then
    port_busy "$HTTP_PORT" && die "port $HTTP_PORT is in use by another program; set HTTP_PORT"
    setsid nohup "$VENV/bin/python" "$odoo_bin" -c "$ODOO_CONF" -d "$DEMO_DB" --http-port "$HTTP_PORT" \
        >"$RUN_DIR/odoo.log" 2>&1 </dev/null &
    echo $! >"$odoo_pid"
    wait_until "$odoo_pid" "$RUN_DIR/odoo.log" odoo_up
fi

cat <<EOF

Social CRM demo: http://127.0.0.1:$HTTP_PORT  (login admin, password admin)
Fake platforms: feeds http://127.0.0.1:$DEMO_SITE_PORT, X, Mastodon, Bluesky on ports $((DEMO_SITE_PORT + 1))-$((DEMO_SITE_PORT + 3))
Logs: .run/odoo.log, .run/demo_site.log
Stop everything with: make stop
EOF
