#!/usr/bin/env bash
# The tables the code keeps are the ones the man pages give: the order's moves (wsi(7)), and
# every reason code (known to the table, documented in a man page, emitted by a tool).
. "$(dirname "$0")/lib.sh"
top=$(cd "$TESTS/.." && pwd)
# wsi(7)'s list of moves: ".It Cm STATE" then "\(-> TO ..."
awk '/^\.It Cm [a-z]+$/ {s=$3; next} /^\\\(-> / && s {sub(/^\\\(-> /, ""); print s "\t" $0; s=""; next} {s=""}' \
	"$top/man/wsi.7" >doc-moves.txt
"$WSI_BIN/unit" moves >code-moves.txt
is "$(wc -l <doc-moves.txt)" 10 "wsi(7) lists the moves of the ten states"
is "$(diff doc-moves.txt code-moves.txt && echo same)" same "the moves in the code are wsi(7)'s"

"$WSI_BIN/unit" reasons | cut -f1 | sort -u >codes.txt
missing=""
for c in $(cat codes.txt); do
	grep -q -- "$c" "$top/man/wsi-validate.1" "$top/man/wsi.7" "$top/man/wsi-sync.1" || missing="$missing $c"
done
is "$missing" "" "every reason code is in a man page"
# every code a tool gives an order: add(rs, "CODE" in wsi-validate; a code string in the others
{ grep -oh 'add(rs, "[a-z-]*"' "$top/validate/main.c" | sed 's/.*"\(.*\)"/\1/'
  grep -oh '"\(cannot-post\|sage-refused\|sage-total-differs\|unreadable\)"' "$top"/post/*.c "$top/stage/main.c" | tr -d '"'
  grep -oh 'refusal = "[a-z-]*"' "$top/lib/sale.c" | cut -d'"' -f2
} | sort -u >emitted.txt
is "$(comm -23 emitted.txt codes.txt | tr '\n' ' ')" "" "every code a tool gives is in the table (no generic sentence)"
[ "$(wc -l <emitted.txt)" -ge 20 ]; ok $? "the tools' codes were read ($(wc -l <emitted.txt | tr -d ' '))"
done_testing
