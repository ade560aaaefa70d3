#!/usr/bin/env bash
# wsi-sync doctor: every check a first run needs, against the live store and Sage; each check
# failing on its own, named with what fixes it, and the worst exit status of wsi(7)'s table.
. "$(dirname "$0")/lib.sh"
start_store woocommerce "$TESTS/fixtures/lamp-orders.json"   # its clock real and moving
start_sage
write_conf woocommerce
wsi-remap add customer '*' WEB 2>/dev/null
wsi-remap add customer 1400 1400 2>/dev/null
wsi-remap add payment stripe SEATAC CC 2>/dev/null
wsi-remap add tax 'US-CA-STATE TAX' CA 2>/dev/null
wsi-fetch 2>/dev/null | wsi-stage >/dev/null 2>&1

out=$(wsi-sync doctor); rc=$?
is "$rc" 0 "all well: exit 0"
unlike "$out" "^FAIL" "no check fails"
like "$out" "^ok    config: wsi.conf \(mode 600\)$" "the config and its mode"
like "$out" "^ok    database: .*wsi.db, writable, schema [0-9]+$" "the database"
like "$out" "^ok    store: woocommerce http://127.0.0.1:[0-9]+ answers" "the store"
like "$out" "^ok    store clock: clock within [0-9]+ s of ours$" "the store's clock"
like "$out" "^ok    Sage: .* answers, takes the user and opens the company$" "Sage"
like "$out" "^ok    Sage clock: " "Sage's clock"
like "$out" "^ok    mapping payment stripe -> SEATAC CC$" "each mapping"
like "$out" "^ok    mapping tax US-CA-STATE TAX -> CA$" "a tax mapping: its authority in a Sage tax group"
like "$out" "^ok    miscellaneous charge SHIP$" "the misc charges the config names"
like "$out" "^ok    prepayment: order$" "the prepayment mode"

doc() { # doc STATUS PATTERN DESCRIPTION: run doctor, check its status and a FAIL line
	out=$(wsi-sync doctor 2>&1); rc=$?
	is "$rc" "$1" "$3: exit $1"
	like "$out" "$2" "$3: named, with what fixes it"
}

# mappings, each wrong on its own
for m in "item BEDLAMP A1-777/0|item A1-777/0 is not in Sage: add it" "item BEDLAMP A1-999/0|item A1-999/0 is inactive in Sage" \
	"item BEDLAMP A1-500/0|item A1-500/0 is not sellable" "customer 1400 9999|customer 9999 is not in Sage" \
	"customer 1400 1200|customer 1200 is on hold in Sage: take it off hold" "customer 1400 1500|customer 1500 is inactive" \
	"customer 1400 CAD01|customer CAD01 is in CAD, the store's orders in USD" \
	"payment stripe NOBANK CC|bank NOBANK is not in Sage" "payment stripe SEATAC NOPC|payment code NOPC is not in Sage" \
	"shipvia flat_rate NOVIA|ship-via code NOVIA is not in Sage" "tax US-CA-STATE-TAX XXCA|tax authority XXCA is in no Sage tax group"; do
	set -f
	# shellcheck disable=SC2086
	wsi-remap add ${m%%|*} 2>/dev/null
	set +f
	doc 1 "^FAIL  mapping ${m%% *} .*: ${m#*|}" "a bad mapping target (${m%%|*})"
	wsi-remap rm "$(echo "${m%%|*}" | cut -d' ' -f1)" "$(echo "${m%%|*}" | cut -d' ' -f2)" 2>/dev/null
	wsi-remap add customer 1400 1400 2>/dev/null
	wsi-remap add payment stripe SEATAC CC 2>/dev/null
done
wsi-remap rm payment stripe 2>/dev/null
doc 1 "^FAIL  prepayment: \[sage\] prepayment = order, but no payment mapping" "no payment mapping"
wsi-remap add payment stripe SEATAC CC 2>/dev/null
wsi-remap rm customer '*' 2>/dev/null; wsi-remap rm customer 1400 2>/dev/null
doc 1 "^FAIL  mappings: no customer mapping: .*wsi-remap add customer" "no customer mapping"
wsi-remap add customer '*' WEB 2>/dev/null
write_conf woocommerce "[sage]" "shipping_charge = NOSHIP"
doc 1 "^FAIL  miscellaneous charge NOSHIP: not in Sage" "a misc charge the config names that Sage lacks"
write_conf woocommerce "[sage]" "tax = sage" "rounding_charge = NOROUND"
doc 1 "^FAIL  miscellaneous charge NOROUND: not in Sage" "the rounding charge of tax = sage, checked too"
write_conf woocommerce "[sage]" "tax = both"
doc 3 "\[sage\] tax must be store or sage" "tax is store or sage"

# the clocks
write_conf woocommerce
sage /_sim/options '{"clock_offset": 600}' >/dev/null
doc 1 "^FAIL  Sage clock: its clock is 60[0-9] s ahead of ours" "Sage's clock ten minutes ahead"
sage /_sim/options '{"clock_offset": 0}' >/dev/null
sim /_sim/clock '{"advance":-7200}' >/dev/null
doc 1 "^FAIL  store clock: its clock is [0-9]+ s behind ours" "the store's clock behind"

# Sage: the user, the company, down
write_conf woocommerce "[sage]" "password = wrong-pw"
doc 3 "^FAIL  Sage: .*HTTP 401.*user or password" "Sage refuses the password"
write_conf woocommerce
sed -i 's|/SAMLTD$|/SAMLTX|' wsi.conf
doc 3 "^FAIL  Sage: .*cannot open company SAMLTX" "a wrong company"
write_conf woocommerce
kill "$SAGE_PID"; wait "$SAGE_PID" 2>/dev/null
doc 4 "^FAIL  Sage: .*(connect|Connection refused)" "Sage down"
like "$out" "^FAIL  mappings: not checked" "the mappings are then not checked, said so"
start_sage

# the store: credentials, the API, down
write_conf woocommerce "secret = cs_wrong"
doc 3 "^FAIL  store: .*HTTP 401" "the store refuses the secret"
write_conf woocommerce
sed -i "s|^url = $STORE_URL$|url = $STORE_URL/shop|" wsi.conf
doc 3 "^FAIL  store: .*404" "no WooCommerce API at that address"
write_conf woocommerce
kill "$STORE_PID"; wait "$STORE_PID" 2>/dev/null
doc 4 "^FAIL  store: .*(connect|Connection refused)" "the store down"
start_store woocommerce "$TESTS/fixtures/lamp-orders.json"

# the database, the config
write_conf woocommerce
sqlite3 "$T/wsi.db" "PRAGMA user_version = 99"
doc 5 "^FAIL  database: .*has schema version 99, newer than this wsi knows \([0-9]+\): upgrade wsi" "a database a newer wsi made"
sqlite3 "$T/wsi.db" "PRAGMA user_version = $(sqlite3 "$T/wsi.db" 'PRAGMA user_version' | sed 's/99/0/')" 2>/dev/null
rm -f "$T"/wsi.db*
printf '[store]\nurll = x\n' >bad.conf; chmod 600 bad.conf
out=$(wsi-sync -c bad.conf doctor 2>&1); rc=$?
is "$rc" 3 "a config with a typo: exit 3"
like "$out" "^FAIL  config: bad.conf:2: unknown key 'urll'" "named with its line"
write_conf woocommerce "[sage]" "prepayment = sometimes"
doc 3 "^FAIL  config: wsi.conf:[0-9]+: \[sage\] prepayment must be" "a bad setting"
done_testing
