#!/usr/bin/env bash
# [sage] tax = sage (money.md decision 7): Sage calculates the tax; wsi-validate predicts it from
# Sage's TX tables and posts only what Sage will charge to the cent: a store that rounded its tax
# on the total, a cent above Sage's per-line rounding, gets the cent on the rounding charge; an
# order Sage would charge more, or more than rounding_tolerance apart, waits with both amounts.
. "$(dirname "$0")/lib.sh"
lamp_shop "[sage]" "tax = sage" "rounding_charge = ROUND"
wsi-remap add customer 777 SEA01 2>/dev/null
wsi-remap add tax US-WA-STATE WAST 2>/dev/null
wsi-remap add tax US-WA-KING WAKC 2>/dev/null
three() { # three ID PRICE TAXES...: three lines at PRICE, each taxed as given (CA, 6 %), flat shipping 10.00
	id=$1 price=$2; shift 2
	new_order "$id" "import copy; l0 = o['line_items'][0]; t = '$*'.split()" \
		"o['line_items'] = [dict(copy.deepcopy(l0), id=$id * 10 + k, quantity=1, price=$price, subtotal='$price', total='$price', subtotal_tax=t[k], total_tax=t[k], taxes=[{'id': 75, 'total': t[k], 'subtotal': t[k]}]) for k in range(3)]" \
		"tax = sum(float(x) for x in t); o['cart_tax'] = o['total_tax'] = '%.2f' % tax; o['tax_lines'][0]['tax_total'] = '%.2f' % tax" \
		"o['total'] = '%.2f' % (3 * $price + 10 + tax)"
}
sage_order() { sage /_sim/state | json_get "json.dumps([o for o in j['orders'] if o['OrderReference'] == 'shop:$1'])"; }

wsi-fetch 2>/dev/null | wsi-stage 2>/dev/null | wsi-remap 2>/dev/null | wsi-validate >/dev/null 2>&1
body=$(wsi-post -n shop:10232 2>/dev/null | cut -f2)
like "$body" '"AutoTaxCalculationStatus": ?true' "the body lets Sage calculate"
unlike "$body" 'TaxAmount|ExcludedTaxAmount' "and carries no manual tax"
wsi-sync 2>sync.err
is "$(state_of 10232):$(sage_order 10232 | json_get "[(d['LineType'], d['TaxAmount1']) for o in j for d in o['OrderDetails']]")" \
	"posted:[('Item', 1.38), ('Miscellaneous', 0.0)]" "Sage calculated 1.38 on the lamps (6 % of 23.00), the store's own"
is "$(q "select count(*) from reasons where id='10232'")" 0 "read back: the invoice is what was predicted"

# 3 x 10.05: the store rounded 1.809 up to 1.81 on the total, Sage rounds each line (0.60 x 3)
three 50501 10.05 0.60 0.60 0.61
# 3 x 10.10: the store rounded 1.818 down to 1.82, Sage each line up (0.61 x 3 = 1.83)
three 50502 10.10 0.61 0.61 0.60
advance
wsi-sync 2>sync.err
is "$(state_of 50501)" posted "a cent short by Sage's rounding: posted"
is "$(sage_order 50501 | json_get "[(d.get('MiscellaneousChargesCode'), d['ExtendedAmount']) for o in j for d in o['OrderDetails'] if d['LineType'] == 'Miscellaneous']")" \
	"[('SHIP', 10.0), ('ROUND', 0.01)]" "the cent on the rounding charge"
is "$(sage /_sim/state | json_get "[(i['InvoiceTotalWithTax'], i['TotalTaxAmount1'], i['InvoicePaymntInCustomerCurrency']) for i in j['invoices'] if i['OrderNumber'] == [o['OrderNumber'] for o in j['orders'] if o['OrderReference'] == 'shop:50501'][0]]")" \
	"[(41.96, 1.8, 41.96)]" "the invoice is the web total (41.96), Sage's tax 1.80, the prepayment the total"
is "$(state_of 50502):$(q "select code||': '||message from reasons where id='50502'")" \
	"invalid:tax-differs: Sage would calculate 1.83 tax (CA 1.83), the store charged 1.82 (CA 1.82): Sage would charge more, and a rounding charge cannot take it off." \
	"Sage would charge a cent more: waits, both amounts named"

