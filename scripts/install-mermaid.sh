#!/usr/bin/env bash
# The real Mermaid parser for the PLAN.md tests: npm packages installed outside the repository,
# in ~/.cache/migrator/mermaid (or $MIGRATOR_MERMAID_DIR), pinned. Idempotent. Needs node and npm
# (scripts/install-system-deps.sh installs Debian's nodejs and npm).
set -euo pipefail
dir="${MIGRATOR_MERMAID_DIR:-$HOME/.cache/migrator/mermaid}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$dir"
cp "$here/mermaid-parse.mjs" "$dir/parse.mjs"
if [ -f "$dir/node_modules/mermaid/package.json" ] && [ -f "$dir/node_modules/jsdom/package.json" ]; then
  exit 0
fi
cd "$dir"
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --no-audit --no-fund --silent mermaid@11.17.2 jsdom@25.0.1 >/dev/null
