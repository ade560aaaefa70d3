#!/usr/bin/env bash
# demo.sh - the story in one command: a demo web store on loopback, a day of its orders
# downloaded and staged, what is waiting and why, and the highwater mark. Leaves nothing running.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${WSI_BIN:-$top/build/bin}
run=$(mktemp -d "${TMPDIR:-/tmp}/wsi-demo.XXXXXX")
pid=
finish() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap finish EXIT
export PATH="$bin:$PATH"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

python3 "$top/tests/storesim.py" --kind woocommerce --orders "$top/demo/store-orders.json" \
	--now 2026-11-26T20:00:00Z --portfile "$run/port" >"$run/store.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$run/port" ] && break; sleep 0.05; done
cat >"$run/wsi.conf" <<CONF
# The demo store: a WooCommerce simulator on loopback (see tests/storesim.py).
[store]
name = shop
type = woocommerce
url = http://127.0.0.1:$(cat "$run/port")
key = ck_demo
secret = cs_demo
[db]
path = $run/wsi.db
CONF
chmod 600 "$run/wsi.conf"
# the simulator's credentials are its defaults; a real store's come from its REST API keys page
sed -i 's/ck_demo/ck_test/; s/cs_demo/cs_test/' "$run/wsi.conf"
export WSI_CONFIG=$run/wsi.conf

say "wsi-fetch | wsi-stage   (a day of web orders from the demo store)"
wsi-fetch -v | wsi-stage -v
say "What was staged (sqlite3 $run/wsi.db)"
sqlite3 -column -header "$run/wsi.db" \
	"select id as web_order, state, store_status as status, json_extract(canonical,'$.customer.email') as customer,
	        json_extract(canonical,'$.totals.total') as total,
	        (select group_concat(sku, ' ') from order_lines l where l.store=o.store and l.id=o.id) as skus
	 from orders o order by id"
say "The highwater mark (wsi-hwm)"
wsi-hwm
say "A second run finds nothing new"
wsi-fetch | wsi-stage -v
echo
echo "The database and config are in $run (remove it when done)."
