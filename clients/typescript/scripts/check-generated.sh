#!/usr/bin/env bash
# Fails when the committed OpenAPI document (openapi.json) or the types
# generated from it (src/schema.ts) differ from what the current Go code
# produces. Run scripts/generate.sh to update both.
set -euo pipefail

pkg=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$pkg/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$repo" && go run ./cmd/mksync openapi) >"$work/openapi.json"
cd "$pkg"
[ -d node_modules ] || npm ci --no-audit --no-fund
npx openapi-typescript "$work/openapi.json" --output "$work/schema.ts" >/dev/null

status=0
if ! diff -u openapi.json "$work/openapi.json"; then
	echo "clients/typescript/openapi.json is out of date: run clients/typescript/scripts/generate.sh" >&2
	status=1
fi
if ! diff -u src/schema.ts "$work/schema.ts"; then
	echo "clients/typescript/src/schema.ts is out of date: run clients/typescript/scripts/generate.sh" >&2
	status=1
fi
exit $status
