#!/bin/bash
# logcat.sh: logcat on JSON lines (loggen events) against jq -c . (target
# >= 4x), on a text log (loggen service, log4j layout with stack traces)
# against grep -c . as the floor (target >= 300 MB/s), and peak RSS.
# Env (from scripts/bench): BIN, DATA, BENCH_MB.
set -eu
BIN=${BIN:?} DATA=${DATA:-/tmp/logkit-bench} BENCH_MB=${BENCH_MB:-1024}
B=${B:-build}
mkdir -p "$DATA"
LOGGEN=$BIN/../$B/loggen
[ -x "$LOGGEN" ] || LOGGEN=$(dirname "$BIN")/build/loggen
ev=$DATA/events-${BENCH_MB}m.jsonl
svc=$DATA/service-${BENCH_MB}m.log
[ -s "$ev" ] || "$LOGGEN" events --seed 7 --size $((BENCH_MB * 1048576)) > "$ev"
[ -s "$svc" ] || "$LOGGEN" service --seed 7 --size $((BENCH_MB * 1048576)) > "$svc"

# best wall seconds of 3 runs of the shell command $1, stdin from file $2
best() {
	local b=999 t0 t1 s
	for _ in 1 2 3; do
		t0=$(date +%s%N); bash -c "$1" < "$2" > /dev/null || true; t1=$(date +%s%N)
		s=$(echo "($t1 - $t0) / 1000000000" | bc -l)
		b=$(echo "if ($s < $b) $s else $b" | bc -l)
	done
	printf '%.3f' "$b"
}
rss() {	# peak RSS in KiB of the shell command $1 on file $2
	/usr/bin/time -f %M bash -c "$1" < "$2" 2>&1 >/dev/null | tail -1
}
ratio() { echo "scale=1; $1 / $2" | bc -l; }
mbs() { echo "scale=0; $1 / $2" | bc -l; }

mb=$(( $(stat -c %s "$ev") / 1048576 ))
ours=$(best "$BIN/logcat" "$ev")
jq_t=$(best "jq -c ." "$ev")
echo "logcat json (${mb} MiB events): ours ${ours}s ($(mbs "$mb" "$ours") MiB/s), jq -c . ${jq_t}s, ratio $(ratio "$jq_t" "$ours")x (target >= 4)"

mb=$(( $(stat -c %s "$svc") / 1048576 ))
ours=$(best "$BIN/logcat" "$svc")
grep_t=$(best "grep -c ." "$svc")
echo "logcat text (${mb} MiB service log): ours ${ours}s ($(mbs "$mb" "$ours") MiB/s, target >= 300), grep -c . ${grep_t}s (the floor: reading the text, no parsing)"
echo "logcat peak RSS: json $(rss "$BIN/logcat" "$ev") KiB, text $(rss "$BIN/logcat" "$svc") KiB (target <= 20480)"
