#!/usr/bin/env bash
# The README's first command tells the whole story, and leaves nothing running.
. "$(dirname "$0")/lib.sh"
out=$(WSI_BIN="$WSI_BIN" TMPDIR="$T" "$TESTS/../demo/demo.sh" 2>&1); rc=$?
is "$rc" 0 "the demo runs"
like "$out" "2 orders wait for item BEDLAMP, not in Sage" "it shows BEDLAMP waiting"
like "$out" "1 order waits for customer 1400, over its credit limit" "and the customer over the credit limit"
like "$out" "10236 +skipped" "and the cancelled order, skipped"
like "$out" "wsi-sync: post: posted 2" "the mapping fixes BEDLAMP: posted"
like "$out" "10234 +posted +ORD" "shown posted"
like "$out" "^ok    prepayment: order$" "the doctor checks what a first run needs"
unlike "$out" "^FAIL  " "and finds nothing wrong"
like "$out" "^12 rows: 1 waiting, 2 skipped, 9 ok; web total 12557.86, Sage invoices 10163.36$" "the month's report against Sage"
like "$out" "^\\$ wsi-remap add customer '\\*' WEB$" "commands printed as a person must type them ('*' quoted)"
left=$(pgrep -f "storesim.py|sagesim.py" | while read -r p; do grep -l "$T" /proc/$p/cmdline 2>/dev/null; done | wc -l)
is "$left" 0 "no simulator left running"
done_testing
