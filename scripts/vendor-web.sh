#!/usr/bin/env bash
# Front-end libraries of the dashboard (migrator/web): installed from the npm registry at build
# time, pinned, and their built browser files copied with their licences into
# migrator/web/static/vendor (committed). Nothing is fetched at run time. Run: `make vendor-web`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/../migrator/web/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
echo '{"private": true}' > package.json
npm install --no-audit --no-fund --silent --ignore-scripts \
  graphology@0.26.0 sigma@3.0.3 >/dev/null
mkdir -p "$dest"
cp node_modules/graphology/dist/graphology.umd.min.js "$dest/graphology.umd.min.js"
cp node_modules/graphology/LICENSE.txt "$dest/LICENSE.graphology.txt"
cp node_modules/sigma/dist/sigma.min.js "$dest/sigma.min.js"
cp node_modules/sigma/LICENSE.txt "$dest/LICENSE.sigma.txt"
npm ls --depth=0 2>/dev/null | tail -n +2 > "$dest/VERSIONS.txt"
