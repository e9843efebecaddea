#!/usr/bin/env bats
# logcat-follow.bats: logcat -f (tail -F) and --state (cron runs that print only what is new).
# Followers run in the background with a 20 ms poll; tests wait for the
# expected output with a 15 s limit instead of sleeping a fixed time.
bats_require_minimum_version 1.5.0
load helper

local_teardown() {
	if [ -n "${PID:-}" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
	return 0
}

# until FILE has at least N lines (15 s at most)
wait_lines() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	echo "timed out waiting for $2 lines in $1:" >&2
	cat "$1" >&2
	return 1
}

# until FILE holds the fixed string S (15 s at most)
wait_for() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timed out waiting for '$2' in $1:" >&2
	cat "$1" >&2
	return 1
}

# follow ARGS...: logcat -f in the background, records to out, messages to err
follow() {
	rm -f out err	# a wait must not be met by the last follower's output
	logcat -f --sleep-interval 0.02 --format text "$@" > out 2> err &
	PID=$!
}

# stop: SIGTERM, and the status must be 0 (a clean end)
stop() {
	local rc=0
	kill -TERM "$PID"
	wait "$PID" || rc=$?
	PID=
	[ "$rc" -eq 0 ] || { echo "logcat exited $rc" >&2; cat err >&2; return 1; }
}

msgs() { sed -e 's/^{"_msg":"//' -e 's/"}$//' out; }

@test "-f: appended lines come out (flushed) as soon as they are complete" {
	printf 'one\ntwo\n' > app.log
	follow --from-start app.log
	wait_lines out 2
	printf 'three\n' >> app.log
	wait_lines out 3
	printf 'four\nfi' >> app.log
	wait_lines out 4
	printf 've\n' >> app.log
	wait_lines out 5
	stop
	printf '%s\n' one two three four five > expected
	msgs > actual
	expect_same expected actual
	[ ! -s err ]
}

@test "-f starts at the end (after the last complete line); --from-start at the beginning" {
	printf 'old 1\nold 2\nunfini' > app.log
	follow app.log
	# "shed" lines until one shows: from then on the follower is reading
	for ((try = 0; try < 300; try++)); do
		[ -s out ] && break
		printf 'shed\n' >> app.log
		sleep 0.05
	done
	printf 'new\n' >> app.log
	wait_for out '"new"'
	stop
	run -0 msgs
	# the unfinished line comes out whole ("unfini" + "shed"), unless the
	# follower started after the first shed
	[[ ${lines[0]} == unfinished || ${lines[0]} == shed ]]
	[[ $output != *"old "* ]]
	[ "${lines[${#lines[@]} - 1]}" = "new" ]

	follow --from-start app.log
	wait_for out '"new"'
	stop
	run -0 msgs
	[ "${lines[0]}" = "old 1" ]
	[ "${lines[1]}" = "old 2" ]
}

@test "-f: rename rotation: the old file is read to its end (last partial line too) before the new one" {
	printf 'a1\n' > app.log
	follow --from-start app.log
	wait_lines out 1
	mv app.log app.log.1
	printf 'a2\na3 no newline' >> app.log.1
	printf 'b1\n' > app.log
	wait_lines out 4
	printf 'b2\n' >> app.log
	wait_lines out 5
	stop
	printf '%s\n' a1 a2 'a3 no newline' b1 b2 > expected
	msgs > actual
	expect_same expected actual
	grep -qF 'logcat: app.log: replaced; following the new file' err
}

@test "-f: copytruncate: reading starts again at 0" {
	printf 'x1 long line\nx2 long line\n' > app.log
	follow --from-start app.log
	wait_lines out 2
	cp app.log app.log.1
	: > app.log
	printf 'y1\n' >> app.log
	wait_lines out 3
	printf 'y2\n' >> app.log
	wait_lines out 4
	stop
	printf '%s\n' 'x1 long line' 'x2 long line' y1 y2 > expected
	msgs > actual
	expect_same expected actual
	grep -qF 'logcat: app.log: truncated; reading from the start' err
}

