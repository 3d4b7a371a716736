#!/usr/bin/env bash
# Runs the TypeScript client's tests (node --test) against a real
# `mksync serve` on the Metakocka simulator: builds mksync, starts
# fake-metakocka and serve on free loopback ports with a temporary SQLite
# database, creates two tenants and their tokens with the CLI, connects the
# first to the simulator, runs the tests and stops both servers.
#
# Needs Go and Node 20+. Offline once node_modules is installed (npm ci).
set -euo pipefail

pkg=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$pkg/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# listening FILE: waits for "listening on http://ADDR" in FILE, prints the URL.
listening() {
	for _ in $(seq 1 300); do
		if url=$(grep -m1 -o 'http://[^ ]*' "$1" 2>/dev/null); then
			echo "$url"
			return 0
		fi
		sleep 0.1
	done
	echo "no 'listening on' line in $1:" >&2
	cat "$1" "${1%.out}.err" >&2 || true
	return 1
}

(cd "$repo" && go build -o "$work/mksync" ./cmd/mksync)
mksync="$work/mksync"
db="sqlite:$work/mksync.db"

"$mksync" fake-metakocka --addr 127.0.0.1:0 --company 16:ts-test-secret --company 17:other-secret --seed-demo \
	>"$work/fake.out" 2>"$work/fake.err" &
pids+=($!)
fake=$(listening "$work/fake.out")

export MKSYNC_ADMIN_TOKEN="admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
MKSYNC_LOG_LEVEL=warn "$mksync" serve --addr 127.0.0.1:0 --db "$db" --rate-limit-sync 600 \
	>"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
api=$(listening "$work/serve.out")

tenant_a=$("$mksync" tenant create --name "TS client test A" --db "$db" 2>>"$work/cli.err")
tenant_b=$("$mksync" tenant create --name "TS client test B" --db "$db" 2>>"$work/cli.err")
token_a=$("$mksync" token create --tenant "$tenant_a" --name ts-test --db "$db" 2>>"$work/cli.err")
token_b=$("$mksync" token create --tenant "$tenant_b" --name ts-test --db "$db" 2>>"$work/cli.err")
printf '%s\n' ts-test-secret | "$mksync" credentials set --tenant "$tenant_a" --company-id 16 --metakocka-url "$fake" --db "$db" 2>>"$work/cli.err"

cd "$pkg"
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.json
MKSYNC_URL="$api" MKSYNC_TOKEN="$token_a" MKSYNC_TOKEN_B="$token_b" MKSYNC_FAKE_URL="$fake" \
	node --test --test-reporter=spec test/
