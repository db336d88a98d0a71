#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# box-widths.sh - every table a module defines fits in the text report's box
# (src/render-box.c: BOX_WIDTH columns, 4 of them borders and margins): a row
# cut at the border would lose a value's unit or its last columns unseen.
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
box=$(sed -n 's/^#define BOX_WIDTH \([0-9]*\).*/\1/p' "$top/src/render-box.c")
inner=$((box - 4))
# one line per table, "FILE:LINE NAME WIDTH", the width as render_table lays
# it out: a leading space, then a space and the column for each labelled one
tables=$(for f in "$top"/src/mod-*.c; do
	awk -v f="${f##*/}" '
		/static const struct ls_column [A-Za-z_]+\[\] = \{/ {
			on = 1; w = 1; start = FNR; name = $0
			sub(/.*ls_column /, "", name); sub(/\[.*/, "", name)
		}
		on {
			s = $0
			while (match(s, /\{ *(NULL|"[^"]*") *, *"[^"]*" *, *[0-9]+ *\}/)) {
				c = substr(s, RSTART, RLENGTH)
				sub(/ *\}$/, "", c); sub(/.*, */, "", c)
				w += 1 + c
				s = substr(s, RSTART + RLENGTH)
			}
		}
		on && /\};/ { print f ":" start " " name " " w; on = 0 }
	' "$f"
done)
count=$(echo "$tables" | grep -c .)
echo "1..$((count + 1))"
i=1
if [ "$count" -gt 10 ] && [ -n "$box" ]; then
	echo "ok $i - the modules define $count tables for a box $box columns wide"
else
	echo "not ok $i - found $count tables and box width '$box' (is the source tree at $top?)"
fi
echo "$tables" | while read -r where name width; do
	[ -n "$where" ] || continue
	i=$((i + 1))
	if [ "$width" -le "$inner" ]; then
		echo "ok $i - $where $name: $width of $inner columns"
	else
		echo "not ok $i - $where $name: $width columns, more than the box's $inner"
	fi
done
