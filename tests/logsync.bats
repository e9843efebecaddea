#!/usr/bin/env bats
# logsync against the real sshd (openssh-server) on 127.0.0.1 and the real rsync.
bats_require_minimum_version 1.5.0
load helper

# One sshd for the whole file: throwaway host key, user key and
# authorized_keys in $S, on a free port, stopped by pid in teardown_file.
setup_file() {
	S=$BATS_FILE_TMPDIR/sshd
	mkdir -p "$S" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$S/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$S/otherhost"
	ssh-keygen -q -t ed25519 -N '' -f "$S/userkey"
	ssh-keygen -q -t ed25519 -N '' -f "$S/wrongkey"
	cp "$S/userkey.pub" "$S/authorized_keys"
	PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
	cat > "$S/sshd_config" <<-EOF
	ListenAddress 127.0.0.1
	HostKey $S/hostkey
	AuthorizedKeysFile $S/authorized_keys
	StrictModes no
	UsePAM no
	PidFile $S/sshd.pid
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	LogLevel ERROR
	EOF
	echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/hostkey.pub")" > "$S/known_hosts"
	echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/otherhost.pub")" > "$S/bad_known_hosts"
	/usr/sbin/sshd -f "$S/sshd_config" -p "$PORT" -E "$S/sshd.log"
	for _ in $(seq 50); do
		[ -s "$S/sshd.pid" ] && python3 -c "import socket;socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null && break
		sleep 0.1
	done
	export S PORT
}

teardown_file() {
	[ -s "$S/sshd.pid" ] && kill "$(cat "$S/sshd.pid")" || true
}

local_setup() {
	R=$T/remote/logs
	mkdir -p "$R/sub"
	echo "2025-05-17 04:44:04,545 INFO [main] s: up" > "$R/server-1.log"
	echo "job 7 done" > "$R/sub/slurm-7.out"
	ln -s /etc/passwd "$R/evil-abs"
	ln -s ../../../.. "$R/evil-up"
	ln -s server-1.log "$R/good-link"
	SSHO=(--port "$PORT" --identity "$S/userkey" --known-hosts "$S/known_hosts" --timeout 5)
}

local_teardown() {
	[ -n "${BG:-}" ] && kill "$BG" 2>/dev/null || true
}

@test "logsync: first sync prints every file, copies them, follows no symlink out of DEST" {
	run -0 --separate-stderr logsync --dest D "${SSHO[@]}" "127.0.0.1:$R/"
	echo "$output" > actual
	jq -r '[.path, .host, .remote_path, .size, .event] | @tsv' actual | sort > got
	printf 'D/127.0.0.1/server-1.log\t127.0.0.1\t%s/server-1.log\t42\tnew\nD/127.0.0.1/sub/slurm-7.out\t127.0.0.1\t%s/sub/slurm-7.out\t11\tnew\n' "$R" "$R" > expected
	expect_same expected got
	[ "$(jq -r .mtime actual | head -1 | cut -c20-)" != "" ]
	cmp "$R/server-1.log" D/127.0.0.1/server-1.log
	[ -L D/127.0.0.1/good-link ]
	[ ! -e D/127.0.0.1/evil-abs ] && [ ! -L D/127.0.0.1/evil-abs ]
	[ ! -e D/127.0.0.1/evil-up ] && [ ! -L D/127.0.0.1/evil-up ]
	[ -z "$stderr" ]
}

@test "logsync: incremental sync prints only new and changed files" {
	run -0 logsync --dest D "${SSHO[@]}" "127.0.0.1:$R/"
	run -0 --separate-stderr logsync --dest D "${SSHO[@]}" "127.0.0.1:$R/"
	[ -z "$output" ]
	echo "more" >> "$R/server-1.log"
	echo "new" > "$R/sub/slurm-8.out"
	run -0 --separate-stderr logsync --dest D "${SSHO[@]}" "127.0.0.1:$R/"
	echo "$output" | jq -r '[.path, .event] | @tsv' | sort > got
	printf 'D/127.0.0.1/server-1.log\tchanged\nD/127.0.0.1/sub/slurm-8.out\tnew\n' > expected
	expect_same expected got
	run -0 logsync --dest D --status
	echo "$output" | jq -e '.files_new == 1 and .files_changed == 1 and .errors == 0 and .next_run == null and .sources[0].ok'
}

