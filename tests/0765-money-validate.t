#!/usr/bin/env bash
# What wsi-post would decline for money is found by wsi-validate (money.md decision 11): a negative
# fee, a fractional quantity no price in cents makes exact; each an invalid reason with a code, in
# wsi-validate -l and waiting. A fractional quantity that some price in cents makes exact is posted.
. "$(dirname "$0")/lib.sh"
lamp_shop
# 1.5 desk lamps for 5.99 (tax 0.36): 1.5 x 3.99 = 5.985, which rounds to 5.99
new_order 50301 "l = o['line_items'][0]; l['quantity'] = 1.5; l['subtotal'] = l['total'] = '5.99'; l['subtotal_tax'] = l['total_tax'] = '0.36'; l['taxes'][0]['total'] = l['taxes'][0]['subtotal'] = '0.36'" \
	"o['cart_tax'] = o['total_tax'] = '0.36'; o['total'] = '16.35'; o['tax_lines'][0]['tax_total'] = '0.36'"
# 2.5 for 1.01: 2.5 x 0.40 = 1.00, 2.5 x 0.41 = 1.025 -> 1.03: no price makes it exact
new_order 50302 "l = o['line_items'][0]; l['quantity'] = 2.5; l['subtotal'] = l['total'] = '1.01'; l['subtotal_tax'] = l['total_tax'] = '0.00'; l['taxes'] = []" \
	"o['cart_tax'] = o['total_tax'] = '0.00'; o['total'] = '11.01'; o['tax_lines'] = []"
# a negative fee
new_order 50303 "o['fee_lines'] = [{'id': 9, 'name': 'Loyalty discount', 'tax_class': '', 'tax_status': 'none', 'total': '-5.00', 'total_tax': '0.00', 'taxes': []}]" \
	"o['total'] = '29.38'"
advance
wsi-fetch 2>/dev/null | wsi-stage 2>/dev/null | wsi-remap 2>/dev/null | wsi-validate >valid.txt 2>err.txt; rc=$?
is "$rc" 1 "wsi-validate: some invalid, exit 1"
is "$(state_of 50301):$(state_of 50302):$(state_of 50303)" "valid:invalid:invalid" "the exact fractional line is valid; the other two are invalid"
like "$(wsi-validate -l)" "shop:50302	no-exact-price	.*line 1: 1.01 for a quantity of 2.5 has no price in cents" "no-exact-price, listed by wsi-validate -l"
like "$(wsi-validate -l)" "shop:50303	negative-fee	.*a negative fee \(-5.00\) has no Sage form" "negative-fee, listed"
like "$(wsi-sync waiting)" "1 order waits with a negative fee, which Sage has no form for: make the discount a coupon" "waiting names each with its fix"
wsi-post <valid.txt >posted.txt 2>err.txt; rc=$?
is "$rc:$(grep -c "^shop:50301	" posted.txt)" "0:1" "the fractional line is posted"
is "$(sage /_sim/state | json_get '[(d["QuantityOrdered"], d["OrderUnitPrice"], d["ExtendedOrderAmount"]) for o in j["orders"] if o["OrderReference"] == "shop:50301" for d in o["OrderDetails"] if d["LineType"] == "Item"]')" "[(1.5, 3.99, 5.99)]" "at 3.99, extended 5.99 exactly"
is "$(q "select count(*) from reasons where code='sage-total-differs'")" 0 "its invoice read back equal"
done_testing
