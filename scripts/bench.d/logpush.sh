#!/bin/bash
# logpush.sh: logpush to the VictoriaLogs test server on loopback against
# curl posting the same records pre-batched (1000 lines per body) in
# sequence over one connection (curl -K with --next).  Reports records/s
# and client CPU per record.  Env (from scripts/bench): BIN, DATA, BENCH_MB.
set -eu
BIN=${BIN:?} DATA=${DATA:-/tmp/logkit-bench} BENCH_MB=${BENCH_MB:-1024}
B=${B:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$DATA"
LOGGEN=${LOGGEN:-$BIN/../$B/loggen}
[ -x "$LOGGEN" ] || LOGGEN=$(dirname "$BIN")/build/loggen
# The test server is Python: bound the count so a run stays short.
n=$((BENCH_MB * 2000)); [ "$n" -gt 200000 ] && n=200000
in=$DATA/logpush-app-$n.jsonl
[ -s "$in" ] || "$LOGGEN" app --seed 3 --count "$n" > "$in"
W=$(mktemp -d)
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$W"' EXIT
python3 "$TOP/tests/servers/victorialogs.py" --port-file "$W/port" --store /dev/null \
	--lifetime 900 &
SPID=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
URL=http://127.0.0.1:$(cat "$W/port")
Q="_time_field=_time&_msg_field=_msg"

# The same records as 1000-line bodies, one curl config entry each.
mkdir "$W/b"
split -l 1000 -a 5 "$in" "$W/b/body."
first=1
for f in "$W"/b/body.*; do
	[ $first = 1 ] || echo "next"
	first=0
	printf 'url = "%s/insert/jsonline?%s"\ndata-binary = "@%s"\nheader = "Content-Type: application/stream+json"\nsilent\noutput = "/dev/null"\n' "$URL" "$Q" "$f"
done > "$W/curl.cfg"

# best of 3: "wall user sys" of the command, stdin from $in
best() {
	local b="" bw=999999
	for _ in 1 2 3; do
		r=$( { /usr/bin/time -f '%e %U %S' "$@" < "$in" > /dev/null; } 2>&1 | tail -1)
		w=${r%% *}
		if [ "$(echo "$w < $bw" | bc -l)" = 1 ]; then bw=$w; b=$r; fi
	done
	echo "$b"
}
ours=$(best "$BIN/logpush" --to victorialogs --no-gzip "$URL")
gz=$(best "$BIN/logpush" --to victorialogs "$URL")
ref=$(best curl -K "$W/curl.cfg")
rate() { echo "$n / $(echo "$1" | cut -d' ' -f1)" | bc -l; }
cpu() { echo "$1" | awk -v n="$n" '{ printf "%.2f", ($2 + $3) * 1e6 / n }'; }
printf 'logpush %d records to test VictoriaLogs: ours %.0f rec/s (%s us CPU/rec), curl pre-batched %.0f rec/s (%s us CPU/rec), ratio %.2f (target >= 0.9)\n' \
	"$n" "$(rate "$ours")" "$(cpu "$ours")" "$(rate "$ref")" "$(cpu "$ref")" \
	"$(echo "$(rate "$ours") / $(rate "$ref")" | bc -l)"
printf 'logpush with gzip bodies: %.0f rec/s (%s us CPU/rec)\n' "$(rate "$gz")" "$(cpu "$gz")"
rss=$( { /usr/bin/time -f %M "$BIN/logpush" --to victorialogs "$URL" < "$in" > /dev/null; } 2>&1 | tail -1)
echo "logpush peak RSS: $rss KiB"
