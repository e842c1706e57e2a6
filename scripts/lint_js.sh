#!/usr/bin/env bash
# Lint and format check of the web app's JavaScript and CSS (query_api/static) with Biome,
# at the exact version package-lock.json pins (with its integrity hash). Biome is installed
# with `npm ci` into .venv/js — beside the Python tools, out of the work tree's way — and
# only again when package.json or package-lock.json changed. Node.js and npm come from
# Debian's packages when they are missing and this runs as root; otherwise the check is
# skipped with a message (and fails under CI=true, where it must run).
# To fix what it reports: .venv/js/node_modules/.bin/biome check --write
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "lint_js: installing ${missing[*]} from Debian's packages"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "lint_js: SKIPPED: ${missing[*]} missing and not installable here" \
            "(Debian: sudo apt-get install ${missing[*]})" >&2
        [ -z "${CI:-}" ] || exit 1
        exit 0
    fi
fi

tools=.venv/js
stamp="$tools/.installed"
want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$tools/node_modules/.bin/biome" ]; then
    echo "lint_js: installing Biome into $tools (npm ci, pinned by package-lock.json)"
    mkdir -p "$tools"
    cp package.json package-lock.json "$tools/"
    npm ci --prefix "$tools" --ignore-scripts --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
fi

if ! "$tools/node_modules/.bin/biome" ci --colors=off --error-on-warnings; then
    echo "lint_js: to fix the formatting: $tools/node_modules/.bin/biome check --write" >&2
    exit 1
fi
