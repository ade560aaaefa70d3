#!/usr/bin/env bash
# Shopify as it is now (money.md decisions 2 and 11): a line partly refunded before posting is
# posted at what is left of it (its refund's net and tax taken off, the tax split across the
# line's tax titles in their proportions), the prepayment what was paid net of refunds; an edit
# with no refund amounts is taken in proportion to the quantity.
. "$(dirname "$0")/lib.sh"
start_store shopify
start_sage
write_conf shopify
{ wsi-remap add customer '*' SEA01; wsi-remap add payment shopify_payments SEATAC CC
  wsi-remap add item SKU-0001 A1-103/0; wsi-remap add tax 'State Tax' WAST; wsi-remap add tax 'County Tax' WAKC; } 2>/dev/null
sim /_sim/generate '{"n":1,"ago":0,"spread":1,"skus":1}' >/dev/null
# one line of 3 at 20.00 less 3.00 discount: net 57.00, tax 3.42 State + 1.14 County; shipping untaxed
sim /_sim/orders | python3 -c '
import copy, json, sys
base = json.load(sys.stdin)[0]
ship = base["shipping_lines"][0]["price"]
def order(oid, refunded):
    o = copy.deepcopy(base)
    o["id"] = oid; o["name"] = "#%d" % oid; o["order_number"] = oid
    l = o["line_items"][0]
    l.update(id=oid * 10, sku="SKU-0001", quantity=3, current_quantity=2, price="20.00", total_discount="3.00",
             discount_allocations=[{"amount": "3.00", "discount_application_index": 0}],
             tax_lines=[{"title": "State Tax", "price": "3.42", "rate": 0.06}, {"title": "County Tax", "price": "1.14", "rate": 0.02}])
    o["line_items"] = [l]
    o.update(total_line_items_price="60.00", subtotal_price="57.00", total_discounts="3.00", total_tax="4.56",
             total_price="%.2f" % (61.56 + float(ship)), current_total_tax="3.04",
             current_total_price="%.2f" % (41.04 + float(ship)),
             tax_lines=[{"title": "State Tax", "price": "3.42", "rate": 0.06}, {"title": "County Tax", "price": "1.14", "rate": 0.02}])
    if refunded:  # one unit back: 19.00 net and 1.52 tax, as Shopify 2025-01 gives them
        o["financial_status"] = "partially_refunded"
        o["refunds"] = [{"id": oid + 1, "order_id": oid, "order_adjustments": [],
                         "refund_line_items": [{"id": oid + 2, "line_item_id": oid * 10, "quantity": 1,
                                                "subtotal": 19.00, "total_tax": 1.52}],
                         "transactions": [{"id": oid + 3, "kind": "refund", "status": "success", "amount": "20.52"}]}]
    else:  # an edit before payment: one unit taken off, no refund amounts
        o["financial_status"] = "pending"
    return o
print(json.dumps({"orders": [order(7001, True), order(7002, False)], "touch": True}))' >now.json
curl -s -X POST -H 'Content-Type: application/json' --data-binary @now.json "$SIM/_sim/orders" >/dev/null
wsi-sync 2>sync.err
ship=$(python3 -c 'import json; print(json.load(open("now.json"))["orders"][0]["shipping_lines"][0]["price"])')
detail() { sage /_sim/state | json_get "[(d['QuantityOrdered'], d['ExtendedOrderAmount'], d['TaxAmount1'], d['TaxAmount2']) for o in j['orders'] if o['OrderReference'] == 'shop:$1' for d in o['OrderDetails'] if d['LineType'] == 'Item']"; }
is "$(state_of 7001)" posted "partly refunded before posting: posted as it is now, not held"
is "$(detail 7001)" "[(2.0, 38.0, 2.28, 0.76)]" "2 left: 57.00 less the refund's 19.00; 3.04 tax split 2.28 WAST, 0.76 WAKC"
is "$(sage /_sim/state | json_get "[o['OrderTotalPayment'] for o in j['orders'] if o['OrderReference'] == 'shop:7001']")" \
	"[$(python3 -c "print(round(41.04 + $ship, 2))")]" "the prepayment: what was paid net of the refund"
is "$(q "select count(*) from reasons where id='7001'")" 0 "read back equal to the web order as it is now"
like "$(canon 7002)" '"quantity":"2".*"total":"38.00","tax":"3.04"' "an edit with no refund amounts: in proportion to the quantity"
is "$(q "select code from reasons where id in ('7001','7002') and code in ('total-mismatch','refunded')")" "" "neither held as total-mismatch or refunded"

