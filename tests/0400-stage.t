#!/usr/bin/env bash
# wsi-stage: raw kept, canonical derived, upsert by content, states, bad lines, the mark.
. "$(dirname "$0")/lib.sh"
FILE_URL=orders.json write_conf file

env() { # env ID STATUS [extra jq-less JSON members for the order]
	printf '{"store":"shop","id":"%s","modified":"%s","source":"woocommerce","order":%s}\n' "$1" "$2" "$3"
}
raw=$(python3 -c 'import json; print(json.dumps([o for o in json.load(open("'"$TESTS"'/fixtures/woo-orders-list-docs-v3.json")) if o["id"]==727][0], ensure_ascii=False, separators=(",",":")))')
env 727 2017-03-22T19:28:08Z "$raw" >in.txt
echo '{"mark":{"store":"shop","modified":"2017-03-22T20:00:00Z"}}' >>in.txt
wsi-stage <in.txt >keys.txt; rc=$?
is "$rc:$(cat keys.txt)" "0:shop:727" "a new order is staged and its key printed"
is "$(stat -c %a "$T/wsi.db")" 600 "the database is private to its owner"
is "$(q "select raw from orders where id='727'")" "$raw" "the raw order is kept byte for byte"
canon=$(canon 727)
# stored once: the raw bytes; the canonical order is derived from them when read (issue 13)
is "$(q "select canonical from orders where id='727'")" "" "the canonical order is not stored twice"
is "$(q "pragma page_size"):$(q "select sql like '%WITHOUT ROWID%' from sqlite_master where name='orders'")" "16384:0" \
	"a new database: 16 KiB pages, orders in a rowid table"
like "$canon" '"name":"Ship Your Idea – Color: Black, Size: M Test"' "HTML entity in a name decoded"
like "$canon" '"sku":"Bar3".*"unit_price":"12.00".*"total":"12.00"' "numeric price and string totals read exactly"
like "$canon" '"sku":"".*"unit_price":"3.00"' "an empty SKU kept"
like "$canon" '"customer":\{"id":"","email":"john.doe@example.com","first_name":"John"' "guest customer: no id, the e-mail"
like "$canon" '"payment":\{"method":"bacs","title":"Direct Bank Transfer"\}.*"paid":true,"paid_amount":"29.35","paid_at":"2017-03-22T19:28:08Z"' "paid by date_paid_gmt"
like "$canon" '"totals":\{"items":"18.00","discount":"0.00","shipping":"10.00","fees":"0.00","tax":"1.35","total":"29.35","refunded":"0.00"\}' "totals"
is "$(q "select sku||'|'||quantity||'|'||unit_price||'|'||total from order_lines where id='727' order by line")" "|2|3.00|6.00
Bar3|1|12.00|12.00" "lines table"
is "$(wsi-hwm | cut -f1-3)" "shop	time	2017-03-22T20:00:00Z" "the mark moved with the order"
is "$(q "select coalesce(from_state,'')||'>'||to_state||' '||why||' '||who from events")" ">staged downloaded wsi-stage" "an event records the change"

wsi-stage <in.txt >keys.txt; rc=$?
is "$rc:$(wc -l <keys.txt)" "0:0" "the same envelope again: nothing happens"
is "$(q 'select count(*) from events')" 1 "and no event"

# changed and not yet posted: back to staged
q "update orders set state='valid' where id='727'"
env 727 2017-03-22T21:00:00Z "${raw/Direct Bank Transfer/Bank transfer}" | wsi-stage >keys.txt
is "$(cat keys.txt):$(q "select state from orders where id='727'")" "shop:727:staged" "changed before posting: back to staged"

# posted: a status change is normal life, an edit of what was posted is a conflict
q "update orders set state='posted', posted_hash=content_hash where id='727'"
env 727 2017-03-22T22:00:00Z "$(printf '%s' "${raw/Direct Bank Transfer/Bank transfer}" | sed 's/"status":"processing"/"status":"completed"/')" | wsi-stage >keys.txt; rc=$?
is "$rc:$(wc -l <keys.txt):$(q "select state from orders where id='727'")" "0:0:posted" "posted then completed in the store: still posted"
env 727 2017-03-22T23:00:00Z "$(printf '%s' "${raw/Direct Bank Transfer/Bank transfer}" | sed 's/"quantity":2/"quantity":3/')" | wsi-stage >keys.txt 2>err.txt; rc=$?
is "$rc:$(q "select state from orders where id='727'")" "1:conflict" "posted then edited: conflict, exit 1"
is "$(q "select why from events where to_state='conflict'")" "what was posted changed in the store: never posted twice, a person must look" "the conflict says why"

# statuses that are not posted are skipped, and come back when they change
cancelled=$(printf '%s' "$raw" | sed 's/"id":727/"id":728/; s/"status":"processing"/"status":"cancelled"/')
env 728 2017-03-22T19:28:08Z "$cancelled" | wsi-stage >keys.txt
is "$(wc -l <keys.txt):$(q "select state from orders where id='728'")" "0:skipped" "a cancelled order is skipped"
env 728 2017-03-23T10:00:00Z "$(printf '%s' "$cancelled" | sed 's/"status":"cancelled"/"status":"processing"/')" | wsi-stage >keys.txt
is "$(cat keys.txt):$(q "select state from orders where id='728'")" "shop:728:staged" "reinstated: staged"

