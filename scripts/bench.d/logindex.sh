#!/bin/bash
# logindex.sh: ingest speed and size of logindex, and logq -d on the index
# against grep -F, rg and jq over the raw JSON lines (issue 3's targets).
# Env (from scripts/bench): BIN, B, LOGGEN, DATA, BENCH_MB.
set -eu
BIN=${BIN:?} DATA=${DATA:-/tmp/logkit-bench} BENCH_MB=${BENCH_MB:-1024}
LOGGEN=${LOGGEN:-${B:-build}/loggen}
mkdir -p "$DATA"
in=$DATA/events-${BENCH_MB}m.jsonl
[ -s "$in" ] || "$LOGGEN" events --seed 7 --size $((BENCH_MB * 1048576)) > "$in"
idx=$DATA/events-${BENCH_MB}m.idx
out=$DATA/bench-out.$$
trap 'rm -f "$out" "$out.json"' EXIT
mb=$(( $(stat -c %s "$in") / 1048576 ))
LI="$BIN/logindex --time-field event_timestamp --msg-field line --stream-fields base"

# best CMD [RUNS]: "W C", the best wall and the mean CPU (user+sys)
# seconds of RUNS runs (default 5) after a warm-up, by hyperfine.  CMD is
# started directly: a shell's own start-up, some milliseconds, would blur
# a query that takes a few tens of them.  Output goes to a pipe: GNU grep
# stops at the first match when its output is /dev/null, which would
# flatter it.
best() {
	local j=$out.json
	hyperfine -N --output=pipe --warmup 1 --runs "${2:-5}" --export-json "$j" "$1" >/dev/null 2>&1 || true
	jq -r '.results[0] | "\(.min) \(.user + .system)"' "$j" | awk '{ printf "%.3f %.3f", $1, $2 }'
	rm -f "$j"
}
# pipeline CMD: the same for a shell pipeline, best of 3 runs of bash -c
# (its start-up is nothing beside the seconds such a pipeline takes)
pipeline() {
	local bw=999 bc=999 t w c
	for _ in 1 2 3; do
		t=$( { TIMEFORMAT='%3R %3U %3S'; time bash -c "$1" > "$out" 2>/dev/null; } 2>&1 ) || true
		read -r w c <<<"$(awk '{ printf "%.3f %.3f", $1, $2 + $3 }' <<<"$t")"
		bw=$(echo "if ($w < $bw) $w else $bw" | bc -l)
		bc=$(echo "if ($c < $bc) $c else $bc" | bc -l)
	done
	printf '%.3f %.3f' "$bw" "$bc"
}
rss() { /usr/bin/time -f %M bash -c "$1" 2>&1 >/dev/null | tail -1; }
ratio() { echo "scale=1; $1 / $2" | bc -l; }
# line NAME OURS THEIRS TARGET: "W C" pairs side by side, ratios of both
line() {
	local ow oc tw tc
	read -r ow oc <<<"$2"
	read -r tw tc <<<"$3"
	echo "$1: ours ${ow}s (cpu ${oc}s), $4 ${tw}s (cpu ${tc}s), ratio $(ratio "$tw" "$ow")x wall, $(ratio "$tc" "$oc")x cpu (target $5)"
}

# ingest (one core: logindex is single-threaded; it fsyncs every part),
# best of 3 into a fresh directory
w=999 c=999
for _ in 1 2 3; do
	rm -rf "$idx"
	sync
	/usr/bin/time -f '%e %U %S %M' -o "$out.t" $LI -d "$idx" < "$in"
	read -r w1 c1 ingest_rss <<<"$(awk '{ printf "%.2f %.2f %d", $1, $2 + $3, $4 }' "$out.t")"
	w=$(echo "if ($w1 < $w) $w1 else $w" | bc -l)
	c=$(echo "if ($c1 < $c) $c1 else $c" | bc -l)
done
rm -f "$out.t"
echo "logindex ingest (${mb} MiB): ours $(printf '%.0f' "$(echo "$mb / $w" | bc -l)") MB/s wall in ${w}s," \
	"$(printf '%.0f' "$(echo "$mb / $c" | bc -l)") MB/s per core of CPU in ${c}s, peak RSS ${ingest_rss} KiB (target >= 200 MB/s per core)"
isz=$(du -sb "$idx" | cut -f1)
zsz=$(zstd -3 -T1 -c "$in" | wc -c)
echo "logindex size (${mb} MiB): ours $((isz / 1048576)) MiB, zstd -3 $((zsz / 1048576)) MiB, ratio $(ratio "$zsz" "$isz")x (target >= 1)"
"$BIN/logindex" -d "$idx" --stats | jq -c '{records, parts, blocks, streams}' | sed 's/^/logindex stats: /'

# the process floor: a logq that does nothing (dynamic loading)
echo "logq startup floor: $(best "$BIN/logq --version" 30) (wall cpu seconds)"

# the records themselves, and (like grep -c) just their count
ours=$(best "$BIN/logq -d '$idx' coredump" 30)
oursc=$(best "$BIN/logq -d '$idx' 'coredump | stats count()'" 30)
grepc=$(best "grep -F -c coredump '$in'")
rgc=$(best "rg -c coredump '$in'")
line "logq -d rare word, records (${mb} MiB)" "$ours" "$grepc" "grep -F -c" ">= 20"
line "logq -d rare word, count (${mb} MiB)" "$oursc" "$grepc" "grep -F -c" ">= 20"
line "logq -d rare word, records (${mb} MiB)" "$ours" "$rgc" "rg -c" ">= 3"
echo "logq -d rare word peak RSS: ours $(rss "$BIN/logq -d '$idx' coredump") KiB"
"$BIN/logq" -d "$idx" --explain coredump 2>&1 >/dev/null | sed -n 's/^logq: explain: \(blocks\)/logq -d rare word: \1/p'

q='* | stats by (severity) count()'
line "logq -d stats by severity (${mb} MiB)" "$(best "$BIN/logq -d '$idx' '$q'")" \
	"$(pipeline "jq -c '.severity' '$in' | sort | uniq -c")" "jq | sort | uniq -c" ">= 50"
echo "logq -d stats peak RSS: ours $(rss "$BIN/logq -d '$idx' '$q'") KiB"

# 1% of the time range against all of it, records printed: time should
# scale with the slice
tmin=$("$BIN/logindex" -d "$idx" --stats | jq -r .time_min)
tmax=$("$BIN/logindex" -d "$idx" --stats | jq -r .time_max)
a=$(date -u -d "$tmin" +%s); b=$(date -u -d "$tmax" +%s)
lo=$(date -u -d "@$(( a + (b - a) / 2 ))" +%Y-%m-%dT%H:%M:%SZ)
hi=$(date -u -d "@$(( a + (b - a) / 2 + (b - a) / 100 + 1 ))" +%Y-%m-%dT%H:%M:%SZ)
part=$(best "$BIN/logq -d '$idx' '_time:[$lo,$hi)'" 10)
all=$(best "$BIN/logq -d '$idx' '*'")
n1=$("$BIN/logq" -d "$idx" "_time:[$lo,$hi) | stats count()" | jq -r '."count(*)"')
n2=$("$BIN/logq" -d "$idx" '* | stats count()' | jq -r '."count(*)"')
line "logq -d 1% time range, $n1 of $n2 records (${mb} MiB)" "$part" "$all" "all records" "~100: proportional to the slice"
echo "logq -d all records peak RSS: ours $(rss "$BIN/logq -d '$idx' '*'") KiB"
