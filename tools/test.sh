#!/usr/bin/env bash
# `make test`: prepares the environment, then runs every suite through
# tools/run_tests.py, which ends with the line `N passed, N failed`.
# A cluster this script starts is stopped again at the end; one that was
# already running (e.g. for `make demo`) is left as it was.
set -euo pipefail
. "$(dirname "$0")/env.sh"
require_odoo_src
cd "$REPO"

tools/sysdeps.sh postgres chromium
tools/venv.sh
if ! tools/pg.sh status; then
    trap 'tools/pg.sh stop >/dev/null' EXIT  # silent: the summary line stays last
fi
tools/pg.sh start
tools/odoo_conf.sh
# Unless given, the first free port from 8169: a demo or another run may hold one.
TEST_HTTP_PORT="${TEST_HTTP_PORT:-$(free_port 8169)}"
export TEST_HTTP_PORT
"$VENV/bin/python" tools/run_tests.py
