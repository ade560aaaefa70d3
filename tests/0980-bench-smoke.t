#!/usr/bin/env bash
# make bench and make bench-memory, small: the scripts run and print their figures (no time is
# asserted: these machines are shared; the long runs are make bench and make bench-memory).
. "$(dirname "$0")/lib.sh"
out=$(WSI_BIN="$WSI_BIN" PAIRS=1 python3 "$TESTS/../bench/stage.py" 300 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
is "$rc" 0 "bench/stage.py runs"
like "$out" "first load: wsi-stage [0-9.]+ s .*py_stage.py [0-9.]+ s .*wall [0-9.]+x" "first load: both, and the ratio"
like "$out" "unchanged rerun: wsi-stage" "the unchanged rerun"
like "$out" "database: wsi [0-9.]+ MB \([0-9.]+x the input\)" "the database against the input"
out=$(WSI_BIN="$WSI_BIN" python3 "$TESTS/bench_memory.py" 200 300 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
is "$rc" 0 "tests/bench_memory.py runs"
like "$out" "wsi-validate -a, 200 orders: .* Sage requests, peak RSS [0-9.]+ MiB \(exit 0\)" "validate -a: time, requests, memory"
like "$out" "one order of 300 lines .*wsi-post [0-9.]+ MiB .*it is posted" "one big order, through to Sage"
done_testing
