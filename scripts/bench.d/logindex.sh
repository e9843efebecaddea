#!/bin/bash
# logindex.sh: ingest speed and size of logindex, and logq -d on the index
# against grep -F, rg and jq over the raw JSON lines (issue 3's targets).
# Env (from scripts/bench): BIN, DATA, BENCH_MB.
set -eu
BIN=${BIN:?} DATA=${DATA:-/tmp/logkit-bench} BENCH_MB=${BENCH_MB:-1024}
mkdir -p "$DATA"
LOGGEN=$(dirname "$BIN")/build/loggen
in=$DATA/events-${BENCH_MB}m.jsonl
[ -s "$in" ] || "$LOGGEN" events --seed 7 --size $((BENCH_MB * 1048576)) > "$in"
idx=$DATA/events-${BENCH_MB}m.idx
mb=$(( $(stat -c %s "$in") / 1048576 ))
LI="$BIN/logindex --time-field event_timestamp --msg-field line --stream-fields base"

secs() { echo "($2 - $1) / 1000000000" | bc -l; }
# best wall seconds of 3 runs of the shell command $1
best() {
	local b=999 t0 t1 s
	for _ in 1 2 3; do
		t0=$(date +%s%N); bash -c "$1" > /dev/null 2>&1 || true; t1=$(date +%s%N)
		s=$(secs "$t0" "$t1")
		b=$(echo "if ($s < $b) $s else $b" | bc -l)
	done
	printf '%.3f' "$b"
}
rss() { /usr/bin/time -f %M bash -c "$1" 2>&1 >/dev/null | tail -1; }
ratio() { echo "scale=1; $1 / $2" | bc -l; }

# ingest (one core: logindex is single-threaded)
rm -rf "$idx"
t0=$(date +%s%N)
ingest_rss=$(/usr/bin/time -f %M $LI -d "$idx" < "$in" 2>&1 >/dev/null | tail -1)
t1=$(date +%s%N)
s=$(secs "$t0" "$t1")
echo "logindex ingest (${mb} MiB): ours $(printf '%.0f' "$(echo "$mb / $s" | bc -l)") MB/s in $(printf '%.2f' "$s")s, peak RSS ${ingest_rss} KiB (target >= 200 MB/s per core)"
isz=$(du -sb "$idx" | cut -f1)
zsz=$(zstd -3 -T1 -c "$in" | wc -c)
echo "logindex size (${mb} MiB): ours $((isz / 1048576)) MiB, zstd -3 $((zsz / 1048576)) MiB, ratio $(ratio "$zsz" "$isz")x (target >= 1)"

if ! "$BIN/logq" -d "$idx" '*' 2>&1 >/dev/null | head -1 | grep -qv 'not available'; then
	echo "logq -d: not wired in this build: query benchmarks skipped"
	exit 0
fi
ours=$(best "$BIN/logq -d '$idx' coredump | wc -l")
grep_t=$(best "grep -F -c coredump '$in'")
rg_t=$(best "rg -c coredump '$in'")
echo "logq -d rare word (${mb} MiB): ours ${ours}s, grep -F -c ${grep_t}s, ratio $(ratio "$grep_t" "$ours")x (target >= 20)"
echo "logq -d rare word (${mb} MiB): ours ${ours}s, rg -c ${rg_t}s, ratio $(ratio "$rg_t" "$ours")x (target >= 3)"
echo "logq -d rare word peak RSS: ours $(rss "$BIN/logq -d '$idx' coredump") KiB"
ours=$(best "$BIN/logq -d '$idx' '* | stats by (severity) count()'")
jq_t=$(best "jq -c '.severity' '$in' | sort | uniq -c")
echo "logq -d stats by severity (${mb} MiB): ours ${ours}s, jq ${jq_t}s, ratio $(ratio "$jq_t" "$ours")x (target >= 50)"
echo "logq -d stats peak RSS: ours $(rss "$BIN/logq -d '$idx' '* | stats by (severity) count()'") KiB"
# 1% of the time range vs all of it: time should scale with the slice
tmin=$("$BIN/logindex" -d "$idx" --stats | jq -r .time_min)
tmax=$("$BIN/logindex" -d "$idx" --stats | jq -r .time_max)
a=$(date -u -d "$tmin" +%s); b=$(date -u -d "$tmax" +%s)
lo=$(date -u -d "@$(( a + (b - a) / 2 ))" +%Y-%m-%dT%H:%M:%SZ)
hi=$(date -u -d "@$(( a + (b - a) / 2 + (b - a) / 100 + 1 ))" +%Y-%m-%dT%H:%M:%SZ)
part=$(best "$BIN/logq -d '$idx' '_time:[$lo,$hi) | stats count()'")
all=$(best "$BIN/logq -d '$idx' '* | stats count()'")
echo "logq -d 1% time range (${mb} MiB): ours ${part}s, whole ${all}s, ratio $(ratio "$all" "$part")x (target ~100: proportional to the slice)"
