#!/usr/bin/env bash
# One CLI: --help and --version everywhere, a key that names no order is an error on every tool
# that takes keys, a view takes no extra arguments, wsi-sync -v reaches its steps.
. "$(dirname "$0")/lib.sh"
lamp_shop
wsi-sync 2>/dev/null

for t in fetch stage remap validate post hwm sync; do
	out=$(wsi-$t --help 2>/dev/null); rc=$?
	is "$rc:$(printf '%s' "$out" | head -1 | cut -c1-$((13 + ${#t})))" "0:usage: wsi-$t [" "wsi-$t --help: usage on stdout, exit 0"
	out=$(wsi-$t --version 2>/dev/null); rc=$?
	like "$rc:$out" "^0:wsi-$t [0-9]+\.[0-9]+" "wsi-$t --version"
done

# a key that names no order: a message naming it, exit 2 (wsi(7)); the other keys still go on
for t in remap validate post; do
	out=$(wsi-$t shop:99999 2>&1 >/dev/null); rc=$?
	is "$rc:$out" "2:wsi-$t: shop:99999: no such order" "wsi-$t shop:99999: said, exit 2"
done
out=$(printf 'shop:99999\nshop:10240\n' | wsi-validate 2>&1); rc=$?
is "$rc" 2 "a missing key among good ones: exit 2"
like "$out" "over its credit limit" "and the good key was still checked"
for c in hold release show; do
	out=$(wsi-sync $c shop:99999 2>&1); rc=$?
	is "$rc:$out" "2:wsi-sync: shop:99999: no such order" "wsi-sync $c shop:99999: said, exit 2"
done

# extra arguments to a view are a usage error
for v in "wsi-sync status x" "wsi-sync waiting x" "wsi-sync waiting -t x" "wsi-hwm show x" "wsi-hwm log x" "wsi-remap list item x"; do
	$v >/dev/null 2>&1; rc=$?
	is "$rc" 2 "$v: usage error"
done

# wsi-sync -v passes -v to its steps (as wsi-sync(1) says); -q quiets them
new_order 50001
advance
wsi-sync -v 2>err.txt
like "$(cat err.txt)" "^wsi-post: .*Sage requests" "wsi-sync -v: the steps' own detail"
wsi-sync 2>err.txt
unlike "$(cat err.txt)" "^wsi-post: .*Sage requests" "without -v: only the summary lines"
done_testing
