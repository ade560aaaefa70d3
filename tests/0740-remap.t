#!/usr/bin/env bash
# wsi-remap: add, rm, list, import; a change of mappings sends the orders it touches back.
. "$(dirname "$0")/lib.sh"
lamp_shop
is "$(wsi-remap list | tr '\t\n' ' |')" "customer * WEB|customer 1400 1400|payment stripe SEATAC CC|tax US-CA-STATE TAX CA|" "list: TSV kind, from, to[, to2]"
is "$(wsi-remap list payment)" "payment	stripe	SEATAC	CC" "list KIND"
out=$(wsi-remap add payment paypal SEATAC 2>&1); rc=$?
is "$rc" 2 "a payment needs a bank and a code"
like "$out" "payment paypal BANK CODE" "and says so"
out=$(wsi-remap add colour red blue 2>&1); rc=$?
is "$rc" 2 "an unknown kind: usage"
chain
is "$(q "select count(*) from orders where state='invalid'")" 3 "three invalid"
wsi-remap add item BEDLAMP A1-104/0 2>err.txt
like "$(cat err.txt)" "2 unposted orders sent back to be mapped again" "add: the orders it touches go back"
is "$(q "select group_concat(id) from orders where state='staged'")" "10234,10238" "the two BEDLAMP orders are staged again"
wsi-remap rm item BEDLAMP 2>err.txt; rc=$?
is "$rc" 0 "rm"
out=$(wsi-remap rm item BEDLAMP 2>&1); rc=$?
is "$rc:$out" "2:wsi-remap: no item mapping for 'BEDLAMP'" "rm of what is not there: says so"
printf 'item\tBEDLAMP\tA1-104/0\n# a comment\n\nshipvia\tflat_rate\tCCT\npayment\tcheque\tSEATAC\tCHECK\n' >map.tsv
wsi-remap import map.tsv 2>err.txt; rc=$?
is "$rc" 0 "import"
like "$(cat err.txt)" "3 mappings imported" "import counts"
printf 'item\tA\tB\nitem\tC\n' >bad.tsv
out=$(wsi-remap import bad.tsv 2>&1); rc=$?
is "$rc" 2 "import of a bad file: usage"
like "$out" "bad.tsv:2: expected kind, from, to\[, to2\] separated by tabs" "names the line"
is "$(wsi-remap list item | wc -l)" 1 "and nothing of it was imported"
wsi-remap -a >keys.txt 2>/dev/null
is "$(cat keys.txt | tr '\n' ' ')" "shop:10234 shop:10238 shop:10240 " "-a maps every staged order (the import touched 10240 too) and prints its key"
like "$(q "select mapped from orders where id='10231'")" '"shipvia":\{"from":"flat_rate","to":null' "a posted order is not touched by a new mapping"
like "$(q "select mapped from orders where id='10234'")" '"shipvia":\{"from":"flat_rate","to":"CCT","entry":"shipvia:flat_rate"\}' "and after"
out=$(wsi-remap shop:99999 2>&1)
like "$out" "shop:99999: no such order" "an unknown key"
out=$(wsi-remap nonsense 2>&1); rc=$?
is "$rc" 2 "neither a command nor a key: usage"
done_testing
