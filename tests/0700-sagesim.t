#!/usr/bin/env bash
# The Sage simulator keeps the Web API's contract (what the client code relies on).
. "$(dirname "$0")/lib.sh"
start_sage
api() { curl -s -u WEBAPI:sage-test-pw -H 'Content-Type: application/json' "$@"; }
B="$SAGE_URL"

is "$(api "$B/AR/ARCustomers('1200')" | python3 -c 'import json,sys; print(json.load(sys.stdin)["OnHold"])')" Yes "get by key: a bare entity"
like "$(api "$B/AR/ARCustomers('NOPE')")" '"code": "RecordNotFound"' "missing key: RecordNotFound"
is "$(curl -s -o /dev/null -w '%{http_code}' -u WEBAPI:sage-test-pw "$B/AR/ARCustomers")" 500 "no Content-Type: 500, even on GET"
is "$(curl -s -o /dev/null -w '%{http_code}' -u WEBAPI:wrong -H 'Content-Type: application/json' "$B/AR/ARCustomers")" 401 "bad password: 401"
f=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("ItemNumber eq '"'"'A1-103/0'"'"' or ItemNumber eq '"'"'A1-105/0'"'"'"))')
is "$(api "$B/IC/ICItems?\$filter=$f&\$select=ItemNumber" | python3 -c 'import json,sys; print(" ".join(r["ItemNumber"] for r in json.load(sys.stdin)["value"]))')" "A1-103/0 A1-105/0" "\$filter with or, \$select"
f=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("CustomerName eq '"'"'O'"''"'Brien'"'"' and (OnHold eq '"'"'No'"'"')"))')
is "$(api "$B/AR/ARCustomers?\$filter=$f" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["value"]))')" 0 "quoted literal with a doubled quote, parentheses"
is "$(api "$B/AR/ARCustomers?\$filter=CustomerNumber%20eq" -o /dev/null -w '%{http_code}')" 400 "malformed filter: 400"
like "$(api "$B/AR/ARCustomers?\$filter=CustomerNumber%20eq")" InvalidParameters "malformed filter: InvalidParameters"
like "$(api "$B/AR/ARCustomers?\$filter=Nope%20eq%20'1'")" "Could not find a property named 'Nope'" "unknown property in a filter"
is "$(api "$B/IC/ICItems?\$top=3&\$skip=2&\$count=true" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["value"]), d["@odata.count"])')" "3 11" "\$top, \$skip, \$count"
out=$(api -X POST "$B/OE/OEOrders" -d '{"CustomerNumber":"WEB","Bogus":1}')
like "$out" "The property 'Bogus' does not exist on type 'Sage.CA.SBS.ERP.Sage300.OE.WebApi.Models.Order'" "unknown property: InvalidPayload"
out=$(api -X POST "$B/OE/OEOrders" -w ' %{http_code}' -d '{"CustomerNumber":"WEB","InvoiceWillBeProduced":true,"OrderReference":"t:1","OrderDetails":[{"Item":"A1-103/0","Location":"1","QuantityOrdered":2,"QuantityShipped":2},{"Item":"A1-999/9","QuantityOrdered":1}]}')
like "$out" '"code": "FieldInvalid".*Item number A1-999/9 does not exist.* 409$' "a missing item: 409 in Sage's words"
is "$(sage_count orders)" 0 "and nothing of that order was made (all or nothing)"
out=$(api -X POST "$B/OE/OEOrders" -w ' %{http_code}' -d '{"CustomerNumber":"WEB","InvoiceWillBeProduced":true,"OrderReference":"t:1","OrderDetails":[{"Item":"A1-103/0","Location":"1","QuantityOrdered":2,"QuantityShipped":2,"PriceOverride":true,"OrderUnitPrice":10.5}],"BankCode":"SEATAC","ReceiptType":"CC","PaymentInCustomerCurrency":21}')
like "$out" '"LastInvoiceNumber": "IN0+1".* 201$' "order, shipment, invoice and prepayment: 201 with the entity"
is "$(sage_count invoices):$(sage_count receipts)" "1:1" "the invoice and the prepayment exist"
is "$(api -X PATCH "$B/OE/OEOrders(38441)" -d '{}' -o /dev/null -w '%{http_code}')" 405 "OEOrders has no PATCH"
done_testing
