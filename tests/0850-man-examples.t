#!/usr/bin/env bash
# Every command in the EXAMPLES of every man page, as it renders, pasted into a shell against
# the simulators: each must run (exit 0, or 1 when orders wait), with no usage or shell error.
. "$(dirname "$0")/lib.sh"
command -v mandoc >/dev/null || { echo "1..0 # SKIP mandoc is not installed"; exit 0; }
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }
lamp_shop
wsi-fetch >monday.jsonl 2>/dev/null   # the saved download wsi-stage(1) stages again
mkdir -p "$T/var/lib/wsi" "$T/var/log/wsi"
cp wsi.conf "$T/var/lib/wsi/wsi.conf"
export WSI_CONFIG=$T/wsi.conf

# the commands: the EXAMPLES lines indented as literals, a line ending in | or && joined to the next
for m in "$TESTS"/../man/*.[17]; do
	mandoc -Tascii "$m" | col -bx | awk '
		/^[A-Z]/ { ex = ($0 == "EXAMPLES"); next }
		ex && /^        +[^ ]/ {
			sub(/^ +/, "")
			line = (cont ? line " " : "") $0
			cont = ($0 ~ /(\||&&)$/)
			if (!cont) print line
		}'
done >commands.txt
ok "$([ "$(wc -l <commands.txt)" -ge 14 ]; echo $?)" "the man pages give $(wc -l <commands.txt) example commands"
for m in "$TESTS"/../man/*.[17]; do
	mandoc -Tascii -Owidth=80 "$m" | col -bx | awk -v m="${m##*/}" 'length > 80 { print m ": " $0 }'
done >wide.txt
is "$(cat wide.txt)" "" "every man page reads at 80 columns"
is "$(mandoc -Tascii "$TESTS/../man/wsi-hwm.1" | col -bx | sed -n '/^EXIT STATUS/,/^EXAMPLES/p' | grep -c '^ ')" 1 "wsi-hwm(1)'s EXIT STATUS holds only exit statuses"

while IFS= read -r cmd; do
	run=$(printf '%s' "$cmd" | sed -E 's/^([*0-9\/,-]+ +){5}//; s|/var/|'"$T"'/var/|g')  # a crontab line: its command
	bash -o pipefail -c "$run" </dev/null >out.txt 2>err.txt; rc=$?
	ok "$([ "$rc" -le 1 ] && ! grep -Eq 'usage:|command not found|syntax error|jq: error|No such file' err.txt; echo $?)" \
		"runs as pasted (exit $rc): $cmd"
	[ "$rc" -le 1 ] || sed 's/^/#   /' err.txt
done <commands.txt
done_testing
