#!/usr/bin/env bash
# Builds .venv with Odoo's runtime requirements ($ODOO_SRC/requirements.txt)
# plus requirements.txt and requirements-dev.txt. A stamp holding a hash of
# every input makes a second run instant and reinstalls when any file changes.
set -euo pipefail
. "$(dirname "$0")/env.sh"
require_odoo_src

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3 || true)}"
[ -n "$PYTHON" ] || die "python3.11 not found; install Python 3.11 or set PYTHON=/path/to/python3.11"
mkdir -p "$RUN_DIR"

# python-ldap is left out: it builds against libldap headers this machine
# may lack, and only the auth_ldap module (not a dependency here) uses it.
odoo_reqs="$RUN_DIR/odoo-requirements.txt"
grep -viE '^[[:space:]]*python-ldap([^a-z0-9_-]|$)' "$ODOO_SRC/requirements.txt" >"$odoo_reqs"

# Odoo's pinned releases include old sdists whose setup.py needs what
# setuptools 70 removed. PIP_CONSTRAINT (unlike --constraint) also reaches the
# isolated build environments, since their pip inherits the environment. It
# replaces any constraint file set in pip's configuration, so include those.
constraints="$RUN_DIR/pip-constraints.txt"
{
    echo 'setuptools<70'
    configured=$("$PYTHON" -m pip config list 2>/dev/null | sed -nE "s/^[^=]*\.constraint='(.*)'$/\1/p" || true)
    for f in ${PIP_CONSTRAINT:-} $configured; do
        if [ -f "$f" ]; then echo "-c $f"; fi
    done
} | sort -u >"$constraints.new"
mv "$constraints.new" "$constraints"

stamp_file="$VENV/.social_crm-stamp"
stamp=$(cat "$odoo_reqs" "$REPO/requirements.txt" "$REPO/requirements-dev.txt" "$constraints" "$0" \
    <("$PYTHON" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c '' 2>/dev/null \
    && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi

if ! "$VENV/bin/python" -c '' 2>/dev/null; then
    echo "Creating .venv with $("$PYTHON" --version)..."
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi
echo "Installing Python requirements into .venv (a few minutes the first time)..."
start=$SECONDS
# The grep drops pip's warnings about configured package locations that do not
# hold a given project (this machine's local index mirrors); errors still show.
# --use-pep517: sdists build in isolated environments (where the constraint
# applies) whatever pip version the interpreter's venv brings.
PIP_CONSTRAINT="$constraints" "$VENV/bin/python" -m pip install -q --disable-pip-version-check --use-pep517 \
    -r "$odoo_reqs" -r "$REPO/requirements.txt" -r "$REPO/requirements-dev.txt" \
    2> >(grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory." >&2)
echo "$stamp" >"$stamp_file"
echo ".venv ready in $((SECONDS - start))s."
