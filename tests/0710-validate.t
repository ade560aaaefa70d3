#!/usr/bin/env bash
# wsi-validate against the Sage simulator: every reason kept, batched questions, Sage down.
. "$(dirname "$0")/lib.sh"
lamp_shop

chain
is "$CHAIN" "0 0 0 1 0" "the chain: validate exits 1 for the invalid orders, the rest go on"
is "$(q "select state||':'||count(*) from orders group by state order by state" | tr '\n' ' ')" "invalid:3 posted:7 skipped:2 " "7 posted, 3 waiting, 2 skipped"
list=$(wsi-validate -l)
is "$(printf '%s\n' "$list" | cut -f1,2 | tr '\t\n' ': ')" "shop:10234:item-missing shop:10238:item-missing shop:10240:credit-limit " "-l: key, code"
like "$list" "shop:10234	item-missing	Line 1: item BEDLAMP is not in Sage. Add the item in Sage, or map the web SKU to a Sage item: wsi-remap add item BEDLAMP <Sage item>." "-l: a sentence a bookkeeper understands, with the fix"
like "$list" "credit-limit	Customer 1400 \(Mammoth Lighting Ltd\) would be over its credit limit: balance 4700.00 plus this order 525.68 is more than the limit 5000.00." "credit limit: balance plus this order over the limit"
like "$(cat chain.err)" "wsi-validate: shop:10234: Line 1: item BEDLAMP is not in Sage" "reasons on stderr as they are found"

# customer on hold, payment unmapped, totals that do not add up, another currency, a SKU with a quote
new_order 20001 "o['customer_id'] = 77"
new_order 20002 "o['payment_method'] = 'paypal'"
new_order 20003 "o['total'] = '99.99'"
new_order 20004 "o['currency'] = 'EUR'"
new_order 20005 "o['line_items'][0]['sku'] = \"O'NEIL-LAMP\""
new_order 20006 "o['line_items'][0]['sku'] = 'A1-999/0'"
new_order 20007 "o['line_items'][0]['quantity'] = 0"
advance
wsi-remap add customer 77 1200 2>/dev/null
curl -s -X POST "$SAGE/_sim/reset_stats" >/dev/null
chain
is "$CHAIN" "0 0 0 1 0" "a run with more invalid orders"
r() { q "select group_concat(code, ' ') from reasons where id='$1'"; }
is "$(r 20001)" customer-on-hold "customer on hold"
like "$(wsi-validate -l | grep 20001)" "Customer 1200 \(Holden Retail\) is on hold in Sage" "on hold: says who"
is "$(r 20002)" payment-unmapped "payment method without a bank: payment-unmapped"
like "$(wsi-validate -l | grep 20002)" "paid by paypal, which has no Sage bank and payment code: wsi-remap add payment paypal <bank> <payment code>" "and how to fix it"
is "$(r 20003)" total-mismatch "totals that do not add up"
like "$(wsi-validate -l | grep 20003)" "add up to 34.38, but the order total is 99.99" "with both figures"
is "$(r 20004)" currency-mismatch "the order's currency is not the customer's"
is "$(r 20005)" item-missing "a SKU with a quote: asked about safely, and missing"
like "$(wsi-validate -l | grep 20005)" "item O'NEIL-LAMP is not in Sage" "the SKU as it is"
is "$(r 20006)" item-inactive "an inactive item"
is "$(r 20007)" quantity-not-positive "a zero quantity"
is "$(sage /_sim/stats | python3 -c 'import json,sys; d=json.load(sys.stdin)["by_resource"]; print(d.get("GET ICItems",0), d.get("GET ARCustomers",0), d.get("GET OEOrders",0))')" "1 1 1" "one request per kind for the run (validate), references by batch (validate and post)"

# the item added in Sage: seen on the next check of invalid orders
sage /_sim/items '[{"UnformattedItemNumber":"ONEILLAMP","ItemNumber":"O'"'"'NEIL-LAMP","Description":"Neil lamp","Status":true,"Sellable":true,"BasePrice":5}]' >/dev/null
out=$(wsi-validate -a 2>/dev/null)
like "$out" "shop:20005" "-a checks invalid orders again: the item added in Sage is seen"

# Sage unreachable: exit 4 and nothing changes
before=$(q "select group_concat(id||state) from orders")
kill "$SAGE_PID"; wait "$SAGE_PID" 2>/dev/null
out=$(wsi-validate -a 2>&1); rc=$?
is "$rc" 4 "Sage down: exit 4"
like "$out" "GET http://127.0.0.1:$SAGE_PORT/Sage300WebApi/v1.0/-/SAMLTD/IC/ICItems: .*(connect|refused)" "names the URL"
is "$(q "select group_concat(id||state) from orders")" "$before" "no state changed"
done_testing
