#!/bin/bash
# logalert.sh: 10 alert rules (filters, groups by node, windows, cooldowns)
# over the generated events, against jq selecting the records the same
# filters match (jq does no windows: the floor of what an alert job costs
# with it).  Target >= 150 MiB/s on the 1 GiB input; peak RSS reported
# (windows, not input, bound it).  Env (from scripts/bench): BIN, DATA, BENCH_MB.
set -eu
. "$(dirname "$0")/lib.bash"
ev=$DATA/events-${BENCH_MB}m.jsonl
gen events "$ev"
rules=$DATA/logalert-rules10.conf
cat > "$rules" <<'RULES'
[db-errors-per-node]
query = severity:ERROR base:DatabaseLogEvent | stats by (node) count()
threshold = 50
window = 1m
cooldown = 1m
[critical]
query = severity:CRITICAL
threshold = 10
window = 30s
[bad-alloc]
query = type:BAD_ALLOC | stats by (node) count()
threshold = 20
window = 1m
[corrupted-sstable]
query = type:CORRUPTED_SSTABLE
window = 1m
cooldown = 5m
[disk]
query = type:DISK_ERROR OR type:NO_SPACE_ERROR | stats by (node) count()
threshold = 30
window = 2m
[segfault]
query = type:SEGMENTATION | stats by (node) count()
threshold = 5
window = 1m
[power-off]
query = type:POWER_OFF
threshold = 3
window = 5m
cooldown = 5m
[stalls]
query = type:REACTOR_STALLED line:stalled | stats by (node) count()
threshold = 100
window = 1m
[nodetool-runtime]
query = base:NodetoolEvent type:RUNTIME_ERROR
threshold = 25
window = 1m
[integrity]
query = type:INTEGRITY_CHECK severity:ERROR
threshold = 5
window = 1m
RULES
jqf='select((.severity == "ERROR" and .base == "DatabaseLogEvent") or .severity == "CRITICAL"
	or .type == "BAD_ALLOC" or .type == "CORRUPTED_SSTABLE" or .type == "DISK_ERROR"
	or .type == "NO_SPACE_ERROR" or .type == "SEGMENTATION" or .type == "POWER_OFF"
	or (.type == "REACTOR_STALLED" and (.line | test("\\bstalled\\b")))
	or (.base == "NodetoolEvent" and .type == "RUNTIME_ERROR")
	or (.type == "INTEGRITY_CHECK" and .severity == "ERROR"))'


mb=$(( $(stat -c %s "$ev") / 1048576 ))
cmd="$BIN/logalert -r $rules --time-field event_timestamp"
"$BIN/logalert" -r "$rules" --check
sum=$($cmd -q --summary < "$ev" || true)
fired=$(echo "$sum" | jq .summary.fired)
matched=$(echo "$sum" | jq '[.summary.rules[].matched] | add')
jqn=$(jq -c "$jqf" < "$ev" | wc -l)
ours=$(best "$cmd" "$ev")
jq_t=$(best "jq -c '$jqf'" "$ev")
echo "logalert 10 rules (${mb} MiB events, $fired alerts, $matched rule matches, jq selects $jqn records): ours ${ours}s ($(mbs "$mb" "$ours") MiB/s, target >= 150), jq ${jq_t}s ($(mbs "$mb" "$jq_t") MiB/s), ratio $(ratio "$jq_t" "$ours")x"
echo "logalert peak RSS: $(rss "$cmd" "$ev") KiB (windows, not input: flat as the input grows)"