@test "-f: a file created later is followed from its start; one that vanishes is waited for" {
	printf 'here\n' > a.log
	follow --from-start a.log later.log
	wait_for err 'logcat: later.log: No such file or directory; waiting for it'
	printf 'l1\nl2\n' > later.log
	wait_lines out 3
	grep -qF 'logcat: later.log: appeared; following it' err
	rm later.log
	wait_for err 'logcat: later.log: No such file or directory; waiting for it to come back'
	printf 'l3\n' > later.log
	wait_lines out 4
	stop
	# text records wait for the next line or a quiet moment: files interleave
	printf '%s\n' here l1 l2 l3 > expected
	msgs | sort > actual
	expect_same expected actual
}

@test "-f: a multiline event is written once the file goes quiet" {
	printf '2025-05-17 04:44:04,545 ERROR [main] a.B: boom\n' > app.log
	logcat -f --sleep-interval 0.02 --from-start --format app app.log > out 2> err &
	PID=$!
	printf '\tat a.B.run(B.java:1)\n' >> app.log
	wait_lines out 1
	printf '2025-05-17 04:44:05,000 INFO [main] a.B: next\n' >> app.log
	wait_lines out 2
	stop
	run -0 jq -r ._msg out
	[ "${lines[0]}" = "boom" ] || [ "${lines[1]}" = $'\tat a.B.run(B.java:1)' ]
	[ "$(jq -s length out)" -eq 2 ]
	[ "$(jq -r 'select(.level == "info") | ._msg' out)" = next ]
}

@test "-f: standard input is read to its end, the last line without newline too" {
	run -0 --separate-stderr bash -c 'printf "p1\np2" | logcat -f --format text'
	[ "$output" = $'{"_msg":"p1"}\n{"_msg":"p2"}' ]
}

@test "-f: a quiet pipe does not hold up the files followed beside it" {
	printf 'f1\n' > f.log
	mkfifo pipe
	exec 7<> pipe	# a writer that stays, saying nothing for now
	logcat -f --sleep-interval 0.02 --from-start --format text - f.log < pipe > out 2> err &
	PID=$!
	echo p1 >&7
	wait_for out '"p1"'
	# the pipe said one line and nothing since: the file goes on
	printf 'f2\n' >> f.log
	wait_for out '"f2"'
	exec 7>&-
	stop
	printf '%s\n' f1 f2 p1 > expected
	msgs | sort > actual
	expect_same expected actual
}

@test "-f --state: SIGTERM saves the state; the next run goes on from there" {
	printf 'one\n' > app.log
	follow --from-start --state st app.log
	wait_lines out 1
	printf 'two\n' >> app.log
	wait_lines out 2
	stop
	[ -f st ]
	printf 'three\n' >> app.log
	run -0 --separate-stderr logcat --state st --format text app.log
	[ "$output" = '{"_msg":"three"}' ]
	# a follower with a state goes on from its offset, not from the end
	printf 'four\n' >> app.log
	follow --state st app.log
	wait_lines out 1
	stop
	[ "$(cat out)" = '{"_msg":"four"}' ]
}

@test "--state: repeated runs print each line once, none skipped, a partial line once complete" {
	printf 'l1\nl2\nl3 par' > app.log
	run -0 --separate-stderr logcat --state st --format text app.log
	[ "$output" = $'{"_msg":"l1"}\n{"_msg":"l2"}' ]
	[ -z "$stderr" ]
	run -0 --separate-stderr logcat --state st --format text app.log
	[ "$output" = "" ]
	printf 'tial\nl4\n' >> app.log
	run -0 --separate-stderr logcat --state st --format text app.log
	[ "$output" = $'{"_msg":"l3 partial"}\n{"_msg":"l4"}' ]
	# (not $i: bats' run uses it)
	for num in 5 6 7; do
		printf 'l%s\n' "$num" >> app.log
		run -0 logcat --state st --format text app.log
		[ "$output" = "{\"_msg\":\"l$num\"}" ]
	done
	# the state names the file by absolute path, with device, inode, offset
	[ "$(head -n 1 st)" = "logkit-follow 1" ]
	read -r dev ino off line hl hash cut path < <(tail -n 1 st)
	[ "$path" = "$PWD/app.log" ]
	[ "$off" -eq "$(stat -c %s app.log)" ]
	[ "$ino" -eq "$(stat -c %i app.log)" ]
	[ "$line" -eq 7 ]
}

