#!/usr/bin/env bash
# demo.sh - the whole story in one command: a demo web store and a demo Sage company on
# loopback, a day of web orders synced (what was posted, what waits and why), the unknown SKU
# BEDLAMP fixed with a mapping, synced again. Stops the simulators; leaves nothing running.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${WSI_BIN:-$top/build/bin}
run=$(mktemp -d "${TMPDIR:-/tmp}/wsi-demo.XXXXXX")
pids=""
finish() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap finish EXIT
export PATH="$bin:$PATH"
say() { printf '\n== %s\n' "$*"; }
# show CMD...: print the command as a person must type it (quoted where the shell would bite), run it
show() {
	local out="" a
	for a in "$@"; do
		case "$a" in '' | *[!A-Za-z0-9_./:=@%+,-]*) a="'${a//\'/\'\\\'\'}'" ;; esac
		out="$out${out:+ }$a"
	done
	printf '$ %s\n' "$out"
	"$@" || true
}

start() { # start NAME SCRIPT ARGS...: a simulator on a free loopback port; sets PORT
	name=$1 script=$2; shift 2
	python3 "$top/tests/$script" --portfile "$run/$name.port" "$@" >"$run/$name.log" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 200); do [ -s "$run/$name.port" ] && break; sleep 0.05; done
	PORT=$(cat "$run/$name.port")
}
start store storesim.py --kind woocommerce --orders "$top/demo/store-orders.json"
store=$PORT
start sage sagesim.py --company "$top/demo/sage-company.json"
sage=$PORT

cat >"$run/wsi.conf" <<CONF
# The demo: a WooCommerce store and a Sage 300 company, both simulators on loopback.
[store]
name = shop
type = woocommerce
url = http://127.0.0.1:$store
key = ck_test
secret = cs_test
[sage]
url = http://127.0.0.1:$sage/Sage300WebApi/v1.0/-/SAMLTD
user = WEBAPI
password = sage-test-pw
[db]
path = $run/wsi.db
CONF
chmod 600 "$run/wsi.conf"
export WSI_CONFIG=$run/wsi.conf
cd "$run"

say "The mappings: every web customer is the Sage customer WEB, but for the B2B account 1400;
   card payments go to bank SEATAC with payment code CC"
show wsi-remap add customer '*' WEB
show wsi-remap add customer 1400 1400
show wsi-remap add payment stripe SEATAC CC
show wsi-remap add tax 'US-CA-STATE TAX' CA
say "Before the first run: is everything it needs there? (one line per check)"
show wsi-sync doctor

say "A day of web orders: wsi-sync (what cron runs)"
show wsi-sync
say "Where everything stands"
show wsi-sync status
say "What waits, and what fixes it"
show wsi-sync waiting

say "Fix BEDLAMP: it is item A1-104/0 in Sage"
show wsi-remap add item BEDLAMP A1-104/0
show wsi-sync
show wsi-sync waiting
say "In Sage now"
sqlite3 -column -header "$run/wsi.db" \
	"select id as web_order, state, sage_order, sage_invoice, sage_receipt as prepayment from orders order by id"
say "The month against Sage: every web order, in Sage once, with the right total?"
show wsi-sync report 2026-11-01 2026-12-01
say "One order's story"
show wsi-sync show shop:10234 | sed -n '1,12p'
echo
echo "The database and config are in $run (remove it when done); the simulators are stopped."
