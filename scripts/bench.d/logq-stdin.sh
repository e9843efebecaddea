#!/bin/bash
# logq-stdin.sh: logq as a filter over JSON lines on stdin (no index), against
# jq -c 'select(...)' (same answer) and grep -F (text only, a speed bound).
# Env (from scripts/bench): BIN, DATA, BENCH_MB.
set -eu
. "$(dirname "$0")/lib.bash"
in=$DATA/events-${BENCH_MB}m.jsonl
gen events "$in"

mb=$(( $(stat -c %s "$in") / 1048576 ))
# a rare value: the event_id of the middle line
uuid=$(sed -n "$(( $(wc -l < "$in") / 2 ))p" "$in" | jq -r .event_id)

q="$BIN/logq 'event_id:=\"$uuid\"'"
ours=$(best "$q" "$in")
jq_t=$(best "jq -c 'select(.event_id == \"$uuid\")'" "$in")
grep_t=$(best "grep -F -c '$uuid'" "$in")	# -c: GNU grep stops at the first match when writing to /dev/null
echo "logq-stdin rare uuid (${mb} MiB): ours ${ours}s, jq ${jq_t}s, ratio $(ratio "$jq_t" "$ours")x (target >= 5)"
echo "logq-stdin rare uuid (${mb} MiB): ours ${ours}s, grep -F -c ${grep_t}s, ratio $(ratio "$grep_t" "$ours")x (target none: grep reads text only)"

q="$BIN/logq 'severity:ERROR type:DATABASE_ERROR'"
ours=$(best "$q" "$in")
jq_t=$(best "jq -c 'select(.severity == \"ERROR\" and .type == \"DATABASE_ERROR\")'" "$in")
echo "logq-stdin two-field filter (${mb} MiB): ours ${ours}s, jq ${jq_t}s, ratio $(ratio "$jq_t" "$ours")x (target >= 2)"

q="$BIN/logq '* | stats by (severity) count()'"
ours=$(best "$q" "$in")
jq_t=$(best "jq -n 'reduce inputs as \$r ({}; .[\$r.severity] += 1)'" "$in")
echo "logq-stdin stats by severity (${mb} MiB): ours ${ours}s, jq ${jq_t}s, ratio $(ratio "$jq_t" "$ours")x (target >= 2)"
echo "logq-stdin peak RSS: rare uuid $(rss "$BIN/logq 'event_id:=\"$uuid\"'" "$in") KiB, stats $(rss "$BIN/logq '* | stats by (severity) count()'" "$in") KiB"
