#!/usr/bin/env bash
# Security: secrets never printed, TLS verified by default (against a CA made here),
# injection attempts harmless, hostile answers refused, private files.
. "$(dirname "$0")/lib.sh"

# a CA and a server certificate for 127.0.0.1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=wsi test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf 2>/dev/null
start_store shopify "$TESTS/fixtures/shopify-orders-list-2025-01-js-fixture.json" --tls srv.pem srv.key
STORE_URL="https://127.0.0.1:$STORE_PORT"
start_sage --tls srv.pem srv.key
SAGE_URL="https://127.0.0.1:$SAGE_PORT/Sage300WebApi/v1.0/-/SAMLTD"
write_conf shopify
out=$(wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc" 3 "TLS is verified by default: a certificate from an unknown CA is refused (exit 3)"
like "$out" "TLS could not be verified" "and says so"
write_conf shopify "ca_file = $T/ca.pem" "[sage]" "ca_file = $T/ca.pem"
wsi-fetch >env.txt 2>err.txt; rc=$?
nfix=$(python3 -c 'import json; print(len(json.load(open("'"$TESTS"'/fixtures/shopify-orders-list-2025-01-js-fixture.json"))["orders"]))')
is "$rc:$(grep -c '"order"' env.txt)" "0:$nfix" "with the CA in [store] ca_file: verified, read"
write_conf shopify "tls_verify = no"
wsi-fetch >/dev/null 2>&1; rc=$?
is "$rc" 0 "tls_verify = no: read without checking (the config says so)"
SIM="https://127.0.0.1:$STORE_PORT"
SAGE="https://127.0.0.1:$SAGE_PORT"
sim() { if [ $# -gt 1 ]; then curl -s --cacert ca.pem -X POST -H 'Content-Type: application/json' --data-binary "$2" "$SIM$1"; else curl -s --cacert ca.pem "$SIM$1"; fi; }
sage() { if [ $# -gt 1 ]; then curl -s --cacert ca.pem -X POST -H 'Content-Type: application/json' --data-binary "$2" "$SAGE$1"; else curl -s --cacert ca.pem "$SAGE$1"; fi; }

# secrets are never printed, whatever the verbosity, whatever fails
write_conf shopify "ca_file = $T/ca.pem" "[sage]" "ca_file = $T/ca.pem"
wsi-remap add customer '*' WEB 2>>all.out
wsi-remap add payment shopify_payments SEATAC CC 2>>all.out
{ wsi-fetch -v -v | wsi-stage -v | wsi-remap -v | wsi-validate -v -v | wsi-post -v -v; } >>all.out 2>&1
sim /_sim/fault '{"status":401,"count":5}' >/dev/null
wsi-fetch -v -v >>all.out 2>&1
sed -i 's/^password = .*/password = wrong-pw-123/' wsi.conf
wsi-validate -a -v -v >>all.out 2>&1
wsi-post -a -v -v >>all.out 2>&1
wsi-sync -v >>all.out 2>&1
wsi-sync status >>all.out 2>&1
# every view too: waiting, each order shown whole, the mark log, the mapping list
{ wsi-sync waiting; wsi-sync waiting -t; wsi-hwm; wsi-hwm log; wsi-remap list; wsi-validate -l; } >>all.out 2>&1
for k in $(sqlite3 wsi.db "select store||':'||id from orders"); do wsi-sync show "$k" >>all.out 2>&1; done
is "$(grep -c 'shpat_test\|sage-test-pw\|wrong-pw-123' all.out)" 0 "no secret in anything the tools printed ($(wc -l <all.out) lines, -v -v)"
is "$(sqlite3 wsi.db .dump | grep -c 'shpat_test\|sage-test-pw\|wrong-pw-123')" 0 "nor in the database"
like "$(cat all.out)" "HTTP 401 Unauthorized: Invalid user ID or password" "a refused Sage password is reported (without the password)"

# private files
is "$(stat -c %a wsi.db wsi.db-wal wsi.db-shm wsi.db.lock 2>/dev/null | sort -u | tr '\n' ' ')" "600 " "the database, its WAL, its shared memory and the lock: owner only"

# injection attempts: OData quotes in a SKU, SQL in an e-mail, markup in a name
rm -f wsi.db wsi.db-wal wsi.db-shm
start_store woocommerce "" --now 2026-11-26T20:00:00Z
start_sage
write_conf woocommerce
wsi-remap add customer '*' WEB 2>/dev/null
wsi-remap add payment stripe SEATAC CC 2>/dev/null
wsi-remap add tax 'US-CA-STATE TAX' CA 2>/dev/null
new_order 80001 "o['line_items'][0]['sku'] = \"A1-103/0' or ItemNumber ne 'x\"" \
	"o['billing']['email'] = \"x'); DROP TABLE orders; --@example.com\"" \
	"o['billing']['first_name'] = '<script>alert(1)</script>'"
advance
chain
is "$(q "select code||' '||subject from reasons where id='80001'")" "item-missing A1-103/0' or ItemNumber ne 'x" "an OData injection in a SKU is only a SKU Sage does not have"
is "$(q "select count(*) from orders")" 1 "the orders table is there"
is "$(sage_count orders)" 0 "nothing posted"

# hostile answers: too big, too deep, huge orders
write_conf woocommerce "max_response = 2048"
new_order 80002
advance
out=$(wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc" 4 "an answer over [store] max_response: exit 4"
like "$out" "larger than the 2048-byte limit" "says so"
write_conf woocommerce
python3 -c 'import json; print(json.dumps({"status": 200, "count": 5, "body": "[" * 50000 + "]" * 50000}))' >deep.json
curl -s -X POST -H 'Content-Type: application/json' --data-binary @deep.json "$SIM/_sim/fault" >/dev/null
out=$(wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc" 4 "50,000 nested arrays: refused, exit 4"
like "$out" "not valid JSON|no id|not a complete" "with a reason"
sim /_sim/fault '{"clear":true}' >/dev/null
new_order 80003 "o['line_items'] = [dict(o['line_items'][0], id=i, sku='A1-103/0', quantity=1, subtotal='1.00', total='1.00', total_tax='0.00') for i in range(10000)]" \
	"o['total'] = '10010.00'" "o['shipping_lines'][0]['total'] = '10.00'"
advance
wsi-fetch 2>/dev/null | wsi-stage >keys.txt 2>err.txt; rc=$?
is "$rc:$(q "select count(*) from order_lines where id='80003'")" "0:10000" "a 10,000-line order is staged whole"
out=$(printf '{"store":"shop","id":"9","modified":"2026-01-01T00:00:00Z","source":"woocommerce","order":%s}\n' "$(python3 -c 'print("{\"a\":" * 5000 + "1" + "}" * 5000)')" | wsi-stage 2>&1); rc=$?
is "$rc" 1 "a deeply nested order: a bad line, exit 1"
like "$out" "<stdin>:1: " "named by its line"
done_testing