# shipping partly given back before posting (order_adjustments, kind shipping_refund): the order as it is now
sim /_sim/orders | python3 -c '
import copy, json, sys
o = copy.deepcopy(json.load(sys.stdin)[0])
o.update(id=7005, name="#7005", order_number=7005, financial_status="partially_refunded")
o["line_items"] = o["line_items"][:1]
ship = o["shipping_lines"][0]; ship.update(price="10.00", discounted_price="10.00", tax_lines=[])
l = o["line_items"][0]
net = float(l["price"]) * l["quantity"]; tax = sum(float(t["price"]) for t in l["tax_lines"])
o.update(total_price="%.2f" % (net + tax + 10), current_total_price="%.2f" % (net + tax + 6), total_tax="%.2f" % tax, current_total_tax="%.2f" % tax)
o["refunds"] = [{"id": 70051, "order_id": 7005, "refund_line_items": [], "transactions": [{"id": 70052, "kind": "refund", "status": "success", "amount": "4.00"}],
                 "order_adjustments": [{"id": 70053, "order_id": 7005, "refund_id": 70051, "amount": "-4.00", "tax_amount": "0.00", "kind": "shipping_refund", "reason": "Shipping refund"}]}]
print(json.dumps({"orders": [o], "touch": True}))' >ship.json
curl -s -X POST -H 'Content-Type: application/json' --data-binary @ship.json "$SIM/_sim/orders" >/dev/null
wsi-sync 2>sync.err
is "$(state_of 7005):$(sage /_sim/state | json_get "[d['ExtendedAmount'] for o in j['orders'] if o['OrderReference'] == 'shop:7005' for d in o['OrderDetails'] if d['LineType'] == 'Miscellaneous']")" \
	"posted:[6.0]" "4.00 of the shipping refunded before posting: posted with 6.00 shipping, not held"

# shipping given back on two shipping lines (10.00 and 5.00): 12.00 by an order adjustment (larger
# than the first line: 3.00 left on the second); 5.00 of the second by refund_shipping_lines alone
# (Shopify 2024-10); the same with its order adjustment beside it (taken once)
sim /_sim/orders | python3 -c '
import copy, json, sys
base = json.load(sys.stdin)[0]
def m(x):
    return {"shop_money": {"amount": x, "currency_code": "USD"}, "presentment_money": {"amount": x, "currency_code": "USD"}}
def order(oid, adjust, lines):
    o = copy.deepcopy(base)
    o.update(id=oid, name="#%d" % oid, order_number=oid, financial_status="partially_refunded")
    o["line_items"] = o["line_items"][:1]
    s0 = dict(o["shipping_lines"][0], tax_lines=[], discount_allocations=[])
    o["shipping_lines"] = [dict(s0, id=oid * 10 + 1, price="10.00", discounted_price="10.00"),
                           dict(s0, id=oid * 10 + 2, price="5.00", discounted_price="5.00", title="Gift box")]
    l = o["line_items"][0]
    net = float(l["price"]) * l["quantity"]; tax = sum(float(t["price"]) for t in l["tax_lines"])
    back = float(adjust or lines)
    o.update(total_price="%.2f" % (net + tax + 15), current_total_price="%.2f" % (net + tax + 15 - back),
             total_tax="%.2f" % tax, current_total_tax="%.2f" % tax)
    o["refunds"] = [{"id": oid + 1, "order_id": oid, "refund_line_items": [],
                     "transactions": [{"id": oid + 2, "kind": "refund", "status": "success", "amount": "%.2f" % back}],
                     "order_adjustments": [{"id": oid + 3, "order_id": oid, "refund_id": oid + 1, "amount": "-" + adjust,
                                            "tax_amount": "0.00", "kind": "shipping_refund", "reason": "Shipping refund"}] if adjust else [],
                     "refund_shipping_lines": [{"id": oid + 4, "shipping_line_id": oid * 10 + 2,
                                                "subtotal_amount_set": m(lines), "tax_amount_set": m("0.00")}] if lines else []}]
    return o
