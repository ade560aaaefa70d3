#!/usr/bin/env bash
# Tax per Sage authority (money.md decisions 6 and 11): each web tax code maps to a Sage tax
# authority (wsi-remap add tax), whose index comes from the customer's tax group in Sage; each
# line's tax is posted on its authority, never all on authority 1, and read back per authority.
. "$(dirname "$0")/lib.sh"
lamp_shop
wsi-remap add customer 777 SEA01 2>/dev/null   # a Seattle customer: group WASEA = WAST, WAKC
seattle() { # seattle ID: one desk lamp at 23.00, 6.83 WA state tax and 4.04 King County tax
	new_order "$1" "o['customer_id'] = 777" \
		"l = o['line_items'][0]; l['total_tax'] = l['subtotal_tax'] = '10.87'; l['taxes'] = [{'id': 80, 'total': '6.83', 'subtotal': '6.83'}, {'id': 81, 'total': '4.04', 'subtotal': '4.04'}]" \
		"o['tax_lines'] = [{'id': 1, 'rate_code': 'US-WA-STATE', 'rate_id': 80, 'label': 'WA', 'compound': False, 'tax_total': '6.83', 'shipping_tax_total': '0.00'}, {'id': 2, 'rate_code': 'US-WA-KING', 'rate_id': 81, 'label': 'King County', 'compound': False, 'tax_total': '4.04', 'shipping_tax_total': '0.00'}]" \
		"o['cart_tax'] = o['total_tax'] = '10.87'; o['total'] = '43.87'"
}
sage_detail_taxes() { # the Sage order of shop:ID: [TaxAmount1..5] of its item line
	sage /_sim/state | json_get "[[d['TaxAmount%d' % a] for a in range(1, 6)] for o in j['orders'] if o['OrderReference'] == 'shop:$1' for d in o['OrderDetails'] if d['LineType'] == 'Item']"
}

# unmapped web taxes: invalid, each code named, with its fix
seattle 50401
advance
wsi-sync 2>/dev/null
is "$(state_of 50401)" invalid "a web tax with no Sage authority: invalid"
is "$(q "select group_concat(code||' '||subject, ', ') from (select * from reasons where id='50401' order by subject)")" \
	"tax-unmapped US-WA-KING, tax-unmapped US-WA-STATE" "each unmapped tax code named"
like "$(wsi-sync waiting)" "1 order waits for web tax US-WA-KING, with no Sage tax authority: wsi-remap add tax 'US-WA-KING' <Sage authority>" "waiting says how to map it"
is "$(sage_refs | grep -c '^shop:50401$')" 0 "nothing posted on authority 1 instead"

# an authority outside the customer's group: invalid, never posted on another authority
wsi-remap add tax US-WA-STATE WAST 2>/dev/null
wsi-remap add tax US-WA-KING GST 2>/dev/null
wsi-sync 2>/dev/null
is "$(state_of 50401):$(q "select code||' '||subject from reasons where id='50401'")" "invalid:tax-not-in-group GST" "GST is not in tax group WASEA: invalid"
like "$(wsi-validate -l)" "shop:50401	tax-not-in-group	Tax authority GST \(web tax US-WA-KING\) is not in tax group WASEA of customer SEA01" "named: authority, web tax, group, customer"

# mapped right: each authority's tax on its own index, read back equal
wsi-remap add tax US-WA-KING WAKC 2>/dev/null
wsi-remap -a 2>/dev/null | wsi-validate >/dev/null 2>&1
body=$(wsi-post -n shop:50401 2>/dev/null | cut -f2)
like "$body" '"TaxGroup": ?"WASEA"' "the body names the customer's tax group"
like "$body" '"TaxBase1": ?23\.00?, ?"ExcludedTaxAmount1": ?6\.83, ?"TaxBase2": ?23\.00?, ?"ExcludedTaxAmount2": ?4\.04' "the header: base and tax per authority, after the details"
wsi-sync 2>sync.err; rc=$?
is "$(state_of 50401)" posted "mapped to WAST and WAKC: posted"
is "$(sage_detail_taxes 50401)" "[[6.83, 4.04, 0, 0, 0]]" "6.83 on authority 1 (WAST), 4.04 on authority 2 (WAKC): not 10.87 on 1"
is "$(sage /_sim/state | json_get "[(i['TotalTaxAmount1'], i['TotalTaxAmount2']) for i in j['invoices'] if i['OrderNumber'] == [o['OrderNumber'] for o in j['orders'] if o['OrderReference'] == 'shop:50401'][0]]")" \
	"[(6.83, 4.04)]" "the invoice per authority"
is "$(q "select count(*) from reasons where id='50401'")" 0 "read back equal: no difference"
# exempt classes from Sage (TX/TXTaxClasses), not config: what the store did not tax is an exempt sale
classes() { sage /_sim/state | json_get "[(d['LineType'], d.get('TaxClass1'), d.get('TaxClass2')) for o in j['orders'] if o['OrderReference'] == 'shop:$1' for d in o['OrderDetails']]"; }
is "$(classes 50401)" "[('Item', None, None), ('Miscellaneous', 2, 2)]" \
	"the untaxed shipping: the exempt item class of WAST and of WAKC (2); the taxed lamp: Sage's own class"
is "$(classes 10232)" "[('Item', None, None), ('Miscellaneous', 2, None)]" "California: the shipping exempt for CA, the only authority"

# the lamp store's one authority: CA is 1 in CALIF
is "$(sage_detail_taxes 10232)" "[[1.38, 0, 0, 0, 0]]" "California: 1.38 on authority 1 (CA)"

# an order staged by an older wsi (its canonical order without tax per code): it waits, saying so;
# the schema upgrade marks it to be derived again, which the next download does
new_order 50402
advance
wsi-fetch 2>/dev/null | wsi-stage 2>/dev/null | wsi-remap >/dev/null 2>&1
old=$(canon 50402 | sed "s/'/''/g")
sqlite3 "$T/wsi.db" "update orders set canonical=json_remove('$old','\$.taxes') where id='50402'; pragma user_version=4"
wsi-validate -a >/dev/null 2>&1
like "$(q "select code||': '||message from reasons where id='50402'")" "^tax-unmapped: .*no web tax code names \(staged by an older wsi: wsi-hwm set downloads it again\)" "waits, with what to do"
wsi-hwm set "$(q "select value from marks where kind='time'")" 2>/dev/null
wsi-sync 2>/dev/null
is "$(state_of 50402):$(sage_detail_taxes 50402)" "posted:[[1.38, 0, 0, 0, 0]]" "downloaded again: derived again, posted on its authority"
is "$(sage_dups)" 0 "nothing twice"
done_testing
