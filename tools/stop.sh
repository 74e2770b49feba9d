#!/usr/bin/env bash
# `make stop`: stops what `make demo` started (Odoo, the fake platform servers)
# and the PostgreSQL cluster, each only if it is running.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$REPO"

# Sends TERM to the process in pid file $1 (if its command line still
# contains $2), waits up to 20 s, then KILLs it.
stop_process() {
    local pid_file=$1 pattern=$2 name=$3 pid
    if pid=$(live_pid "$pid_file" "$pattern"); then
        kill -TERM "$pid"
        for _ in $(seq 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        echo "$name stopped."
    fi
    rm -f "$pid_file"
}

stop_process "$RUN_DIR/odoo.pid" odoo-bin Odoo
stop_process "$RUN_DIR/demo_site.pid" fake_platforms.demo_site "Fake platform servers"
if [ -x "$(pg_bin_dir)/pg_ctl" ]; then
    tools/pg.sh stop
fi