print(json.dumps({"orders": [order(7006, "12.00", None), order(7007, None, "5.00"), order(7008, "5.00", "5.00"), order(7009, "20.00", None)], "touch": True}))' >ship2.json
curl -s -X POST -H 'Content-Type: application/json' --data-binary @ship2.json "$SIM/_sim/orders" >/dev/null
wsi-sync 2>sync.err
shipped() { echo "$(state_of "$1"):$(sage /_sim/state | json_get "[d['ExtendedAmount'] for o in j['orders'] if o['OrderReference'] == 'shop:$1' for d in o['OrderDetails'] if d['LineType'] == 'Miscellaneous']")"; }
is "$(shipped 7006)" "posted:[3.0]" "12.00 of 15.00 shipping given back: the first line's 10.00, then 2.00 of the second"
is "$(shipped 7007)" "posted:[10.0]" "refund_shipping_lines: the second shipping line given back, the first posted"
is "$(shipped 7008)" "posted:[10.0]" "refund_shipping_lines and its order adjustment: taken once"
is "$(shipped 7009):$(q "select code from reasons where id='7009'")" "invalid:[]:negative-shipping" \
	"20.00 given back of 15.00 shipping: found by wsi-validate, not refused by Sage"
# the money set of the customer's currency: a CAD shop's order paid in USD, for a USD customer, goes
# in USD (presentment_money); one paid in EUR, for that customer, waits naming both
sim /_sim/orders | python3 -c '
import copy, json, sys
base = json.load(sys.stdin)[0]
def m(shop, paid, pc):
    return {"shop_money": {"amount": shop, "currency_code": "CAD"}, "presentment_money": {"amount": paid, "currency_code": pc}}
def order(oid, pc):
    o = copy.deepcopy(base)
    o.update(id=oid, name="#%d" % oid, order_number=oid, currency="CAD", presentment_currency=pc, financial_status="paid")
    l = o["line_items"][0]
    l.update(id=oid * 10, sku="SKU-0001", quantity=2, current_quantity=2, price="13.50", price_set=m("13.50", "10.00", pc),
             total_discount="0.00", discount_allocations=[],
             tax_lines=[{"title": "State Tax", "price": "1.62", "price_set": m("1.62", "1.20", pc), "rate": 0.06},
                        {"title": "County Tax", "price": "0.54", "price_set": m("0.54", "0.40", pc), "rate": 0.02}])
    o["line_items"] = [l]
    sl = o["shipping_lines"][0]
    sl.update(price="6.75", price_set=m("6.75", "5.00", pc), discounted_price="6.75", discounted_price_set=m("6.75", "5.00", pc), tax_lines=[])
    for k, shop, paid in (("total_line_items_price", "27.00", "20.00"), ("subtotal_price", "27.00", "20.00"),
                          ("total_discounts", "0.00", "0.00"), ("total_tax", "2.16", "1.60"), ("total_price", "35.91", "26.60"),
                          ("current_total_tax", "2.16", "1.60"), ("current_total_price", "35.91", "26.60")):
        o[k] = shop
        o[k + "_set"] = m(shop, paid, pc)
    return o
print(json.dumps({"orders": [order(7003, "USD"), order(7004, "EUR")], "touch": True}))' >money.json
curl -s -X POST -H 'Content-Type: application/json' --data-binary @money.json "$SIM/_sim/orders" >/dev/null
wsi-sync 2>sync.err
is "$(state_of 7003):$(detail 7003)" "posted:[(2.0, 20.0, 1.2, 0.4)]" "paid in USD by a USD customer in a CAD shop: posted in USD, each tax on its authority"
is "$(sage /_sim/state | json_get "[(o['OrderTotal'], o['OrderTotalPayment']) for o in j['orders'] if o['OrderReference'] == 'shop:7003']")" \
	"[(26.6, 26.6)]" "the USD total and prepayment, not the shop's 35.91"
is "$(q "select count(*) from reasons where id='7003'")" 0 "read back equal in USD"
is "$(state_of 7004):$(q "select code||': '||message from reasons where id='7004'")" \
	"invalid:currency-mismatch: The order is in CAD (paid in EUR) but customer SEA01 is billed in USD." "paid in EUR: waits, naming both sets"
is "$(wsi-sync report -t 2026-01-01 2099-01-01 2>/dev/null | awk -F'\t' '$1 == "shop:7003" {print $3 " " $6 " " $7}')" "26.60 26.60 ok" \
	"the report compares the USD total"
done_testing
