#!/bin/sh
# Fidelity check of the fake exchange against CCXT (see ccxt_fidelity.mjs).
# usage: run.sh FAKE_EXE CERT_DIR
# Installs the pinned CCXT into tests/fidelity/node_modules (gitignored) when missing. Exits 77
# (ctest SKIP_RETURN_CODE) only when node/npm are missing or the install is impossible.
set -u
here=$(cd "$(dirname "$0")" && pwd)
exe=$1
certs=$2
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP: node/npm not available"; exit 77
fi
if [ ! -f "$here/node_modules/ccxt/package.json" ] ||
   [ "$(node -p "require('$here/node_modules/ccxt/package.json').version")" != "4.5.84" ]; then
  if ! (cd "$here" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1); then
    echo "SKIP: npm install of ccxt 4.5.84 is impossible here"; exit 77
  fi
fi
# TLS stays verified: Node trusts the test CA in addition to its own roots.
NODE_EXTRA_CA_CERTS="$certs/ca.pem" exec node "$here/ccxt_fidelity.mjs" --exe "$exe" --certs "$certs"