@test "--state: line numbers in messages go on across runs" {
	printf '{"a":1}\n{"a":2}\n' > app.jsonl
	run -0 logcat --state st app.jsonl
	printf '{"a":3}\n{"a":\n' >> app.jsonl
	run -0 --separate-stderr logcat --state st app.jsonl
	[[ ${lines[1]} == *'"_parse_error"'* ]]
	[[ $stderr == *"app.jsonl:4:"* ]]
}

@test "--state: after a rename rotation the rest of the old file comes first" {
	printf 'a1\n' > app.log
	run -0 logcat --state st --format text app.log
	printf 'a2\n' >> app.log
	mv app.log app.log.1
	printf 'a3\n' >> app.log.1
	printf 'b1\n' > app.log
	run -0 --separate-stderr logcat --state st --format text app.log
	[ "$output" = $'{"_msg":"a2"}\n{"_msg":"a3"}\n{"_msg":"b1"}' ]
	[ -z "$stderr" ]
	# the old file compressed away: the new one from 0, and a warning
	printf 'b2\n' >> app.log
	mv app.log app.log.1
	printf 'c1\n' > app.log
	gzip -f app.log.1
	run -0 --separate-stderr logcat --state st --format text app.log
	[ "$output" = '{"_msg":"c1"}' ]
	[[ $stderr == *"logcat: app.log: replaced since the last run and the old file is not in its directory any more"* ]]
}

@test "--state: a file truncated or rewritten between runs is read from 0" {
	printf 'x1 long\nx2 long\n' > app.log
	run -0 logcat --state st --format text app.log
	printf 'y1\n' > app.log
	run -0 --separate-stderr logcat --state st --format text app.log
	[ "$output" = '{"_msg":"y1"}' ]
	[ "$stderr" = "logcat: app.log: truncated since the last run; reading from the start" ]
	printf 'z1 longer than before\nz2\n' > app.log
	run -0 --separate-stderr logcat --state st --format text app.log
	[ "$output" = $'{"_msg":"z1 longer than before"}\n{"_msg":"z2"}' ]
	[[ $stderr == *"changed since the last run (first bytes differ); reading from the start" ]]
}

@test "--state: a missing file is status 1, the others are read, its entry kept" {
	printf 'a\n' > a.log
	run -1 --separate-stderr logcat --state st --format text a.log nosuch.log
	[ "$output" = '{"_msg":"a"}' ]
	[ "$stderr" = "logcat: nosuch.log: No such file or directory" ]
	printf 'n\n' > nosuch.log
	run -0 logcat --state st --format text a.log nosuch.log
	[ "$output" = '{"_msg":"n"}' ]
}

@test "--state: a corrupt state file is refused naming file:line, status 2, nothing printed" {
	printf 'a\n' > app.log
	printf 'logkit-follow 1\n1 2 x 0 0 0000000000000000 0 /a\n' > st
	run -2 --separate-stderr logcat --state st app.log
	[ "$output" = "" ]
	[ "$stderr" = "logcat: st:2: bad offset" ]
	printf 'logkit-follow 9\n' > st
	run -2 --separate-stderr logcat --state st app.log
	[ "$stderr" = "logcat: st:1: unsupported version '9'" ]
	head -c 300 /bin/sh > st
	run -2 --separate-stderr logcat --state st app.log
	[ "$stderr" = "logcat: st:1: not a follow state file (no 'logkit-follow 1' line)" ]
	[ "$(head -c 300 /bin/sh | cmp - st && echo same)" = same ]
}

@test "--state: /dev/full, a directory, a missing directory are refused before reading" {
	printf 'a\n' > app.log
	run -2 --separate-stderr logcat --state /dev/full app.log
	[ "$output" = "" ]
	[ "$stderr" = "logcat: /dev/full: not a regular file" ]
	mkdir d
	run -2 --separate-stderr logcat --state d app.log
	[ "$stderr" = "logcat: d: not a regular file" ]
	run -2 --separate-stderr logcat --state nodir/st app.log
	[ "$stderr" = "logcat: nodir/st.lock: No such file or directory" ]
	[ -c /dev/full ]
}

