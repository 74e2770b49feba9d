#!/usr/bin/env bash
# `make clean`: deletes .run/ (databases, filestore, logs), including the
# cluster directory under /tmp that .run/pg may link to. Run after tools/stop.sh.
set -euo pipefail
. "$(dirname "$0")/env.sh"

if [ -L "$RUN_DIR/pg" ]; then
    target=$(readlink -m "$RUN_DIR/pg")
    case "$target" in
    /tmp/social_crm-pg-*) rm -rf -- "$target" ;;
    esac
fi
rm -rf -- "$RUN_DIR"
echo "Removed .run/."
