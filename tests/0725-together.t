#!/usr/bin/env bash
# Tools run together (a person beside cron): every move is a compare-and-set. Each race is made
# certain, not probable: a delay fault holds one tool inside Sage or the store while another runs.
. "$(dirname "$0")/lib.sh"
lamp_shop
wsi-fetch 2>/dev/null | wsi-stage 2>/dev/null | wsi-remap 2>/dev/null | wsi-validate >/dev/null 2>&1
is "$(q "select state from orders where id='10231'")" valid "an order ready to post"

# validate beside post: validate loaded 10231 as valid, post claims and sends it (slowly), validate
# answers; then a second post. Before: validate set it back to valid, and the second post made a
# second Sage order.
sage /_sim/fault '{"delay":3,"method":"GET","match":"ICItems"}' >/dev/null
wsi-validate shop:10231 >/dev/null 2>val.err &
vpid=$!
wait_fault_taken sage
sage /_sim/fault '{"delay":4,"method":"POST","match":"OEOrders"}' >/dev/null
wsi-post shop:10231 >posted1.txt 2>post1.err &
ppid=$!
wait_state 10231 posting
wait "$vpid"
is "$(q "select state from orders where id='10231'")" posting "validate leaves an order post has claimed"
like "$(cat val.err)" "shop:10231.*(moved|is now posting).*left as it is" "and says so"
wsi-post -a >posted2.txt 2>post2.err
wait "$ppid"
is "$(sage_refs | grep -c '^shop:10231$')" 1 "one Sage order for the web order"
is "$(q "select state from orders where id='10231'")" posted "posted by the first post"

# a hold and a remap made while a validate runs are kept
sage /_sim/fault '{"delay":3,"method":"GET","match":"ICItems"}' >/dev/null
wsi-validate -a >/dev/null 2>val.err &
vpid=$!
wait_fault_taken sage
wsi-sync hold shop:10234 2>/dev/null
wsi-remap add item BEDLAMP A1-104/0 2>/dev/null
wait "$vpid"
is "$(q "select state from orders where id='10234'")" held "a hold made during a validate stays"
is "$(q "select state from orders where id='10238'")" staged "a remap made during a validate stays"
is "$(q "select count(*) from events where id='10238' and seq > (select max(seq) from events where id='10238' and to_state='staged')")" 0 \
	"and validate wrote nothing over it"
wsi-remap -a 2>/dev/null | wsi-validate 2>/dev/null | wsi-post >posted.txt 2>/dev/null
is "$(cut -f1 posted.txt)" "shop:10238" "the remapped order goes on"

# a cancellation staged while the order's POST is in flight: Sage's answer is recorded, and
# the order is left a conflict for a person
new_order 30001
advance
wsi-fetch 2>/dev/null | wsi-stage 2>/dev/null | wsi-remap 2>/dev/null | wsi-validate >/dev/null 2>&1
sage /_sim/fault '{"delay":3,"method":"POST","match":"OEOrders"}' >/dev/null
wsi-post shop:30001 >posted.txt 2>post.err &
ppid=$!
wait_state 30001 posting
sim /_sim/edit '{"id":30001,"set":{"status":"cancelled"}}' >/dev/null
advance
wsi-fetch 2>/dev/null | wsi-stage >/dev/null 2>&1
is "$(q "select state from orders where id='30001'")" conflict "cancelled during the POST: a conflict"
wait "$ppid"
like "$(q "select state||' '||coalesce(sage_order,'-') from orders where id='30001'")" "^conflict ORD[0-9]+$" \
	"Sage's answer is recorded, and the conflict stays"
like "$(q "select why from events where id='30001' order by seq desc limit 1")" "Sage created it as order ORD[0-9]+.*a person must look" \
	"the event says what Sage did"
like "$(wsi-sync waiting)" "shop:30001" "it waits for a person"

# wsi-hwm set during a sync wins over the sync's stage
new_order 30002
advance
sim /_sim/fault '{"delay":3,"match":"orders"}' >/dev/null
wsi-sync 2>sync.err &
spid=$!
wait_fault_taken sim
wsi-hwm set 2026-11-20T00:00:00Z 2>/dev/null
wait "$spid"
is "$(wsi-hwm | cut -f3)" "2026-11-20T00:00:00Z" "the mark a person set during the run stays"
like "$(cat sync.err)" "mark of shop was set during this run" "and the stage says it left it"
# wsi-stage holds no lock while its input is slow: a second stage and a remap add run beside it
new_order 30003
new_order 30004
advance
wsi-fetch >env.txt 2>/dev/null
{ grep '"id":"30003"' env.txt; sleep 3; grep -v '"id":"30003"' env.txt; } | wsi-stage >slow.keys 2>slow.err &
slow=$!
# its first order committed (at most 2 s: a stage holding it uncommitted must still be beside the next)
wait_state 30003 staged 40
WSI_BUSY_TIMEOUT_MS=1000 wsi-stage <env.txt >/dev/null 2>fast.err; rc=$?
is "$rc" 0 "a second wsi-stage fed at once finishes"
WSI_BUSY_TIMEOUT_MS=1000 wsi-remap add shipvia flat_rate UPS 2>remap.err; rc=$?
is "$rc" 0 "wsi-remap add beside a slow stage does not wait on it"
wait "$slow"; rc=$?
is "$rc" 0 "the slow stage finishes too"
unlike "$(cat fast.err slow.err remap.err)" "UNIQUE|locked" "no constraint error, no lock error"
is "$(q "select count(*) from orders where id in ('30003','30004')")" 2 "each order staged once"
done_testing