# held stays held
q "update orders set state='held' where id='728'"
env 728 2017-03-23T11:00:00Z "${cancelled/Direct Bank Transfer/Cheque}" | wsi-stage >keys.txt
is "$(q "select state from orders where id='728'")" held "a held order stays held when it changes"

# a bad line: reported with its number, the rest staged, the mark stays before it
{
	env 801 2017-04-01T00:00:00Z "$(printf '%s' "$raw" | sed 's/"id":727/"id":801/')"
	echo '{"mark":{"store":"shop","modified":"2017-04-01T00:00:01Z"}}'
	echo '{"store":"shop","id":"802","modified":"2017-04-02T00:00:00Z","source":"woocommerce","order":{"id":802,'
	env 803 2017-04-03T00:00:00Z "$(printf '%s' "$raw" | sed 's/"id":727/"id":803/')"
	echo '{"mark":{"store":"shop","modified":"2017-04-03T00:00:01Z"}}'
} >bad.txt
wsi-stage <bad.txt >keys.txt 2>err.txt; rc=$?
is "$rc" 1 "a bad line: exit 1"
like "$(cat err.txt)" "<stdin>:3: " "the bad line is named by number"
like "$(cat err.txt)" "the mark was not moved past it" "and the mark is said to stay"
is "$(cat keys.txt | tr '\n' ' ')" "shop:801 shop:803 " "the orders around it are staged"
is "$(wsi-hwm | cut -f3)" "2017-04-01T00:00:01Z" "the mark stays before the bad line"

# an amount that cannot be read: staged as invalid with the reason, never lost
env 804 2017-04-04T00:00:00Z "$(printf '%s' "$raw" | sed 's/"id":727/"id":804/; s/"total":"29.35"/"total":"29,35"/')" | wsi-stage >keys.txt 2>err.txt; rc=$?
is "$rc:$(q "select state from orders where id='804'")" "1:invalid" "unreadable amount: staged as invalid, exit 1"
is "$(q "select code||': '||message from reasons where id='804'")" 'unreadable: total: "29,35" is not an amount' "the reason names the field and value"

# unicode names survive
uni=$(printf '%s' "$raw" | sed 's/"id":727/"id":805/; s/"first_name":"John"/"first_name":"Zoë 李"/')
env 805 2017-04-05T00:00:00Z "$uni" | wsi-stage >/dev/null
like "$(canon 805)" '"first_name":"Zoë 李"' "unicode names"

# every money format the stores send
for f in woo-order-ios-fixture-coupon-fee-tax.json woo-order-ios-fixture-partially-refunded.json; do
	o=$(python3 -c 'import json; print(json.dumps(json.load(open("'"$TESTS/fixtures/$f"'"))["data"], ensure_ascii=False, separators=(",",":")))')
	id=$(printf '%s' "$o" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	env "$id" 2018-04-03T23:05:14Z "$o" | wsi-stage >/dev/null 2>&1
	is "$(q "select state from orders where id='$id'")" staged "$f staged"
done
like "$(canon 963)" '"shipping_lines":\[\{"method":"usps","title":"International Priority Mail Express Flat Rate","total":"133.00","tax":"0.00"\}\]' "coupon/fee/tax fixture: shipping read"
sh=$(python3 -c 'import json; print(json.dumps(json.load(open("'"$TESTS"'/fixtures/shopify-order-get-2025-01-js-fixture.json"))["order"], separators=(",",":")))')
sid=$(printf '%s' "$sh" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
printf '{"store":"shop","id":"%s","modified":"2024-05-14T13:23:45Z","source":"shopify","order":%s}\n' "$sid" "$sh" | wsi-stage >/dev/null
like "$(canon $sid)" '"source":"shopify"' "a Shopify order is staged"
printf '{"store":"shop","id":"900","modified":"2024-05-14T13:23:45Z","source":"woocommerce","order":{"id":900,"date_modified_gmt":"2024-05-14T13:23:45","status":"processing","total":361.9500,"line_items":[{"sku":"A","quantity":1,"subtotal":"361.9500","total":361.95,"total_tax":0,"price":361.95}]}}\n' | wsi-stage >/dev/null
like "$(canon 900)" '"total":"361.95"' "money as JSON numbers and 4-decimal strings, without a double"

out=$(echo '{"store":"shop","id":"1","modified":"x","source":"woocommerce","order":{}}' | wsi-stage 2>&1); rc=$?
like "$rc:$out" '^1:.*"modified" is not a time' "a bad envelope field is named"
# a worker's look at the database is a hint: v1 staged, then v2 and v1 again in one run (the
# second v1 looks unchanged to a worker that sees only what is committed)
rm -f wsi.db*
v1=$(printf '%s' "$raw" | sed 's/"id":727/"id":870/')
v2=$(printf '%s' "$v1" | sed 's/"customer_note":""/"customer_note":"leave at door"/')
env 870 2017-03-22T19:28:08Z "$v1" | wsi-stage >/dev/null 2>&1
{ env 870 2017-03-22T19:30:00Z "$v2"; env 870 2017-03-22T19:31:00Z "$v1"; } | wsi-stage -j 2 >/dev/null 2>&1
is "$(q "select raw from orders where id='870'")" "$v1" "the last download wins, though a worker took it for unchanged"
is "$(q "select count(*) from events where id='870'")" 1 "and the order's state is one event: staged (changes in the store while staged add none)"
is "$(canon 870 | jq -r .note)" "" "its canonical order is v1's"
done_testing