# Seattle: the store's rates are not Sage's (6.5 % WAST, 3.6 % WAKC)
new_order 50503 "o['customer_id'] = 777" \
	"l = o['line_items'][0]; l['total_tax'] = l['subtotal_tax'] = '10.87'; l['taxes'] = [{'id': 80, 'total': '6.83', 'subtotal': '6.83'}, {'id': 81, 'total': '4.04', 'subtotal': '4.04'}]" \
	"o['tax_lines'] = [{'id': 1, 'rate_code': 'US-WA-STATE', 'rate_id': 80, 'label': 'WA', 'compound': False, 'tax_total': '6.83', 'shipping_tax_total': '0.00'}, {'id': 2, 'rate_code': 'US-WA-KING', 'rate_id': 81, 'label': 'King County', 'compound': False, 'tax_total': '4.04', 'shipping_tax_total': '0.00'}]" \
	"o['cart_tax'] = o['total_tax'] = '10.87'; o['total'] = '43.87'"
advance
wsi-sync 2>sync.err
like "$(q "select message from reasons where id='50503'")" \
	"^Sage would calculate 2.33 tax \(WAST 1.50, WAKC 0.83\), the store charged 10.87 \(WAST 6.83, WAKC 4.04\): more apart than \[sage\] rounding_tolerance" \
	"rates apart: waits, per authority"

# by summary (BC: GST 5 %, PST 7 % on the summed base, rounded once), the store having rounded the same way
sage /_sim/customers '[{"CustomerNumber": "BCUSD", "CustomerName": "BC buyer in USD", "Status": "Active", "OnHold": "No", "CurrencyCode": "USD", "TaxGroup": "BCTAX", "CheckCreditLimit": "No", "CreditLimitCustomerCurrency": 0, "BalanceDueInCustomerCurrency": 0, "TaxClassCode1": 1, "TaxClassCode2": 1, "TaxClassCode3": 1, "TaxClassCode4": 1, "TaxClassCode5": 1}]' >/dev/null
wsi-remap add customer 888 BCUSD 2>/dev/null
wsi-remap add tax CA-BC-GST GST 2>/dev/null
wsi-remap add tax CA-BC-PST PST 2>/dev/null
new_order 50505 "import copy; l0 = o['line_items'][0]; o['customer_id'] = 888; g = ['0.50', '0.50', '0.51']; p = ['0.70', '0.70', '0.71']" \
	"o['line_items'] = [dict(copy.deepcopy(l0), id=50505 * 10 + k, quantity=1, price=10.05, subtotal='10.05', total='10.05', subtotal_tax='%.2f' % (float(g[k]) + float(p[k])), total_tax='%.2f' % (float(g[k]) + float(p[k])), taxes=[{'id': 90, 'total': g[k], 'subtotal': g[k]}, {'id': 91, 'total': p[k], 'subtotal': p[k]}]) for k in range(3)]" \
	"o['tax_lines'] = [{'id': 1, 'rate_code': 'CA-BC-GST', 'rate_id': 90, 'label': 'GST', 'compound': False, 'tax_total': '1.51', 'shipping_tax_total': '0.00'}, {'id': 2, 'rate_code': 'CA-BC-PST', 'rate_id': 91, 'label': 'PST', 'compound': False, 'tax_total': '2.11', 'shipping_tax_total': '0.00'}]" \
	"o['cart_tax'] = o['total_tax'] = '3.62'; o['total'] = '%.2f' % (30.15 + 10 + 3.62)"
advance
wsi-sync 2>sync.err
is "$(state_of 50505):$(sage /_sim/state | json_get "[(i['TotalTaxAmount1'], i['TotalTaxAmount2'], i['InvoiceTotalWithTax']) for i in j['invoices'] if i['OrderNumber'] == [o['OrderNumber'] for o in j['orders'] if o['OrderReference'] == 'shop:50505'][0]]")" \
	"posted:[(1.51, 2.11, 43.77)]" "by summary: GST 1.51 and PST 2.11 (by detail they would be 1.50 and 2.10), no rounding line"

# with no rounding charge the cent cannot go in
sed -i '/^rounding_charge/d' wsi.conf
three 50504 10.05 0.60 0.60 0.61
advance
wsi-sync 2>sync.err
like "$(q "select message from reasons where id='50504'")" "name a rounding charge \(\[sage\] rounding_charge\)" "no rounding charge: waits, saying what to name"
is "$(sage_dups)" 0 "nothing twice"
done_testing
