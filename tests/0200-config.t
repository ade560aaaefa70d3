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
like "$out" "holds a secret but is world-readable \(mode 644\)" "world-readable secret refused, as ssh does"
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
missing=$(grep -o '{"[a-z]*", "[a-z_]*", [01]}' "$TESTS/../lib/config.c" | cut -d'"' -f4 | while read -r k; do
	grep -Eq "^#?$k = " example.conf || echo "$k"; done)
is "$missing" "" "examples/wsi.conf has every key wsi knows"

out=$(wsi-fetch --bogus 2>&1); rc=$?
is "$rc" 2 "bad option: exit 2"
out=$(wsi-fetch -h); rc=$?
is "$rc" 0 "-h: exit 0"
like "$out" "usage: wsi-fetch" "-h prints usage on stdout"
out=$(wsi-hwm set yesterday 2>&1); rc=$?
is "$rc" 2 "wsi-hwm set with a bad time: exit 2"

# the config as people write it: comments after a value, quoted values, as in git config
start_sage
write_conf woocommerce
wsi-fetch 2>/dev/null | wsi-stage >/dev/null 2>&1
wsi-remap add customer '*' WEB 2>/dev/null
sed -i 's/^secret = cs_test$/secret = cs_test    # from the shop admin, 2026-11/; s/^key = ck_test$/key = ck_test ; read-only key/' wsi.conf
sed -i 's|^password = sage-test-pw$|password = "sage-test-pw"  # the Web API user|' wsi.conf
out=$(wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc" 0 "'# note' and '; note' after a value are comments (the store takes the key and secret)"
out=$(wsi-remap -a 2>/dev/null | wsi-validate 2>&1); rc=$?
unlike "$out" "HTTP 401" "a double-quoted password followed by a comment is the password (Sage takes it)"
start_store woocommerce "$TESTS/fixtures/woo-orders-list-docs-v3.json" --key ck_test --secret 'cs #x; y'
write_conf woocommerce
sed -i 's|^secret = cs_test$|secret = "cs #x; y"   # quoted: it holds # and ;|' wsi.conf
out=$(wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc" 0 "a double-quoted value holds # and ; (the store takes the secret)"
printf '[store]\nname = "shop\n' >bad.conf; chmod 600 bad.conf
out=$(wsi-hwm -c bad.conf 2>&1); rc=$?
is "$rc" 3 "an unterminated quote: exit 3"
like "$out" "bad.conf:2: .*quote" "and names the line"
# README's own config example, pasted as it is
sed -n '/^    \[store\]$/,/^    path = /p' "$TESTS/../README.md" | sed 's/^    //' >readme.conf; chmod 600 readme.conf
out=$(wsi-hwm -c readme.conf -d "$T/readme.db" 2>&1); rc=$?
is "$rc:$out" "0:" "README's config example is read as pasted, comments and all"
ok "$([ "$(grep -c "#" readme.conf)" -ge 2 ]; echo $?)" "(it has comments after values)"

# no message says line 0: a value from the environment is named by its variable
write_conf woocommerce
sed -i '/^type = /d' wsi.conf
out=$(wsi-fetch 2>&1); rc=$?
like "$out" "^wsi-fetch: wsi.conf: \[store\] type must be" "a missing key: the file, no line 0"
write_conf woocommerce "overlap = soon"
out=$(WSI_STORE_SECRET=y wsi-fetch 2>&1); rc=$?
like "$out" "wsi.conf:[1-9][0-9]*: \[store\] overlap" "a bad value names its line"
# group-readable is called group-readable
write_conf woocommerce
chmod 640 wsi.conf
out=$(wsi-fetch 2>&1); rc=$?
like "$out" "group-readable \(mode 640\)" "a group-readable file is called group-readable"
chmod 604 wsi.conf
out=$(wsi-fetch 2>&1); rc=$?
like "$out" "world-readable \(mode 604\)" "a world-readable file is called world-readable"
# every secret has its environment variable; a config without secrets may be world-readable
write_conf woocommerce
sed -i '/^key = /d; /^secret = /d; /^password = /d' wsi.conf
chmod 644 wsi.conf
out=$(WSI_STORE_KEY=ck_test WSI_STORE_SECRET='cs #x; y' WSI_SAGE_PASSWORD=sage-test-pw wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc:$out" 0: "WSI_STORE_KEY and WSI_STORE_SECRET: a world-readable config with no secret"
wsi-sync hold shop:727 2>/dev/null; wsi-sync release shop:727 2>/dev/null; wsi-remap -a >/dev/null 2>&1
out=$(WSI_STORE_KEY=ck_test WSI_STORE_SECRET='cs #x; y' WSI_SAGE_PASSWORD=sage-test-pw wsi-validate -a 2>&1); rc=$?
unlike "$out" "HTTP 401|password is missing" "WSI_SAGE_PASSWORD"
start_store shopify
write_conf shopify
sed -i '/^token = /d; /^password = /d' wsi.conf
chmod 644 wsi.conf
out=$(WSI_STORE_TOKEN=shpat_test WSI_SAGE_PASSWORD=sage-test-pw wsi-fetch 2>&1 >/dev/null); rc=$?
is "$rc:$out" 0: "WSI_STORE_TOKEN"
# a wrong Sage company is not a wrong password
write_conf woocommerce
sed -i 's|/SAMLTD$|/SAMLTX|' wsi.conf
wsi-sync hold shop:727 2>/dev/null; wsi-sync release shop:727 2>/dev/null; wsi-remap -a >/dev/null 2>&1
out=$(wsi-validate -a 2>&1); rc=$?
is "$rc" 3 "a wrong Sage company: exit 3"
like "$out" "cannot open company SAMLTX" "named as the company"
unlike "$out" "user or password" "not as a wrong password"
done_testing
