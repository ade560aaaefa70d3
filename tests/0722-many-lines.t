#!/usr/bin/env bash
# An order of 6,000 lines, taxed on two authorities, goes through as any other: its lines read one
# at a time, its content hashed in pieces (its canonical text is over a MiB), its details written
# as text (wsi(7), THE DATABASE). Sage gets every line with its tax per authority, the invoice
# reads back equal, and the unchanged order downloaded again is the same order (not a conflict).
. "$(dirname "$0")/lib.sh"
lamp_shop
{ wsi-remap add customer 777 SEA01; wsi-remap add tax US-WA-STATE WAST; wsi-remap add tax US-WA-KING WAKC; } 2>/dev/null
new_order 70001 "import copy; l0 = o['line_items'][0]; n = 6000" \
	"o['customer_id'] = 777; o['line_items'] = [dict(copy.deepcopy(l0), id=700010000 + k, sku='A1-103/0', quantity=1, price=2.0, subtotal='2.00', total='2.00', subtotal_tax='0.20', total_tax='0.20', taxes=[{'id': 80, 'total': '0.13', 'subtotal': '0.13'}, {'id': 81, 'total': '0.07', 'subtotal': '0.07'}]) for k in range(n)]" \
	"o['tax_lines'] = [{'id': 1, 'rate_code': 'US-WA-STATE', 'rate_id': 80, 'label': 'WAST', 'compound': False, 'tax_total': '780.00', 'shipping_tax_total': '0.00'}, {'id': 2, 'rate_code': 'US-WA-KING', 'rate_id': 81, 'label': 'WAKC', 'compound': False, 'tax_total': '420.00', 'shipping_tax_total': '0.00'}]" \
	"o.update(discount_total='0.00', coupon_lines=[], fee_lines=[], cart_tax='1200.00', total_tax='1200.00', shipping_tax='0.00', shipping_total='10.00', total='13210.00'); o['shipping_lines'][0].update(total='10.00', total_tax='0.00', taxes=[])"
advance
wsi-sync 2>sync.err
is "$(state_of 70001):$(q "select count(*) from reasons where id='70001'")" "posted:0" "6,000 lines: posted, read back equal"
is "$(sage /_sim/state | json_get "[(len([d for d in o['OrderDetails'] if d['LineType'] == 'Item']), round(sum(d['TaxAmount1'] for d in o['OrderDetails']), 2), round(sum(d['TaxAmount2'] for d in o['OrderDetails']), 2)) for o in j['orders'] if o['OrderReference'] == 'shop:70001']")" \
	"[(6000, 780.0, 420.0)]" "every line in Sage, 780.00 WAST and 420.00 WAKC"
is "$(sage /_sim/state | json_get "[(i['InvoiceTotalWithTax'], i['TotalTaxAmount1'], i['TotalTaxAmount2']) for i in j['invoices'] if i['OrderNumber'] == [o['OrderNumber'] for o in j['orders'] if o['OrderReference'] == 'shop:70001'][0]]")" \
	"[(13210.0, 780.0, 420.0)]" "the invoice is the web order, per authority"
ok "$([ "$(wsi-sync show shop:70001 | awk '/^Canonical order$/ {f = 1; next} /^Raw order/ {f = 0} f' | wc -c)" -gt 1048576 ])$?" \
	"its canonical order is over a MiB (hashed in pieces)"
sim /_sim/edit '{"id":70001,"set":{}}' >/dev/null
advance
wsi-sync 2>sync.err
like "$(cat sync.err)" "stage: staged 0 new, 1 changed .*, 0 conflicts" "downloaded again, read again"
is "$(state_of 70001):$(q "select count(*) from events where id='70001' and to_state = 'conflict'")" "posted:0" \
	"downloaded again unchanged: the same order, not a conflict"
is "$(sage_dups)" 0 "never twice"
done_testing