@test "logsync: a changed host key is refused" {
	run -1 --separate-stderr logsync --dest D --port "$PORT" --identity "$S/userkey" \
		--known-hosts "$S/bad_known_hosts" "127.0.0.1:$R/"
	[ -z "$output" ]
	[ "$stderr" = "logsync: 127.0.0.1: host key mismatch (the host's key is not the one in known_hosts), refused" ]
	[ ! -e D/127.0.0.1/server-1.log ]
	# --accept-new-host-keys does not override a mismatch either
	run -1 --separate-stderr logsync --dest D --port "$PORT" --identity "$S/userkey" \
		--known-hosts "$S/bad_known_hosts" --accept-new-host-keys "127.0.0.1:$R/"
	[[ $stderr == *"host key mismatch"* ]]
}

@test "logsync: an unknown host key is refused unless --accept-new-host-keys" {
	: > kh
	run -1 --separate-stderr logsync --dest D --port "$PORT" --identity "$S/userkey" --known-hosts kh "127.0.0.1:$R/"
	[[ $stderr == "logsync: 127.0.0.1: host key unknown or not verified, refused"* ]]
	run -0 --separate-stderr logsync --dest D --port "$PORT" --identity "$S/userkey" --known-hosts kh \
		--accept-new-host-keys "127.0.0.1:$R/"
	[ -s kh ]
	[ -f D/127.0.0.1/server-1.log ]
}

@test "logsync: a wrong key says authentication failed" {
	run -1 --separate-stderr logsync --dest D --port "$PORT" --identity "$S/wrongkey" \
		--known-hosts "$S/known_hosts" "127.0.0.1:$R/"
	[ "$stderr" = "logsync: 127.0.0.1: authentication failed" ]
	run -0 logsync --dest D --status
	echo "$output" | jq -e '.errors == 1 and .sources[0].error == "authentication failed"'
}

@test "logsync: a missing remote path, and one good source among bad ones (exit 1)" {
	run -1 --separate-stderr logsync --dest D "${SSHO[@]}" "127.0.0.1:$T/nope/" "127.0.0.1:$R/"
	[ "$stderr" = "logsync: 127.0.0.1: remote path not found ($T/nope/)" ]
	[ "$(echo "$output" | wc -l)" -eq 2 ]
}

@test "logsync: a server that accepts and never speaks times out" {
	python3 -c '
import socket,time
s=socket.socket();s.bind(("127.0.0.1",0));s.listen(5)
open("hport","w").write(str(s.getsockname()[1]))
c=[];t=time.time()
s.settimeout(0.5)
while time.time()-t<30:
    try: c.append(s.accept())
    except OSError: pass
' & BG=$!
	for _ in $(seq 50); do [ -s hport ] && break; sleep 0.1; done
	SECONDS=0
	run -1 --separate-stderr logsync --dest D --port "$(cat hport)" --identity "$S/userkey" \
		--known-hosts "$S/known_hosts" --timeout 2 "127.0.0.1:$R/"
	[ "$SECONDS" -le 9 ]
	[[ $stderr == "logsync: 127.0.0.1: timed out"* ]]
}

@test "logsync: a stopped sshd session is timed out" {
	head -c 20000000 /dev/urandom > "$R/big.bin"
	logsync --dest D "${SSHO[@]}" --timeout 2 --bwlimit 1m "127.0.0.1:$R/" > out 2> err & BG=$!
	sshd=$(cat "$S/sshd.pid")
	for _ in $(seq 50); do kids=$(pgrep -P "$sshd") && break; sleep 0.1; done
	sleep 0.5
	kids=$(pgrep -P "$sshd"); all="$kids $(for k in $kids; do pgrep -P "$k"; done)"
	kill -STOP $all
	SECONDS=0
	rc=0; wait "$BG" || rc=$?
	BG=
	[ "$rc" -eq 1 ]
	kill -CONT $all; kill $all 2>/dev/null || true
	[ "$SECONDS" -le 12 ]
	grep -q "^logsync: 127.0.0.1: timed out" err
}

@test "logsync: the watchdog kills an rsync that ignores its own timeout" {
	cat > fake-rsync <<-'EOF'
	#!/bin/sh
	[ "$1" = --version ] && exec rsync --version
	exec sleep 60
	EOF
	chmod +x fake-rsync
	SECONDS=0
	LOGSYNC_RSYNC=$T/fake-rsync run -1 --separate-stderr logsync --dest D --timeout 1 src/
	[ "$SECONDS" -le 12 ]
	[ "$stderr" = "logsync: localhost: timed out (no response for 7 s), rsync and ssh killed" ]
}

