#!/usr/bin/env bash
# A WooCommerce store that keeps 4 decimals (money.md decision 11: its own rounded totals are the
# truth): three lines of 10.05 each taxed 0.6030 make 1.8090, charged and paid as 1.81 in a total
# of 41.96. Each line's tax alone rounds to 0.60 (1.80, a Sage total a cent short of the
# prepayment, which Sage refused); the cent goes to a line, so Sage's invoice is what was paid.
. "$(dirname "$0")/lib.sh"
lamp_shop
new_order 50601 "import copy; l0 = o['line_items'][0]" \
	"o['line_items'] = [dict(copy.deepcopy(l0), id=506010 + k, quantity=1, price=10.05, subtotal='10.0500', total='10.0500', subtotal_tax='0.6030', total_tax='0.6030', taxes=[{'id': 75, 'total': '0.6030', 'subtotal': '0.6030'}]) for k in range(3)]" \
	"o['cart_tax'] = o['total_tax'] = '1.8090'; o['tax_lines'][0]['tax_total'] = '1.8090'; o['shipping_total'] = '10.0000'; o['total'] = '41.9590'"
# A 4-decimal net (a coupon's share, 10.0533 on each of three lines, 30.1599 in all, taxed
# 0.6032 each): the store's total is 41.97; each net rounded alone makes 30.15 and a Sage total a
# cent short. The nets are rounded like the taxes: the cent the store's total holds on a line.
new_order 50602 "import copy; l0 = o['line_items'][0]" \
	"o['line_items'] = [dict(copy.deepcopy(l0), id=506020 + k, quantity=1, price=10.0533, subtotal='11.1700', total='10.0533', subtotal_tax='0.6702', total_tax='0.6032', taxes=[{'id': 75, 'total': '0.6032', 'subtotal': '0.6702'}]) for k in range(3)]" \
	"o['discount_total'] = '3.3501'; o['cart_tax'] = o['total_tax'] = '1.8096'; o['tax_lines'][0]['tax_total'] = '1.8096'; o['shipping_total'] = '10.0000'; o['total'] = '41.9700'"
advance
wsi-sync 2>sync.err
is "$(state_of 50601):$(q "select count(*) from reasons where id='50601'")" "posted:0" "posted, read back equal"
is "$(sage /_sim/state | json_get "[[d['TaxAmount1'] for d in o['OrderDetails'] if d['LineType'] == 'Item'] for o in j['orders'] if o['OrderReference'] == 'shop:50601']")" \
	"[[0.61, 0.6, 0.6]]" "1.809 to the cent: 1.81, the cent on one line"
is "$(sage /_sim/state | json_get "[(i['InvoiceTotalWithTax'], i['TotalTaxAmount1'], i['InvoicePaymntInCustomerCurrency']) for i in j['invoices'] if i['OrderNumber'] == [o['OrderNumber'] for o in j['orders'] if o['OrderReference'] == 'shop:50601'][0]]")" \
	"[(41.96, 1.81, 41.96)]" "the invoice is what was paid: 41.96, tax 1.81"
is "$(state_of 50602):$(q "select count(*) from reasons where id='50602'")" "posted:0" "4-decimal nets: posted, read back equal"
is "$(sage /_sim/state | json_get "[[(d['OrderUnitPrice'], d['ExtendedOrderAmount'], d['TaxAmount1']) for d in o['OrderDetails'] if d['LineType'] == 'Item'] for o in j['orders'] if o['OrderReference'] == 'shop:50602']")" \
	"[[(10.06, 10.06, 0.61), (10.05, 10.05, 0.6), (10.05, 10.05, 0.6)]]" "30.1599 to the cent: 30.16, the cent on one line"
is "$(sage /_sim/state | json_get "[(i['InvoiceTotalWithTax'], i['TotalTaxAmount1'], i['InvoicePaymntInCustomerCurrency']) for i in j['invoices'] if i['OrderNumber'] == [o['OrderNumber'] for o in j['orders'] if o['OrderReference'] == 'shop:50602'][0]]")" \
	"[(41.97, 1.81, 41.97)]" "the invoice is what was paid: 41.97"
done_testing
