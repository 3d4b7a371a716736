#!/usr/bin/env bash
# Regenerates openapi.json (from `mksync openapi`) and src/schema.ts (with
# openapi-typescript) after the API changed. Commit both.
set -euo pipefail

pkg=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$pkg/../.." && pwd)
(cd "$repo" && go run ./cmd/mksync openapi) >"$pkg/openapi.json.tmp"
mv "$pkg/openapi.json.tmp" "$pkg/openapi.json"
cd "$pkg"
[ -d node_modules ] || npm ci --no-audit --no-fund
npx openapi-typescript openapi.json --output src/schema.ts