@test "logsync: an rsync without the CVE-2024-12087/12088 fixes is refused" {
	cat > old-rsync <<-'EOF'
	#!/bin/sh
	[ "$1" = --version ] && { echo "rsync  version 3.2.7  protocol version 31"; exit 0; }
	exec rsync "$@"
	EOF
	chmod +x old-rsync
	mkdir src && echo x > src/a.log
	LOGSYNC_RSYNC=$T/old-rsync run -2 --separate-stderr logsync --dest D src/
	[[ $stderr == "logsync: rsync 3.2.7 ($T/old-rsync) lacks the fixes for CVE-2024-12087/12088"* ]]
	[ ! -e D ]
	LOGSYNC_RSYNC=$T/old-rsync run -0 --separate-stderr logsync --dest D --allow-old-rsync src/
	[ "$(echo "$output" | jq -r .path)" = D/localhost/a.log ]
}

@test "logsync: two runs on one DEST: the second names the holder; SIGUSR1 syncs now, SIGTERM stops" {
	mkdir src && echo one > src/a.log
	logsync --dest D --interval 1h src/ > out 2> err & BG=$!
	for _ in $(seq 50); do [ -s D/.logsync/status.json ] && break; sleep 0.1; done
	run -2 --separate-stderr logsync --dest D src/
	[ "$stderr" = "logsync: D: locked by another logsync (pid $BG)" ]
	run -0 logsync --dest D --status
	echo "$output" | jq -e '.next_run != null'
	echo two > src/b.log
	kill -USR1 "$BG"
	for _ in $(seq 50); do grep -q b.log out && break; sleep 0.1; done
	kill -TERM "$BG"
	rc=0; wait "$BG" || rc=$?
	BG=
	[ "$rc" -eq 0 ]
	jq -r .path out > got
	printf 'D/localhost/a.log\nD/localhost/b.log\n' > expected
	expect_same expected got
	[ ! -s err ]
}

@test "logsync: local source, include/exclude, max-size, delete-missing off by default" {
	mkdir -p src/d && echo a > src/a.log && echo b > src/b.txt && head -c 5000 /dev/zero > src/big.log
	echo c > src/d/c.log
	run -0 --separate-stderr logsync --dest D --include '*/' --include '*.log' --exclude '*' --max-size 1k src
	echo "$output" | jq -r .path | sort > got
	printf 'D/localhost/src/a.log\nD/localhost/src/d/c.log\n' > expected
	expect_same expected got
	echo "$output" | jq -s -e 'map(select(.path == "D/localhost/src/a.log"))[0].remote_path == "src/a.log"'
	rm src/a.log
	run -0 logsync --dest D src
	[ -f D/localhost/src/a.log ]
	run -0 logsync --dest D --delete-missing src
	[ ! -e D/localhost/src/a.log ]
}

@test "logsync: usage, bad options and bad sources exit 2" {
	run -2 --separate-stderr logsync src/
	[[ $stderr == "usage: logsync --dest DIR"* ]]
	run -0 logsync --help
	[[ $output == "usage: logsync"* ]]
	run -0 logsync --version
	[[ $output == "logsync "* ]]
	run -2 --separate-stderr logsync --dest D --port 99999 h:x
	[ "$stderr" = "logsync: --port: bad port '99999'" ]
	run -2 --separate-stderr logsync --dest D 'h::module'
	[[ $stderr == *"daemon sources"* ]]
	run -2 --separate-stderr logsync --dest D 'bad host:x'
	[ "$stderr" = "logsync: bad host:x: bad host name" ]
	run -2 --separate-stderr logsync --dest D --interval never src/
	run -1 --separate-stderr logsync --dest D --status
	[ "$stderr" = "logsync: D: no run recorded yet" ]
}

@test "logsync: a corrupt state file is fatal and named" {
	mkdir -p src D/.logsync && echo x > src/a.log
	printf 'garbage\n' > D/.logsync/state
	run -2 --separate-stderr logsync --dest D src/
	[ "$stderr" = "logsync: D/.logsync/state:1: not a logsync state file" ]
}

@test "logsync: closed stdout, full disk, and a reader that goes away" {
	mkdir src && for i in $(seq 200); do echo "$i" > "src/f$i.log"; done
	run -2 --separate-stderr bash -c 'logsync --dest D src/ >&-'
	[ "$stderr" = "logsync: stdout: Bad file descriptor" ]
	has_dev_full || skip "no /dev/full"
	run -2 --separate-stderr bash -c 'logsync --dest D3 src/ > /dev/full'
	[[ $stderr == "logsync: "*"No space left on device" ]]
	run -0 --separate-stderr bash -c 'logsync --dest D4 src/ | head -1'
	[ -z "$stderr" ]
}
