#!/usr/bin/env bash
# Idempotent set-up of a machine and this checkout: system tools (Java, Maven; with `dev`,
# Debian's docker-compose for the compose-file check and chromium for the browser tests),
# the virtual environment in .venv, and MAST with its dependencies. Re-running it is quick
# when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if [ "$mode" = dev ]; then
    command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # the web app's browser tests
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing ${missing[*]} from Debian's packages"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "setup: missing ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]})" >&2
        exit 1
    fi
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: MAST needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv

# Every version comes from constraints.txt (scripts/lock.sh writes it), so a fresh clone
# installs exactly what the tests ran with; `dev` adds the test tools and the supply-chain
# tools (pip-audit, cyclonedx-bom). Reinstall only when one of those lists changed.
extras="" tools=()
if [ "$mode" = dev ]; then
    extras="[dev]"
    tools=(-r requirements/supply-chain.txt)
fi
stamp=".venv/.mast-installed"
want="$(cat pyproject.toml constraints.txt requirements/supply-chain.txt | sha256sum | cut -d' ' -f1)$extras"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing MAST and its dependencies into .venv (pinned by constraints.txt)"
    .venv/bin/python -m pip install -q -c constraints.txt --upgrade pip
    .venv/bin/python -m pip install -q -c constraints.txt -e ".$extras" "${tools[@]}"
    echo "$want" > "$stamp"
fi
