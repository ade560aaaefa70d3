#!/usr/bin/env bash
# wsi-hwm: show, set, set --id, reset, log; a rerun after set stages nothing twice, and
# set records which orders Sage must be asked about again.
. "$(dirname "$0")/lib.sh"
start_store woocommerce "" --now 2026-11-27T12:00:00Z
write_conf woocommerce
sim /_sim/generate '{"n":120,"ago":7200,"spread":3600}' >/dev/null
export WSI_NOW=2026-11-27T12:01:00Z  # our clock, for when orders were downloaded

is "$(wsi-hwm)" "" "no mark before the first run"
wsi-fetch 2>/dev/null | wsi-stage >keys.txt
is "$(wc -l <keys.txt)" 120 "first run stages 120"
line=$(wsi-hwm)
like "$line" "^shop	time	2026-11-27T12:00:00Z	2026-[0-9-]+T[0-9:]+Z	wsi-stage$" "show: store, kind, value, when, by whom (a tool)"

wsi-hwm set 2026-11-27T10:30:00Z 2>err.txt; rc=$?
is "$rc" 0 "set TIME"
like "$(cat err.txt)" "staged orders? will be checked against Sage again" "set says what it records"
like "$(wsi-hwm)" "^shop	time	2026-11-27T10:30:00Z	.*	[^	]+ \(wsi-hwm\)$" "set by a person"
is "$(q "select count(*) from orders where recheck<>0")" 120 "orders downloaded since TIME flagged for a check against Sage"
is "$(q 'select since||" "||orders from rechecks')" "2026-11-27T10:30:00Z 120" "the recheck is recorded"
q "update orders set recheck=0; update orders set posted_at='2026-11-27T12:40:00Z' where id in ('1000','1001')"
WSI_NOW=2026-11-27T12:45:00Z wsi-hwm set 2026-11-27T12:30:00Z 2>/dev/null
is "$(q "select group_concat(id) from orders where recheck<>0")" "1000,1001" "only orders downloaded, modified or posted since TIME are flagged"
wsi-hwm set 2026-11-27T10:30:00Z 2>/dev/null

wsi-fetch 2>/dev/null | wsi-stage >keys.txt; rc=$?
is "$rc:$(wc -l <keys.txt)" "0:0" "a rerun after set stages nothing twice"
is "$(q 'select count(*) from orders')" 120 "still 120 orders"
is "$(wsi-hwm | cut -f3)" "2026-11-27T12:00:00Z" "and the mark is back at the store's clock"

wsi-hwm set 2026-11-27T13:00:00+01:00 2>/dev/null
is "$(wsi-hwm | cut -f3)" "2026-11-27T12:00:00Z" "set with an offset is stored in UTC"
wsi-hwm set --id 1100 2>/dev/null
is "$(wsi-hwm | grep -c '	id	1100	')" 1 "set --id N"
wsi-hwm reset 2>err.txt
is "$(wsi-hwm)" "" "reset removes the marks"
is "$(q 'select count(*) from orders where recheck<>0')" 120 "reset flags every order for a check"

log=$(wsi-hwm log)
is "$(printf '%s\n' "$log" | wc -l)" 9 "log: every change"
like "$(printf '%s\n' "$log" | head -1)" "^[0-9T:Z-]+	shop	time	-	2026-11-27T12:00:00Z	wsi-stage	read whole up to here$" "log: at, store, kind, old, new, by, why"
like "$(printf '%s\n' "$log" | grep reset | head -1)" "	2026-11-27T12:00:00Z	-	.*\(wsi-hwm\)	reset$" "log: reset by a person"
out=$(wsi-hwm set 2>&1); rc=$?
is "$rc" 2 "set without a value: usage"
out=$(wsi-hwm set --id abc 2>&1); rc=$?
is "$rc" 2 "set --id with a non-number: usage"
out=$(wsi-hwm frobnicate 2>&1); rc=$?
is "$rc" 2 "unknown command: usage"
done_testing