@test "--state: a state that cannot be written is status 2, the old one stays, nothing is skipped" {
	printf 'a\n' > app.log
	run -0 logcat --state st --format text app.log
	cp st st.orig
	printf 'b\n' >> app.log
	# no room for the new state (RLIMIT_FSIZE: works for root too; stdout
	# and stderr go to pipes, which it does not limit)
	run -2 bash -c 'set -o pipefail; trap "" XFSZ; ulimit -f 0; logcat --state st --format text app.log 2>&1 | cat'
	[ "$output" = $'{"_msg":"b"}\nlogcat: st: File too large' ]
	cmp st st.orig
	[ -z "$(ls st.?????? 2>/dev/null)" ]
	# the next run prints b again rather than losing it
	run -0 logcat --state st --format text app.log
	[ "$output" = '{"_msg":"b"}' ]
}

@test "--state: a full disk or a closed stdout is status 2 and the state does not move on" {
	printf 'a\n' > app.log
	run -0 logcat --state st --format text app.log
	cp st st.orig
	printf 'b\n' >> app.log
	has_dev_full || skip "no /dev/full"
	run -2 --separate-stderr bash -c 'logcat --state st --format text app.log > /dev/full'
	[[ $stderr == *"write error: No space left on device"* ]]
	cmp st st.orig
	run -2 --separate-stderr bash -c 'logcat --state st --format text app.log >&-'
	[ "$stderr" = "logcat: write error: Bad file descriptor" ]
	cmp st st.orig
	run -2 --separate-stderr bash -c 'logcat -f app.log >&-'
	[ "$stderr" = "logcat: write error: Bad file descriptor" ]
	run -0 logcat --state st --format text app.log
	[ "$output" = '{"_msg":"b"}' ]
}

@test "--state in a directory that cannot be written is refused before reading" {
	[ "$(id -u)" -ne 0 ] || skip "root writes anywhere"
	printf 'a\n' > app.log
	mkdir ro
	chmod 555 ro
	run -2 --separate-stderr logcat --state ro/st app.log
	[ "$output" = "" ]
	[ "$stderr" = "logcat: ro/st.lock: Permission denied" ]
}

@test "--state: a second run while one is going is refused" {
	printf 'a\n' > app.log
	follow --state st app.log
	for ((try = 0; try < 300; try++)); do
		run logcat --state st app.log
		[ "$status" -eq 2 ] && break
		sleep 0.05
	done
	[ "$status" -eq 2 ]
	[[ $output == "logcat: st.lock: locked by another process using st" ]]
	stop
}

@test "-f: memory stays flat while following" {
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
	seq -f 'line %g of a log that keeps growing' 1 50000 > chunk
	: > app.log
	follow --from-start app.log
	cat chunk >> app.log
	wait_lines out 50000
	rss1=$(awk '/^VmRSS/ { print $2 }' /proc/$PID/status)
	for i in $(seq 2 20); do
		cat chunk >> app.log
		wait_lines out $((i * 50000))
	done
	rss2=$(awk '/^VmRSS/ { print $2 }' /proc/$PID/status)
	stop
	echo "rss after 1 chunk: $rss1 kB, after 20: $rss2 kB"
	[ "$rss2" -lt $((rss1 + 1024)) ]
}

@test "--sleep-interval and --from-start need -f; bad intervals are usage errors" {
	run -2 --separate-stderr logcat --from-start x
	[[ $stderr == *"--from-start needs -f"* ]]
	run -2 --separate-stderr logcat --sleep-interval 1 x
	[[ $stderr == *"--sleep-interval needs -f"* ]]
	run -2 --separate-stderr logcat -f --sleep-interval 0 x
	[[ $stderr == *"bad interval '0'"* ]]
	run -2 --separate-stderr logcat -f --sleep-interval 1x x
	[[ $stderr == *"bad interval '1x'"* ]]
}
