#!/bin/bash
# logq-stdin.sh: logq as a filter over JSON lines on stdin (no index), against
# jq -c 'select(...)' (same answer) and grep -F (text only, a speed bound).
# Env (from scripts/bench): BIN, DATA, BENCH_MB.
set -eu
BIN=${BIN:?} DATA=${DATA:-/tmp/logkit-bench} BENCH_MB=${BENCH_MB:-1024}
B=${B:-build}
mkdir -p "$DATA"
LOGGEN=$BIN/../$B/loggen
[ -x "$LOGGEN" ] || LOGGEN=$(dirname "$BIN")/build/loggen
in=$DATA/events-${BENCH_MB}m.jsonl
[ -s "$in" ] || "$LOGGEN" events --seed 7 --size $((BENCH_MB * 1048576)) > "$in"

# best wall seconds of 3 runs of the shell command $1, stdin from $in
best() {
	local b=999 t0 t1 s
	for _ in 1 2 3; do
		t0=$(date +%s%N); bash -c "$1" < "$in" > /dev/null || true; t1=$(date +%s%N)
		s=$(echo "($t1 - $t0) / 1000000000" | bc -l)
		b=$(echo "if ($s < $b) $s else $b" | bc -l)
	done
	printf '%.3f' "$b"
}
rss() {	# peak RSS in KiB of the shell command $1
	/usr/bin/time -f %M bash -c "$1" < "$in" 2>&1 >/dev/null | tail -1
}
ratio() { echo "scale=1; $1 / $2" | bc -l; }

mb=$(( $(stat -c %s "$in") / 1048576 ))
# a rare value: the event_id of the middle line
uuid=$(sed -n "$(( $(wc -l < "$in") / 2 ))p" "$in" | jq -r .event_id)

q="$BIN/logq 'event_id:=\"$uuid\"'"
ours=$(best "$q")
jq_t=$(best "jq -c 'select(.event_id == \"$uuid\")'")
grep_t=$(best "grep -F -c '$uuid'")	# -c: GNU grep stops at the first match when writing to /dev/null
echo "logq-stdin rare uuid (${mb} MiB): ours ${ours}s, jq ${jq_t}s, ratio $(ratio "$jq_t" "$ours")x (target >= 5)"
echo "logq-stdin rare uuid (${mb} MiB): ours ${ours}s, grep -F -c ${grep_t}s, ratio $(ratio "$grep_t" "$ours")x (target none: grep reads text only)"

q="$BIN/logq 'severity:ERROR type:DATABASE_ERROR'"
ours=$(best "$q")
jq_t=$(best "jq -c 'select(.severity == \"ERROR\" and .type == \"DATABASE_ERROR\")'")
echo "logq-stdin two-field filter (${mb} MiB): ours ${ours}s, jq ${jq_t}s, ratio $(ratio "$jq_t" "$ours")x (target >= 2)"

q="$BIN/logq '* | stats by (severity) count()'"
ours=$(best "$q")
jq_t=$(best "jq -n 'reduce inputs as \$r ({}; .[\$r.severity] += 1)'")
echo "logq-stdin stats by severity (${mb} MiB): ours ${ours}s, jq ${jq_t}s, ratio $(ratio "$jq_t" "$ours")x (target >= 2)"
echo "logq-stdin peak RSS: rare uuid $(rss "$BIN/logq 'event_id:=\"$uuid\"'") KiB, stats $(rss "$BIN/logq '* | stats by (severity) count()'") KiB"
