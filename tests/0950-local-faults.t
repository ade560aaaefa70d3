#!/usr/bin/env bash
# Local trouble: a full disk, a missing or read-only database directory, a database held by
# another run, a closed or full stdout. Clear messages, nothing half-written, the mark unmoved.
. "$(dirname "$0")/lib.sh"
FILE_URL=orders.json write_conf file
python3 "$TESTS/envelopes.py" 3000 woocommerce 100 >all.txt

# a full disk while staging
export ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0
out=$(LD_PRELOAD="$WSI_BIN/enospc.so" WSI_FULL_PATH=wsi.db WSI_FULL_AFTER=1500000 wsi-stage <all.txt 2>&1 >/dev/null); rc=$?
is "$rc" 5 "a full disk: exit 5"
like "$out" "database or disk is full|disk I/O error|full" "says the disk is full"
ok $([ "$(q 'pragma integrity_check')" = ok ] && echo 0 || echo 1) "the database is intact"
staged=$(q 'select count(*) from orders')
mark=$(wsi-hwm | cut -f3)
missing=$(python3 -c '
import json, sqlite3, sys
mark, have = sys.argv[1], {r[0] for r in sqlite3.connect("wsi.db").execute("select id from orders")}
print(sum(1 for l in open("all.txt") if l.startswith("{\"store\"") and json.loads(l)["modified"] < mark and json.loads(l)["id"] not in have))' "$mark")
is "$missing" 0 "the mark ($mark) is not past what was committed ($staged orders)"
wsi-stage <all.txt >/dev/null 2>&1
is "$(q 'select count(*) from orders')" 3000 "with space again, the rerun stages the rest"
unset ASAN_OPTIONS

# a directory that cannot be made (a file is in the way)
touch "$T/nowhere"
sed -i "s|^path = .*|path = $T/nowhere/db/wsi.db|" wsi.conf
out=$(wsi-hwm 2>&1); rc=$?
is "$rc" 5 "a database directory that cannot be made: exit 5"
like "$out" "the database's directory $T/nowhere/db does not exist and cannot be made \(Not a directory\)" "names the path and why"
# a read-only directory (root writes anywhere, so only as another user)
if [ "$(id -u)" -ne 0 ]; then
	mkdir ro && chmod 555 ro
	sed -i "s|^path = .*|path = $T/ro/wsi.db|" wsi.conf
	out=$(wsi-hwm 2>&1); rc=$?
	is "$rc" 5 "a read-only directory: exit 5"
	like "$out" "Permission denied" "says so"
else
	echo "ok $((n += 1)) - # SKIP a read-only directory cannot stop root"
	echo "ok $((n += 1)) - # SKIP a read-only directory cannot stop root"
fi
sed -i "s|^path = .*|path = $T/wsi.db|" wsi.conf

# another run holds the database: wait, then a clear message
python3 -c 'import sqlite3, time; c = sqlite3.connect("wsi.db", isolation_level=None); c.execute("BEGIN IMMEDIATE"); open("held", "w").close(); time.sleep(3)' &
holder=$!
while [ ! -e held ]; do sleep 0.05; done
out=$(echo '{"mark":{"store":"shop","modified":"2026-01-01T00:00:00Z"}}' | WSI_BUSY_TIMEOUT_MS=300 wsi-stage 2>&1); rc=$?
is "$rc" 5 "the database held by another run: exit 5 after the wait"
like "$out" "another wsi run holds the database" "says so"
start=$(date +%s)
echo '{"mark":{"store":"shop","modified":"2026-01-01T00:00:00Z"}}' | WSI_BUSY_TIMEOUT_MS=10000 wsi-stage 2>/dev/null; rc=$?
is "$rc" 0 "with a longer wait it goes on when the other run ends"
wait "$holder"

# stdout closed or full: the write error is reported, not swallowed
out=$(wsi-hwm 2>&1 >&-); rc=$?
is "$rc" 5 "stdout closed: exit 5"
like "$out" "cannot write standard output" "says so"
wsi-remap add item A B 2>/dev/null
out=$(wsi-remap list 2>&1 >/dev/full); rc=$?
is "$rc" 5 "stdout on a full device: exit 5"
cp "$TESTS/fixtures/woo-orders-list-docs-v3.json" orders.json
out=$(wsi-fetch --since 2000-01-01T00:00:00Z 2>&1 >/dev/full); rc=$?
is "$rc" 5 "wsi-fetch to a full device: exit 5"
done_testing
