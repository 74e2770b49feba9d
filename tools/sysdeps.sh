#!/usr/bin/env bash
# Checks the system packages a command needs: `postgres` (server binaries),
# `chromium` (headless browser for Odoo's HttpCase tours). As root, a missing
# chromium is installed with apt; otherwise the message says what to install.
set -euo pipefail
. "$(dirname "$0")/env.sh"

for dep in "$@"; do
    case "$dep" in
    postgres)
        bin=$(pg_bin_dir)
        if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/postgres" ] || [ ! -x "$bin/psql" ]; then
            die "PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) not found on PATH" \
                "nor under /usr/lib/postgresql/*/bin. Install them, e.g. 'apt-get install postgresql-15'."
        fi
        ;;
    chromium)
        if command -v chromium >/dev/null || command -v google-chrome >/dev/null \
            || command -v chromium-browser >/dev/null || command -v google-chrome-stable >/dev/null; then
            continue
        fi
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
            echo "Installing chromium (headless browser for the Odoo tours)..."
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        else
            die "chromium is needed for the Odoo browser tests. Install it" \
                "(Debian: 'sudo apt-get install chromium') and run again."
        fi
        ;;
    *) die "sysdeps.sh: unknown dependency '$dep'" ;;
    esac
done
