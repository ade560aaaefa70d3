#!/usr/bin/env bash
# A short randomized fault run (make faults runs long ones): lost, duplicated, half-done all 0.
. "$(dirname "$0")/lib.sh"
for mode in receipt order; do
	out=$(WSI_BIN="$WSI_BIN" python3 "$TESTS/faults.py" --rounds "${FAULT_ROUNDS:-8}" --seed "${FAULT_SEED:-20261127}" --prepayment "$mode" 2>&1); rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	is "$rc" 0 "prepayment = $mode: a fault run ends with nothing lost, twice or half-done"
	like "$out" "lost 0, duplicated 0, half-done 0, unexplained 0" "prepayment = $mode: the counts"
done
done_testing
