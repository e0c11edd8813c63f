#!/usr/bin/env bash
# ctest's openapi_document: validates api/openapi.json and compares it with the router.
# Usage: run.sh PATH/TO/hookstream-list-routes
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
list_routes="${1:?usage: run.sh PATH/TO/hookstream-list-routes}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "openapi: node and npm are needed to validate api/openapi.json (apt-get install nodejs npm)" >&2
  exit 1
fi

if [[ ! -d "$here/node_modules/@apidevtools/swagger-parser" ]]; then
  echo "openapi: installing the validator (npm ci in $here)"
  if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error); then
    echo "openapi: 'npm ci' failed in $here: the npm registry must be reachable the first time" \
         "(or run 'npm ci' there by hand)" >&2
    exit 1
  fi
fi

routes="$("$list_routes")"
exec node "$here/validate.mjs" - <<<"$routes"
