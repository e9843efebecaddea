# lib.bash: what the bench.d pieces share (sourced; not a piece itself,
# scripts/bench runs only *.sh).  Env from scripts/bench: BIN, B, LOGGEN,
# DATA, BENCH_MB; a piece run alone finds loggen beside BIN.
BIN=${BIN:?} DATA=${DATA:-/tmp/logkit-bench} BENCH_MB=${BENCH_MB:-1024}
LOGGEN=${LOGGEN:-$(dirname "$BIN")/build/loggen}
mkdir -p "$DATA"

# gen KIND FILE: FILE holds BENCH_MB MiB of loggen KIND (seed 7), made once
gen() {
	[ -s "$2" ] || "$LOGGEN" "$1" --seed 7 --size $((BENCH_MB * 1048576)) > "$2"
}

# best CMD IN: best wall seconds of 3 runs of the shell command CMD with
# stdin from IN, stdout to /dev/null (a failing CMD is still timed)
best() {
	local b=999 t0 t1 s
	for _ in 1 2 3; do
		t0=$(date +%s%N); bash -c "$1" < "$2" > /dev/null || true; t1=$(date +%s%N)
		s=$(echo "($t1 - $t0) / 1000000000" | bc -l)
		b=$(echo "if ($s < $b) $s else $b" | bc -l)
	done
	printf '%.3f' "$b"
}

# rss CMD IN: peak RSS in KiB of the shell command CMD with stdin from IN
rss() {
	/usr/bin/time -f %M bash -c "$1" < "$2" 2>&1 >/dev/null | tail -1
}

ratio() { echo "scale=1; $1 / $2" | bc -l; }
mbs() { echo "scale=0; $1 / $2" | bc -l; }
