#!/usr/bin/env bash
# Set up, lint, audit the pinned dependencies, start the local Kafka broker if it is not
# running, run every test, and stop the broker again if this script started it. Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev

echo "== lint: ruff, mypy"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

echo "== lint: JavaScript and CSS of the web app (Biome; scripts/lint_js.sh)"
scripts/lint_js.sh

echo "== audit: known vulnerabilities in the pinned dependencies (docs/supply-chain.md)"
.venv/bin/python scripts/audit_dependencies.py

started=0
if ! .venv/bin/mast kafka status >/dev/null 2>&1; then
    .venv/bin/mast kafka start
    started=1
fi
stop_broker() { if [ "$started" = 1 ]; then .venv/bin/mast kafka stop; fi; }
trap stop_broker EXIT

echo "== tests"
.venv/bin/pytest "$@"
