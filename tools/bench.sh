#!/usr/bin/env bash
# `make bench`: the ingestion benchmark (bench/ingest.py) in a fresh database, then the
# 10,000 and 50,000-message recompute of sentiment and roles (bench/insight.py) on copies of it.
set -euo pipefail
. "$(dirname "$0")/env.sh"
require_odoo_src
cd "$REPO"

BENCH_DB="${BENCH_DB:-social_crm_bench}"
tools/sysdeps.sh postgres
tools/venv.sh
if ! tools/pg.sh status; then
    trap 'tools/pg.sh stop >/dev/null' EXIT
fi
tools/pg.sh start
tools/odoo_conf.sh
tools/pg.sh psql -d postgres -qc "DROP DATABASE IF EXISTS \"$BENCH_DB\" WITH (FORCE)"
rm -rf "$RUN_DIR/odoo-data/filestore/$BENCH_DB"
echo "installing social_crm into a fresh database $BENCH_DB..."
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" -d "$BENCH_DB" -i social_crm --without-demo=all \
    --stop-after-init --log-level=warn
PYTHONPATH="$ODOO_SRC" "$VENV/bin/python" bench/ingest.py -c "$ODOO_CONF" -d "$BENCH_DB" --log-level=warn
PYTHONPATH="$ODOO_SRC" "$VENV/bin/python" bench/insight.py -c "$ODOO_CONF" -d "$BENCH_DB" --log-level=warn
