#!/usr/bin/env bash
# kill -9 of wsi-stage part way: nothing staged is lost, the mark is never ahead of what
# is committed, and a rerun stages every order exactly once.
. "$(dirname "$0")/lib.sh"
FILE_URL=orders.json write_conf file
python3 "$TESTS/envelopes.py" 6000 woocommerce 250 >all.txt
total=$(grep -c '"order"' all.txt)

check_mark() { # every order above the committed mark line is staged
	mark=$(wsi-hwm | cut -f3)
	[ -z "$mark" ] && return 0
	missing=$(python3 - "$mark" "$T/wsi.db" <<'PY'
import json, sqlite3, sys
mark, db = sys.argv[1], sys.argv[2]
have = {r[0] for r in sqlite3.connect(db).execute("select id from orders")}
miss = 0
for line in open('all.txt'):
    if line.startswith('{"mark"'):
        continue
    e = json.loads(line)
    if e['modified'] < mark and e['id'] not in have:
        miss += 1
print(miss)
PY
)
	[ "$missing" = 0 ]
}

# a slow writer (the kill lands mid-stream, inside a batch), then the input at full speed with
# two worker threads (the kill lands with up to 128 orders prepared and not yet written)
for run in "0.05 slow" "0.15 slow" "0.3 slow" "0.1 fast" "0.4 fast"; do
	set -- $run
	delay=$1
	rm -f wsi.db*
	if [ "$2" = slow ]; then
		(while IFS= read -r l; do printf '%s\n' "$l"; done <all.txt) | wsi-stage -b 100 >keys1.txt 2>/dev/null &
	else
		wsi-stage -j 2 -b 100 <all.txt >keys1.txt 2>/dev/null &
	fi
	stage=$! # this test's own wsi-stage: tests run in parallel
	sleep "$delay"
	kill -9 "$stage"
	wait "$stage" 2>/dev/null
	got=$(q 'select count(*) from orders' 2>/dev/null || echo 0)
	check_mark; ok $? "$2 input, killed after ${delay}s ($got of $total staged): the mark is not ahead of what is staged"
	ok $([ "$(q 'pragma integrity_check')" = ok ] && echo 0 || echo 1) "the database is intact"
	wsi-stage <all.txt >keys2.txt 2>/dev/null; rc=$?
	is "$rc:$(q 'select count(*) from orders')" "0:$total" "the rerun stages the rest"
	is "$(cat keys1.txt keys2.txt | sort | uniq -d | wc -l)" 0 "no key printed twice across the two runs"
	is "$(q "select count(*) from events where to_state='staged'")" "$total" "each order staged exactly once"
done
# threads change nothing but the time: the same rows, events, marks and keys as one thread
rm -f wsi.db*
wsi-stage -j 0 <all.txt >keys0.txt 2>/dev/null
snap() { q "select store, id, state, raw_hash, content_hash, store_status from orders order by store, id;
	select id, from_state, to_state, why from events order by seq; select store, kind, value from marks"; }
snap >serial.txt
rm -f wsi.db*
wsi-stage -j 3 -b 37 <all.txt >keys3.txt 2>/dev/null # (-b moves only the commits)
snap >threaded.txt
ok $(cmp -s serial.txt threaded.txt && cmp -s keys0.txt keys3.txt && echo 0 || echo 1) \
	"-j 3 stages exactly as -j 0: rows, events in order, marks, keys printed in input order"
wsi-stage -j abc </dev/null 2>/dev/null
is $? 2 "-j takes a number of threads"

# progress on a terminal, and nothing of it when stderr is not one
rm -f wsi.db*
python3 "$TESTS/envelopes.py" 20000 woocommerce 1000 >big.txt
# (a pause mid-input: a load this size is done in less than the second before progress shows)
printf '{ head -n 10000 big.txt; sleep 1.2; tail -n +10001 big.txt; } | wsi-stage >/dev/null\n' >slow.sh
script -qec "sh slow.sh" /dev/null >tty.txt 2>&1
like "$(tr '\r' '\n' <tty.txt)" "wsi-stage: [0-9]+ lines read, [0-9]+/s" "a long run shows its progress on a terminal"
rm -f wsi.db*
wsi-stage <all.txt >/dev/null 2>notty.txt
is "$(wc -c <notty.txt)" 0 "and nothing when stderr is not a terminal"
done_testing
