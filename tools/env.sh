# shellcheck shell=bash
# Settings and helpers shared by the tools/ scripts; source it, do not run it.
# Every setting can be overridden from the environment or the make command line
# (e.g. `make demo HTTP_PORT=8079`).

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR="$REPO/.run"
# runuser and useradd live in sbin, which a non-login PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
VENV="$REPO/.venv"

export ODOO_SRC="${ODOO_SRC:-/opt/odoo18}"
# The private PostgreSQL cluster's port (127.0.0.1 only): as given, else the
# one chosen when the cluster was created (see tools/pg.sh), else 54329.
PG_PORT_GIVEN="${PG_PORT:-}"
PG_PORT="${PG_PORT:-$(cat "$RUN_DIR/pg_port" 2>/dev/null || echo 54329)}"
export PG_ROLE="${PG_ROLE:-odoo}"             # Odoo refuses to connect as the role `postgres`
export HTTP_PORT="${HTTP_PORT:-8069}"         # `make demo`; `make test` picks TEST_HTTP_PORT
export DEMO_DB="${DEMO_DB:-social_crm_demo}"
export TEST_DB="${TEST_DB:-social_crm_test}"
export ODOO_CONF="$RUN_DIR/odoo.conf"
# The demo sources point at this port (feeds) and the next three (X, Mastodon,
# Bluesky); see social_crm_demo/fake_platforms/demo_site.py.
DEMO_SITE_PORT=8070

die() {
    echo "error: $*" >&2
    exit 1
}

# Stops at once unless ODOO_SRC is an Odoo 18.0 source checkout.
require_odoo_src() {
    if [ ! -f "$ODOO_SRC/odoo-bin" ] \
        || ! grep -qs 'version_info = (18, 0' "$ODOO_SRC/odoo/release.py"; then
        die "ODOO_SRC=$ODOO_SRC is not an Odoo 18.0 source checkout (no odoo-bin, or" \
            "odoo/release.py is not version 18.0). Set ODOO_SRC to one, e.g." \
            "'make test ODOO_SRC=/path/to/odoo' (git clone -b 18.0 https://github.com/odoo/odoo)."
    fi
}

# Directory holding initdb, pg_ctl and postgres: from PATH, else the newest
# Debian/Ubuntu install under /usr/lib/postgresql. Empty when none is found.
pg_bin_dir() {
    local ctl
    if ctl=$(command -v pg_ctl) && command -v initdb >/dev/null && command -v postgres >/dev/null; then
        dirname "$(readlink -f "$ctl")"
        return
    fi
    find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1
}

# Prints the pid stored in pid file $1 when that process is alive and its
# command line contains $2; returns 1 otherwise.
live_pid() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2" || return 1
    echo "$pid"
}

# True when something listens on 127.0.0.1:$1.
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints the first port from $1 on (up to $1 + 50) where nothing listens.
free_port() {
    local port
    for port in $(seq "$1" $(($1 + 50))); do
        if ! port_busy "$port"; then
            echo "$port"
            return
        fi
    done
    die "no free port in $1-$(($1 + 50))"
}
