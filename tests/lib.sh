# shellcheck shell=bash disable=SC2034,SC2120
# lib.sh - TAP helpers and simulators for wsi's shell tests. Source it first.
# Each test runs in its own temporary directory with its own simulators on free ports.
set -u
WSI_BIN=${WSI_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/bin}
TESTS=${TESTS:-$(cd "$(dirname "$0")" && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/wsi-test.XXXXXX")
PIDS=""
n=0
failed=0
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "# kept $T" >&2; fi
}
trap cleanup EXIT
cd "$T" || exit 1
unset WSI_CONFIG WSI_DB WSI_STORE_SECRET WSI_SAGE_PASSWORD

# Under WSI_VALGRIND=1 every tool runs in valgrind; a leak or an error fails the run.
if [ -n "${WSI_VALGRIND:-}" ]; then
	mkdir -p "$T/vgbin"
	for b in "$WSI_BIN"/wsi-*; do
		printf '#!/bin/sh\nexec valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 %s "$@"\n' "$b" >"$T/vgbin/${b##*/}"
		chmod +x "$T/vgbin/${b##*/}"
	done
	PATH="$T/vgbin:$PATH"
else
	PATH="$WSI_BIN:$PATH"
fi
export PATH

plan() { echo "1..$1"; }
ok() { # ok CONDITION-STATUS DESCRIPTION  (use: cmd; ok $? "desc")
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
is() { # is GOT EXPECTED DESCRIPTION
	n=$((n + 1))
	if [ "$1" = "$2" ]; then echo "ok $n - $3"; else
		echo "not ok $n - $3"; echo "#   got:      '$1'"; echo "#   expected: '$2'"; failed=$((failed + 1)); fi
}
like() { # like TEXT PATTERN(grep -E) DESCRIPTION
	n=$((n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then echo "ok $n - $3"; else
		echo "not ok $n - $3"; echo "#   '$1'"; echo "#   does not match '$2'"; failed=$((failed + 1)); fi
}
unlike() {
	n=$((n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		echo "not ok $n - $3"; echo "#   '$1'"; echo "#   matches '$2'"; failed=$((failed + 1)); else echo "ok $n - $3"; fi
}
done_testing() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }

# start_store KIND [ORDERS-FILE] [extra args]: sets STORE_URL and SIM
start_store() {
	kind=$1; shift
	orders=${1:-}; [ $# -gt 0 ] && shift
	SIMS=$(( ${SIMS:-0} + 1 )); pf="$T/store.port.$SIMS"
	python3 "$TESTS/storesim.py" --kind "$kind" ${orders:+--orders "$orders"} --portfile "$pf" "$@" \
		>"$T/storesim.log" 2>&1 &
	PIDS="$PIDS $!"
	STORE_PID=$!
	i=0
	while [ ! -s "$pf" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	STORE_PORT=$(cat "$pf")
	STORE_URL="http://127.0.0.1:$STORE_PORT"
	SIM=$STORE_URL
}

# start_sage [extra args]: the Sage 300 Web API simulator; sets SAGE_URL and SAGE
start_sage() {
	SIMS=$(( ${SIMS:-0} + 1 )); pf="$T/sage.port.$SIMS"
	python3 "$TESTS/sagesim.py" --portfile "$pf" "$@" >"$T/sagesim.log" 2>&1 &
	PIDS="$PIDS $!"
	SAGE_PID=$!
	i=0
	while [ ! -s "$pf" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	SAGE_PORT=$(cat "$pf")
	SAGE="http://127.0.0.1:$SAGE_PORT"
	SAGE_URL="$SAGE/Sage300WebApi/v1.0/-/SAMLTD"
}

# sage PATH [JSON]: a control request to the Sage simulator
sage() {
	if [ $# -gt 1 ]; then
		curl -s -X POST -H 'Content-Type: application/json' --data-binary "$2" "$SAGE$1"
	else
		curl -s "$SAGE$1"
	fi
}

# sim PATH [JSON]: a control request to the store simulator; prints its answer.
sim() {
	if [ $# -gt 1 ]; then
		curl -s -X POST -H 'Content-Type: application/json' --data-binary "$2" "$SIM$1"
	else
		curl -s "$SIM$1"
	fi
}

# write_conf KIND [extra lines]: a private wsi.conf for the simulator just started
write_conf() {
	kind=$1; shift
	{
		echo "[store]"
		echo "name = shop"
		echo "type = $kind"
		if [ "$kind" = file ]; then echo "url = ${FILE_URL:-orders.json}"; echo "format = ${FILE_FORMAT:-woocommerce}"
		else echo "url = $STORE_URL"; fi
		[ "$kind" = woocommerce ] && { echo "key = ck_test"; echo "secret = cs_test"; }
		[ "$kind" = shopify ] && echo "token = shpat_test"
		echo "settle = 0"
		echo "retries = 2"
		echo "timeout = 10"
		for l in "$@"; do case "$l" in \[*) break;; esac; echo "$l"; done
		if [ -n "${SAGE_URL:-}" ]; then
			echo "[sage]"
			echo "url = $SAGE_URL"
			echo "user = WEBAPI"
			echo "password = sage-test-pw"
			echo "retries = 2"
			echo "timeout = 5"
			[ -n "${RECONCILE_AFTER:-}" ] && echo "reconcile_after = $RECONCILE_AFTER"
			after=""
			for l in "$@"; do case "$l" in \[sage\]) after=1; continue;; \[*) after="";; esac; [ -n "$after" ] && echo "$l"; done
		fi
		echo "[db]"
		echo "path = $T/wsi.db"
	} >wsi.conf
	chmod 600 wsi.conf
}

# q SQL: query the test database
q() { sqlite3 -batch -noheader "$T/wsi.db" "$1"; }
# canon ID: the canonical order of shop:ID, compact, as wsi derives it (it is not stored: wsi(7))
canon() { wsi-sync show "shop:$1" | awk '/^Canonical order$/ {f = 1; next} /^Raw order/ {f = 0} f' | jq -c .; }

# lamp_shop [conf lines]: the lamp store (12 orders, two with BEDLAMP, one over the credit
# limit, one cancelled, one pending) and the Sage company, with the usual mappings.
lamp_shop() {
	start_store woocommerce "$TESTS/fixtures/lamp-orders.json" --now 2026-11-26T20:00:00Z
	start_sage
	write_conf woocommerce "$@"
	wsi-remap add customer '*' WEB 2>/dev/null
	wsi-remap add customer 1400 1400 2>/dev/null
	wsi-remap add payment stripe SEATAC CC 2>/dev/null
	wsi-remap add tax 'US-CA-STATE TAX' CA 2>/dev/null
}

# chain: the daily pipe; sets CHAIN to every step's status
chain() {
	wsi-fetch 2>>"$T/chain.err" | wsi-stage 2>>"$T/chain.err" | wsi-remap 2>>"$T/chain.err" |
		wsi-validate 2>>"$T/chain.err" | wsi-post "$@" 2>>"$T/chain.err" >"$T/posted.txt"
	CHAIN="${PIPESTATUS[*]}"
}

# sage_count KIND: orders (or receipts, invoices) the Sage simulator holds
sage_count() { sage /_sim/state | json_get "len(j['$1'])"; }
# sage_refs: the OrderReference of every Sage order, sorted, one a line
sage_refs() { sage /_sim/state | python3 -c 'import json,sys; [print(o["OrderReference"]) for o in json.load(sys.stdin)["orders"]]' | sort; }
# dups: references Sage holds more than once (must be none)
sage_dups() { sage_refs | uniq -d | wc -l; }

# new_order ID [python statements on o]: add a copy of lamp order 10232 (one desk lamp, paid)
# to the store with a new id, changed by the statements, modified now; then move the clock.
new_order() {
	id=$1; shift
	python3 - "$TESTS/fixtures/lamp-orders.json" "$id" "$@" <<'PY' >"$T/new.json"
import json, sys
o = [x for x in json.load(open(sys.argv[1])) if x['id'] == 10232][0]
o['id'] = int(sys.argv[2]); o['number'] = sys.argv[2]
for stmt in sys.argv[3:]:
    exec(stmt)
print(json.dumps({'orders': [o], 'touch': True}))
PY
	curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$T/new.json" "$SIM/_sim/orders" >/dev/null
}
advance() { sim /_sim/clock "{\"advance\":${1:-120}}" >/dev/null; }

# json_get EXPR: the JSON on stdin as j, EXPR (Python) of it printed: json_get 'len(j["orders"])'
json_get() { python3 -c 'import json,sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
# state_of ID: the state of order shop:ID
state_of() { q "select state from orders where store='shop' and id='$1'"; }
# wait_state ID STATE [TRIES]: poll (every 0.05 s, 400 tries by default) until order shop:ID is in STATE
wait_state() {
	i=0
	while [ "$(state_of "$1")" != "$2" ] && [ $i -lt "${3:-400}" ]; do sleep 0.05; i=$((i + 1)); done
}
# wait_fault_taken sage|sim: poll (up to 20 s) until the simulator's queued faults have all fired,
# i.e. the tool a delay fault holds is inside it now
wait_fault_taken() {
	i=0
	while [ "$("$1" /_sim/faults | json_get 'j["queued"]')" != 0 ] &&
		[ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
}
