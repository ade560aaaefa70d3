#!/usr/bin/env bash
# Re-sync without waiting: after wsi-hwm set, the next wsi-sync posts what Sage lacks in that
# run, and waits only for an order whose POST may really still be saving in Sage (the journal of
# requests sent, DB.sent, survives a restore of the database).
. "$(dirname "$0")/lib.sh"
lamp_shop   # [sage] reconcile_after at its default, 600 s
wsi-remap add item BEDLAMP A1-104/0 2>/dev/null
wsi-sync 2>/dev/null
posted=$(q "select count(*) from orders where state='posted'")
is "$posted:$(sage_count orders)" "9:9" "9 orders posted"

# a test reset, three times: restore the Sage company, wsi-hwm set T, wsi-sync
for round in 1 2 3; do
	sage /_sim/restore '{"keep":0}' >/dev/null
	start=$(date +%s)
	wsi-hwm set 2026-11-26T00:00:00Z 2>/dev/null
	wsi-sync 2>sync.err; rc=$?
	took=$(( $(date +%s) - start ))
	is "$(sage_count orders):$(sage_dups)" "9:0" "reset $round: the one run after the set posts every order again, once"
	ok "$([ "$took" -lt 60 ]; echo $?)" "reset $round: in seconds, not reconcile_after ($took s)"
	is "$rc" 1 "reset $round: exit 1 (the order over its credit limit waits), not 4"
	unlike "$(cat sync.err)" "without an answer|sent to Sage less than" "reset $round: no order never sent is said to be sent without an answer"
done
like "$(wsi-sync status | grep -A1 '^Checked against Sage after wsi-hwm set')" "^  0 found in Sage, 9 lacked in Sage and went again, 3 not posted before; 0 still to check" "status: what the last set's check came to"

# a run killed during its POST, then our database restored from a copy taken before it: the
# journal beside the database still knows the POST was sent, and that order waits for it
new_order 50001
advance
wsi-sync 2>/dev/null
cp wsi.db before.db
new_order 50002
advance
wsi-fetch 2>/dev/null | wsi-stage 2>/dev/null | wsi-remap 2>/dev/null | wsi-validate >/dev/null 2>&1
sage /_sim/fault '{"delay":3,"method":"POST","match":"OEOrders","count":1}' >/dev/null
wsi-post -a >/dev/null 2>&1 &
post=$!
wait_fault_taken sage
kill -9 "$post"; wait "$post" 2>/dev/null
like "$(cat wsi.db.sent)" "^S [0-9]+ [0-9]+ O shop:50002$" "the journal holds the POST sent and not answered"
cp before.db wsi.db; rm -f wsi.db-wal wsi.db-shm
wsi-hwm set "$(q "select value from marks where kind='time'")" 2>/dev/null
wsi-sync 2>sync.err; rc=$?
like "$(cat sync.err)" "shop:50002: sent to Sage at .* with no answer" "the restored database does not know it was sent; the journal does: it waits, said with when it was sent"
sleep 3  # the killed POST's delay: Sage saves it now
is "$(sage_refs | grep -c '^shop:50002$')" 1 "not sent again"
is "$rc" 1 "Sage was reached: not exit 4"
like "$(wsi-sync waiting)" "waits? for Sage to answer a request sent at" "wsi-sync waiting names it"
# once reconcile_after has passed since the POST, Sage's answer is what it has
write_conf woocommerce "[sage]" "reconcile_after = 1"
sleep 2
wsi-sync 2>/dev/null
is "$(state_of 50002):$(sage_refs | grep -c '^shop:50002$')" "posted:1" "then found in Sage and recorded: once"
is "$(grep -c . wsi.db.sent || true)" 0 "and the journal is emptied"
done_testing
