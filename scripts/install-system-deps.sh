#!/usr/bin/env bash
# Debian packages migrator's simulator harness and test suite need:
#   golang-go + golang-github-vmware-govmomi-dev  -> build vcsim (a real vSphere API) from source
#   postgresql                                    -> a real PostgreSQL server for the store tests
#   nodejs + npm                                  -> the real Mermaid parser for PLAN.md (scripts/install-mermaid.sh)
#   g++ + cmake                                   -> compile llama-cpp-python once (scripts/install-llm-server.sh)
#   chromium                                      -> the dashboard's browser tests (Playwright drives /usr/bin/chromium;
#                                                    no browser is ever downloaded by Playwright)
# Idempotent: installs only what is missing.
set -euo pipefail

need=()
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] || need+=(golang-github-vmware-govmomi-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ "${#need[@]}" -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian packages: ${need[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
