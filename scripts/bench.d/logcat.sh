#!/bin/bash
# logcat.sh: logcat on JSON lines (loggen events) against jq -c . (target
# >= 4x), on a text log (loggen service, log4j layout with stack traces)
# against grep -c . as the floor (target >= 300 MB/s), and peak RSS.
# Env (from scripts/bench): BIN, DATA, BENCH_MB.
set -eu
. "$(dirname "$0")/lib.bash"
ev=$DATA/events-${BENCH_MB}m.jsonl
svc=$DATA/service-${BENCH_MB}m.log
gen events "$ev"
gen service "$svc"

mb=$(( $(stat -c %s "$ev") / 1048576 ))
ours=$(best "$BIN/logcat" "$ev")
jq_t=$(best "jq -c ." "$ev")
echo "logcat json (${mb} MiB events): ours ${ours}s ($(mbs "$mb" "$ours") MiB/s), jq -c . ${jq_t}s, ratio $(ratio "$jq_t" "$ours")x (target >= 4)"

mb=$(( $(stat -c %s "$svc") / 1048576 ))
ours=$(best "$BIN/logcat" "$svc")
grep_t=$(best "grep -c ." "$svc")
echo "logcat text (${mb} MiB service log): ours ${ours}s ($(mbs "$mb" "$ours") MiB/s, target >= 300), grep -c . ${grep_t}s (the floor: reading the text, no parsing)"
echo "logcat peak RSS: json $(rss "$BIN/logcat" "$ev") KiB, text $(rss "$BIN/logcat" "$svc") KiB (target <= 20480)"
