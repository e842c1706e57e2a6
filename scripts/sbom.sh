#!/usr/bin/env bash
# Write a CycloneDX SBOM (JSON, spec 1.6) of what MAST ships: MAST and its runtime
# dependencies exactly as constraints.txt pins them, installed into a throwaway environment the
# way the Dockerfile installs them (no dev tools), then described by cyclonedx-py with names,
# versions, package URLs, licences and the dependency graph.
#
#   scripts/sbom.sh                  sbom.cdx.json: the runtime (what a deployment runs)
#   scripts/sbom.sh --dev            the development environment .venv as it is, test tools included
#   scripts/sbom.sh -o FILE          write FILE instead of sbom.cdx.json
#
# The output is reproducible: its timestamp is the last commit's (SOURCE_DATE_EPOCH), so the
# same commit gives the same file. docs/supply-chain.md says more.
set -euo pipefail
cd "$(dirname "$0")/.."

output=sbom.cdx.json dev=0
while [ $# -gt 0 ]; do
    case "$1" in
        --dev) dev=1 ;;
        -o|--output) output=${2:?-o needs a file}; shift ;;
        *) echo "usage: scripts/sbom.sh [--dev] [-o FILE]" >&2; exit 2 ;;
    esac
    shift
done

scripts/setup.sh dev >/dev/null  # cyclonedx-py comes with the dev tools, pinned
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
    export SOURCE_DATE_EPOCH
fi

if [ "$dev" = 1 ]; then
    target=.venv/bin/python
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "sbom: installing MAST's runtime (pinned by constraints.txt) into a throwaway environment"
    .venv/bin/python -m venv --without-pip "$tmp/runtime"
    # .venv's pip installs into it, so the runtime holds neither pip nor setuptools.
    .venv/bin/python -m pip --python "$tmp/runtime/bin/python" install -q \
        --no-warn-script-location -c constraints.txt .
    target="$tmp/runtime/bin/python"
fi

.venv/bin/cyclonedx-py environment \
    --pyproject pyproject.toml --mc-type application \
    --spec-version 1.6 --output-format JSON --output-reproducible \
    --output-file "$output" "$target"
count=$(.venv/bin/python -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$output")
echo "sbom: wrote $output (CycloneDX 1.6, $count components)"
