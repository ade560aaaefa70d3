#!/usr/bin/env bash
# The config file: found, parsed strictly, secrets kept private.
. "$(dirname "$0")/lib.sh"
start_store woocommerce "$TESTS/fixtures/woo-orders-list-docs-v3.json"

out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 3 "no config: exit 3"
like "$out" "no config: give -c FILE, set WSI_CONFIG, or create ./wsi.conf" "no config: says where it looked"

write_conf woocommerce
sed -i 's/^url =/urll =/' wsi.conf
out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 3 "typo in a key: exit 3"
like "$out" "wsi.conf:4: unknown key 'urll' in \[store\] \(did you mean 'url'\?\)" "typo: names the line and suggests"

write_conf woocommerce
sed -i 's/^\[db\]/[dbb]/' wsi.conf
out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 3 "unknown section: exit 3"
like "$out" "unknown section \[dbb\] \(did you mean \[db\]\?\)" "unknown section: suggests"

write_conf woocommerce
chmod 644 wsi.conf
out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 3 "secret in a file readable by others: exit 3"
like "$out" "holds a secret but is readable by others \(mode 644\)" "world-readable secret refused, as ssh does"
unlike "$out" "cs_test" "the message does not show the secret"

write_conf woocommerce
sed -i '/^secret/d' wsi.conf
out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 3 "secret missing: exit 3"
like "$out" "key and secret are needed" "secret missing: says which"
out=$(WSI_STORE_SECRET=cs_test wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc" 0 "WSI_STORE_SECRET supplies the secret"

write_conf woocommerce "secret = cs_wrong"
out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 3 "credentials refused by the store: exit 3"
like "$out" "HTTP 401: Consumer secret is invalid" "the store's own words"
unlike "$out" "cs_wrong" "the refused secret is never printed"

mkdir elsewhere
write_conf woocommerce
mv wsi.conf elsewhere/my.conf
out=$(WSI_CONFIG=elsewhere/my.conf wsi-fetch 2>/dev/null | grep -c '"order"')
is "$out" 2 "WSI_CONFIG is the second place looked"
out=$(wsi-fetch -c elsewhere/my.conf 2>/dev/null | grep -c '"order"')
is "$out" 2 "-c FILE is the first"
out=$(wsi-fetch -c nosuch.conf 2>&1); rc=$?
is "$rc" 3 "-c with a missing file: exit 3"
like "$out" "cannot read config nosuch.conf \(from -c\)" "-c missing: names the file"

write_conf woocommerce
sed -i "s|^url = .*|url = http://shop.example.com|" wsi.conf
out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 3 "plain http:// WooCommerce refused"
like "$out" "only over https://" "and says why"

write_conf woocommerce "overlap = soon"
out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 3 "a bad number: exit 3"
like "$out" "overlap must be a whole number" "a bad number: says what is expected"

write_conf shopify
sed -i 's/^type = .*/type = magento/' wsi.conf
out=$(wsi-fetch 2>&1); rc=$?
is "$rc" 3 "unknown store type: exit 3"
like "$out" "type must be woocommerce, shopify or file, not 'magento'" "unknown type named"

cp "$TESTS/../examples/wsi.conf" example.conf
chmod 600 example.conf
out=$(wsi-hwm -c example.conf -d "$T/example.db" 2>&1); rc=$?
is "$rc:$out" "0:" "examples/wsi.conf, every key, is read without a complaint"

out=$(wsi-fetch --bogus 2>&1); rc=$?
is "$rc" 2 "bad option: exit 2"
out=$(wsi-fetch -h); rc=$?
is "$rc" 0 "-h: exit 0"
like "$out" "usage: wsi-fetch" "-h prints usage on stdout"
out=$(wsi-hwm set yesterday 2>&1); rc=$?
is "$rc" 2 "wsi-hwm set with a bad time: exit 2"
done_testing
