#!/usr/bin/env bash
# Read-back (money.md decision 9): after its POSTs, wsi-post reads the invoices back, one request
# per 20 orders, and compares them to the cent: total, tax per authority, prepayment. A difference
# is recorded on the order, shown by waiting with both amounts, and makes the exit status 1.
. "$(dirname "$0")/lib.sh"
lamp_shop
wsi-remap add item BEDLAMP A1-104/0 2>/dev/null
sage /_sim/reset_stats '{}' >/dev/null
chain
is "$CHAIN" "0 0 0 1 0" "9 orders posted, all as sent"
is "$(sage /_sim/stats | json_get 'j["by_resource"].get("GET OEInvoices", 0)')" 1 "their invoices read back in one request"
is "$(q "select count(*) from reasons where code='sage-total-differs'")" 0 "and none differs"
for i in $(seq 50101 50125); do new_order "$i"; done
advance
sage /_sim/reset_stats '{}' >/dev/null
chain
is "$(sage /_sim/stats | json_get 'j["by_resource"].get("GET OEInvoices", 0)'):$(wc -l <posted.txt)" "2:25" "25 orders: 2 read-back requests"

# Sage books the tax on another authority than sent: the total agrees, the authorities do not
sage /_sim/options '{"tax_to_authority": 2}' >/dev/null
new_order 50201
advance
wsi-fetch 2>/dev/null | wsi-stage 2>/dev/null | wsi-remap 2>/dev/null | wsi-validate 2>/dev/null | wsi-post >posted.txt 2>err.txt; rc=$?
sage /_sim/options '{"tax_to_authority": 0}' >/dev/null
is "$rc:$(cut -f1 posted.txt):$(state_of 50201)" "1:shop:50201:posted" "posted (never reposted), exit 1"
like "$(cat err.txt)" "shop:50201: Sage invoice IN[0-9]+ of order ORD[0-9]+ differs from the web order: tax on authority 1 0.00, expected 1.38; tax on authority 2 1.38, expected 0.00" "named per authority, both amounts"
like "$(wsi-sync waiting -t)" "shop:50201	posted	sage-total-differs		.*tax on authority 2 1.38, expected 0.00" "shown by waiting"

# no invoice at all
sage /_sim/options '{"default_create_invoice": false}' >/dev/null
new_order 50202
advance
wsi-fetch 2>/dev/null | wsi-stage 2>/dev/null | wsi-remap 2>/dev/null | wsi-validate 2>/dev/null | wsi-post >/dev/null 2>err.txt; rc=$?
sage /_sim/options '{"default_create_invoice": true}' >/dev/null
is "$rc" 1 "an order Sage did not invoice: exit 1"
like "$(cat err.txt)" "shop:50202: .*Sage order ORD[0-9]+ has no invoice" "said"

# the prepayment Sage recorded is not what was sent
sage /_sim/options '{"tax_rounding": "0.01"}' >/dev/null
new_order 50203
advance
wsi-fetch 2>/dev/null | wsi-stage 2>/dev/null | wsi-remap 2>/dev/null | wsi-validate 2>/dev/null | wsi-post >/dev/null 2>err.txt
sage /_sim/options '{"tax_rounding": "0"}' >/dev/null
like "$(cat err.txt)" "shop:50203: .*total 34.39, expected 34.38; tax on authority 1 1.39, expected 1.38" "a total and a tax a cent off: both named"
is "$(sage_dups)" 0 "nothing twice"
done_testing
