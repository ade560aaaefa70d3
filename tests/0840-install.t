#!/usr/bin/env bash
# First install, as the README says it: the install steps and examples/crontab, run under a
# root of their own ($T/root), with cron's bare environment; the database's directory is made.
. "$(dirname "$0")/lib.sh"
top=$TESTS/..
R=$T/root
mkdir -p "$R/usr/local/bin"
cp "$WSI_BIN"/wsi-* "$R/usr/local/bin/"   # make install's BINDIR

# README: the directories (as root: without sudo)
line=$(grep -m1 'install -d -m 700' "$top/README.md" | sed 's/^ *//; s/^sudo //; s/#.*//')
like "$line" "^install -d -m 700 -o \"\\\$\(id -un\)\" /etc/wsi /var/lib/wsi /var/log/wsi" "README makes the config, database and log directories, owned by whoever runs it (\$USER may be unset as root)"
eval "$(printf '%s' "$line" | sed "s| /| $R/|g")"; ok $? "and its line runs"
lamp_shop
cp wsi.conf "$R/etc/wsi/wsi.conf"
sed -i "s|^path = .*|path = /var/lib/wsi/wsi.db|; s|/var/|$R/var/|" "$R/etc/wsi/wsi.conf"
for m in "customer * WEB" "customer 1400 1400" "payment stripe SEATAC CC"; do
	# shellcheck disable=SC2086
	(set -f; WSI_CONFIG="$R/etc/wsi/wsi.conf" wsi-remap add $m 2>/dev/null)
done
WSI_CONFIG="$R/etc/wsi/wsi.conf" wsi-remap add tax 'US-CA-STATE TAX' CA 2>/dev/null

# examples/crontab: every job, in cron's environment (its PATH line, nothing else)
path=$(sed -n 's/^PATH=//p' "$top/examples/crontab")
like "$path" "(^|:)/usr/local/bin(:|$)" "the crontab's PATH holds /usr/local/bin, where make install puts the tools"
grep -E '^[0-9*]' "$top/examples/crontab" | sed -E 's/^([^ ]+ +){5}//; s/\\%/%/g' >jobs.txt  # as cron: \% is %
is "$(wc -l <jobs.txt)" 3 "three jobs: the sync, the morning list, the monthly report"
i=0
while IFS= read -r job; do
	i=$((i + 1))
	job=$(printf '%s' "$job" | sed "s| /var/| $R/var/|g; s|=/etc/|=$R/etc/|g; s|>>/var/|>>$R/var/|g")
	env -i HOME="$T" PATH="$(printf '%s' "$path" | sed "s|/usr/local/bin|$R/usr/local/bin|")" sh -c "$job" >"job$i.out" 2>&1
	echo $? >"job$i.rc"
done <jobs.txt
is "$(cat job1.rc)" 1 "the sync job runs from cron's environment (exit 1: some orders wait)"
like "$(cat "$R/var/log/wsi/wsi.log")" "wsi-sync: validate: checked 10: 7 valid, 3 invalid" "its log is written where the crontab says"
is "$(sqlite3 "$R/var/lib/wsi/wsi.db" "select count(*) from orders where state='posted'")" 7 "and it posted"
like "$(cat job2.out)" "orders? waits? for item BEDLAMP" "the morning job lists what waits"
like "$(cat job3.out)" "^[0-9]+ rows: " "the monthly report job runs"

# a database whose directory is missing: made, 0700; one that cannot be made: said what to make
rm -rf "$R/var/lib/wsi"
env -i PATH="$R/usr/local/bin:/usr/bin:/bin" WSI_CONFIG="$R/etc/wsi/wsi.conf" wsi-hwm >/dev/null 2>&1; rc=$?
is "$rc:$(stat -c %a "$R/var/lib/wsi")" "0:700" "a missing database directory is made, mode 0700"
touch blocker
out=$(wsi-hwm -d "$T/blocker/db/wsi.db" 2>&1); rc=$?
is "$rc" 5 "a directory that cannot be made: exit 5"
like "$out" "the database's directory $T/blocker/db does not exist and cannot be made .*: make it, e.g. sudo install -d -m 700" "and what to make"
done_testing
