#!/usr/bin/env bash
# Views that hide nothing: wsi-sync waiting names every order not in Sage that will not get there
# by itself, status never says ok for a step that failed, counts claim only work done; a person
# settles a conflict; wsi-sync checks the config once.
. "$(dirname "$0")/lib.sh"
lamp_shop
wsi-remap add item BEDLAMP A1-104/0 2>/dev/null
wsi-sync 2>/dev/null

# Sage down: the new orders are left staged, mapped or valid, and waiting says so
kill "$SAGE_PID"; wait "$SAGE_PID" 2>/dev/null
new_order 50001
advance
wsi-sync 2>sync.err; rc=$?
is "$rc" 4 "Sage down: exit 4"
like "$(wsi-sync waiting)" "1 order waits for the next run \(the last could not reach Sage or the store" "waiting names the order Sage could not take"
like "$(wsi-sync waiting)" "^ +shop:50001$" "by its key"
like "$(wsi-sync status)" "wsi-validate .* exit 4 +checked none of [0-9]+: GET" "status: no count claims work that did not happen"
unlike "$(cat sync.err)" "checked [1-9]" "nor does the step's line"

# a step that stops before it begins is failed in status, never ok
mkdir fake
cp "$WSI_BIN"/wsi-* fake/
printf '#!/bin/sh\nexit 5\n' >fake/wsi-remap
start_sage
write_conf woocommerce
fake/wsi-sync 2>sync.err; rc=$?
is "$rc" 5 "a step that fails at once: its status counts"
like "$(wsi-sync status)" "wsi-remap .* exit 5 +stopped before it began its work" "and status says it failed"

# a config error: one message, exit 3, no step run
write_conf woocommerce "[sage]" "prepayment = sometimes"
out=$(wsi-sync 2>&1); rc=$?
is "$rc" 3 "a config error: exit 3"
is "$(printf '%s\n' "$out" | wc -l)" 1 "one message, not one per step"
like "$out" "wsi.conf:[0-9]+: \[sage\] prepayment must be" "naming the line"
write_conf woocommerce
wsi-sync 2>/dev/null

# a conflict: shown, with how a person settles it; settled, it leaves the list, by whom recorded
sim /_sim/edit '{"id":50001,"set":{"customer_note":"changed after posting"}}' >/dev/null
advance
wsi-sync 2>/dev/null
is "$(state_of 50001)" conflict "changed after posting: a conflict"
like "$(wsi-sync waiting)" "1 order waits changed in the store after posting: make the credit note or change in Sage by hand, then wsi-sync settle KEY" "waiting says how to settle it"
wsi-sync settle shop:50001; rc=$?
is "$rc:$(state_of 50001)" "0:posted" "wsi-sync settle: recorded as posted"
like "$(q "select who||' '||why from events where id='50001' order by seq desc limit 1")" "settled by hand in Sage by " "the event says who settled it"
unlike "$(wsi-sync waiting)" "shop:50001" "and it leaves the list"
wsi-sync 2>/dev/null
is "$(state_of 50001)" posted "the next run leaves it posted (its content is what was settled)"
out=$(wsi-sync settle shop:10231 2>&1); rc=$?
is "$rc" 2 "settle on an order that is not a conflict: exit 2"
like "$out" "only a conflict" "and says why"

# a Sage total that differs: counted in status, shown in waiting, settled by a person
sage /_sim/options '{"tax_rounding": "0.01"}' >/dev/null
new_order 50002
advance
wsi-sync 2>/dev/null; rc=$?
sage /_sim/options '{"tax_rounding": "0"}' >/dev/null
is "$rc" 1 "a Sage total that differs: exit 1"
like "$(wsi-sync status)" "of the posted, 1 with a Sage total that differs" "counted in status"
wsi-sync hold shop:10240   # the order over its credit limit: out of the way
wsi-sync 2>sync.err; rc=$?
is "$rc" 1 "the next run too exits 1 while it waits"
like "$(cat sync.err)" "1 order waits for a person: wsi-sync waiting" "and says so"
wsi-sync settle shop:50002
unlike "$(wsi-sync waiting)" "shop:50002" "checked and settled: off the list"
wsi-sync 2>/dev/null; rc=$?
is "$rc" 0 "settled: the run exits 0"
done_testing
