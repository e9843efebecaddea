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
	# mtime: the remote file's, to the nanosecond (rsync -t keeps it)
	m=$(stat -c %.9Y "$R/server-1.log")
	[ "$(jq -r 'select(.path | endswith("/server-1.log")) | .mtime' actual)" = \
		"$(date -u -d "@${m%.*}" +%Y-%m-%dT%H:%M:%S).${m#*.}Z" ]
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
	echo "$output" | jq -e '(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z$")) and (.duration | type == "number" and . > 0 and . < 60) and .bytes > 0 and .sources[0].source == "127.0.0.1:'"$R"'/"'
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

@test "logsync: an rsync that is missing or cannot be run: status 2, said so, nothing written" {
	mkdir src && echo x > src/a.log
	LOGSYNC_RSYNC=$T/nonexistent/rsync run -2 --separate-stderr logsync --dest D src/
	[ "$stderr" = "logsync: $T/nonexistent/rsync --version failed (not found)" ]
	printf '#!/bin/sh\nexit 0\n' > noexec-rsync
	LOGSYNC_RSYNC=$T/noexec-rsync run -2 --separate-stderr logsync --dest D src/
	[ "$stderr" = "logsync: $T/noexec-rsync --version failed (cannot run it)" ]
	[ ! -e D/localhost ]
}

@test "logsync: two runs on one DEST over ssh: the second names the holder; SIGUSR1 syncs now, SIGTERM stops" {
	logsync --dest D "${SSHO[@]}" --interval 1h "127.0.0.1:$R/" > out 2> err & BG=$!
	for _ in $(seq 100); do [ -s D/.logsync/status.json ] && break; sleep 0.1; done
	run -2 --separate-stderr logsync --dest D "${SSHO[@]}" "127.0.0.1:$R/"
	[ "$stderr" = "logsync: D: locked by another logsync (pid $BG)" ]
	run -0 logsync --dest D --status
	echo "$output" | jq -e '.next_run != null and .pid == '"$BG"
	echo two > "$R/b.log"
	kill -USR1 "$BG"
	for _ in $(seq 100); do grep -q b.log out && break; sleep 0.1; done
	kill -TERM "$BG"
	rc=0; wait "$BG" || rc=$?
	BG=
	[ "$rc" -eq 0 ]
	jq -r .path out > got
	printf 'D/127.0.0.1/server-1.log\nD/127.0.0.1/sub/slurm-7.out\nD/127.0.0.1/b.log\n' > expected
	expect_same expected got
	[ ! -s err ]
	# the lock went with it
	run -0 logsync --dest D "${SSHO[@]}" "127.0.0.1:$R/"
	[ -z "$output" ]
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

@test "logsync: odd file names (newline, backslash, quotes, spaces) round-trip through the state" {
	mkdir -p "$R/odd"
	printf 1 > "$R/odd/nl
name.log"
	printf 2 > "$R/odd/bs\\#101.log"
	printf 3 > "$R/odd/sp ace 'q\".log"
	run -0 --separate-stderr logsync --dest D "${SSHO[@]}" "127.0.0.1:$R/odd/"
	echo "$output" | jq -r '.path' | sort > got
	printf '%s\n' 'D/127.0.0.1/bs\#101.log' 'D/127.0.0.1/nl' 'name.log' "D/127.0.0.1/sp ace 'q\".log" | sort > expected
	expect_same expected got
	[ "$(cat "D/127.0.0.1/bs\\#101.log")" = 2 ]
	run -0 --separate-stderr logsync --dest D "${SSHO[@]}" "127.0.0.1:$R/odd/"
	[ -z "$output" ]
}

@test "logsync: --ssh-config hosts and options, but host key checking stays on" {
	: > kh
	cat > cfg <<-CFG
	Host cluster
	  HostName 127.0.0.1
	  Port $PORT
	  IdentityFile $S/userkey
	  UserKnownHostsFile $T/kh
	  StrictHostKeyChecking no
	  BatchMode no
	CFG
	run -1 --separate-stderr logsync --dest D --ssh-config cfg "cluster:$R/"
	[[ $stderr == "logsync: cluster: host key unknown or not verified, refused"* ]]
	[ ! -s kh ] && [ -z "$output" ]
	cp "$S/known_hosts" kh
	run -0 --separate-stderr logsync --dest D -F cfg "cluster:$R/"
	[ "$(echo "$output" | jq -r .host | sort -u)" = cluster ]
	cmp "$R/server-1.log" D/cluster/server-1.log
}

@test "logsync: rsync and ssh get no option that follows links or trusts a host" {
	cat > argv-rsync <<-EOF
	#!/bin/sh
	[ "\$1" = --version ] && exec rsync --version
	printf '%s\n' "\$@" > $T/argv
	EOF
	chmod +x argv-rsync
	LOGSYNC_RSYNC=$T/argv-rsync run -0 logsync --dest D --port 2222 --identity id \
		--known-hosts kh --ssh-config cfg "h:/logs/"
	grep -qx -- -rlt argv && grep -qx -- --safe-links argv
	! grep -E -- '^(-[a-zA-Z]*[RLkK][a-zA-Z]*|--relative|--copy-unsafe-links|--copy-links|--copy-dirlinks|--keep-dirlinks|--munge-links)$' argv
	rsh=$(grep -- '^--rsh=' argv)
	[[ $rsh == *"'BatchMode=yes'"* && $rsh == *"'StrictHostKeyChecking=yes'"* ]]
	[[ $rsh == *"'UserKnownHostsFile=kh'"* && $rsh == *"'-p' '2222'"* && $rsh == *"'-i' 'id'"* ]]
	[[ $rsh != *"=no'"* ]]
	[ "$(tail -3 argv | head -1)" = -- ] && [ "$(tail -2 argv | head -1)" = h:/logs/ ]
	LOGSYNC_RSYNC=$T/argv-rsync run -0 logsync --dest D --accept-new-host-keys "h:/logs/"
	rsh=$(grep -- '^--rsh=' argv)
	[[ $rsh == *"'StrictHostKeyChecking=accept-new'"* && $rsh != *"=no'"* ]]
	! grep -q -- --delete argv
}

@test "logsync: --max-size, --bwlimit or a filter rsync refuses is fatal before any run" {
	mkdir src && echo x > src/a.log
	run -2 --separate-stderr logsync --dest D --bwlimit abc src/
	[ "$stderr" = "logsync: rsync refuses the options: --bwlimit=abc is invalid" ]
	run -2 --separate-stderr logsync --dest D --max-size 1q src/
	[ "$stderr" = "logsync: rsync refuses the options: --max-size=1q is invalid" ]
	[ ! -e D ]
	run -2 --separate-stderr logsync --dest D --delete-missing src/ ./src/
	[ "$stderr" = "logsync: --delete-missing: src/ and ./src/ both sync into D/localhost" ]
}

@test "logsync: --bwlimit slows the copy down" {
	mkdir src && head -c 2500000 /dev/urandom > src/big.log
	t0=$(date +%s%N)
	run -0 logsync --dest D --bwlimit 1m src/
	t1=$(date +%s%N)
	# 2.4 MiB at 1 MiB/s: at least ~2 s (unlimited it takes milliseconds)
	[ $(( (t1 - t0) / 1000000 )) -ge 1500 ]
	cmp src/big.log D/localhost/big.log
}

@test "logsync: --state FILE keeps the state outside DEST" {
	mkdir src && echo x > src/a.log
	run -0 logsync --dest D --state st src/
	[ -s st ] && [ ! -e D/.logsync/state ]
	[ "$(head -1 st)" = "logsync-state 1" ]
	run -0 logsync --dest D --state st src/
	[ -z "$output" ]
	run -0 logsync --dest D --state st2 src/
	[ "$(echo "$output" | jq -r .event)" = new ]
}

@test "logsync: a truncated, binary or huge state file" {
	mkdir -p src D/.logsync && echo x > src/a.log
	printf 'logsync-state 1\n12 34' > D/.logsync/state
	run -2 --separate-stderr logsync --dest D src/
	[ "$stderr" = "logsync: D/.logsync/state:2: malformed line" ]
	head -c 4096 /dev/urandom > D/.logsync/state
	run -2 --separate-stderr logsync --dest D src/
	[ "$stderr" = "logsync: D/.logsync/state:1: not a logsync state file" ]
	printf 'logsync-state 1\n1 2 localhost/a\0b.log\n' > D/.logsync/state
	run -2 --separate-stderr logsync --dest D src/
	[ "$stderr" = "logsync: D/.logsync/state:2: malformed line" ]
	# an empty file is an empty state: everything is new
	: > D/.logsync/state
	run -0 --separate-stderr logsync --dest D src/
	[ "$(echo "$output" | jq -r .event)" = new ]
	# 200k entries (a big tree's state) load, and the one that matches counts
	{ echo "logsync-state 1"; seq 200000 | sed 's,.*,1 1 localhost/f&.log,'
	  m=$(stat -c %.9Y src/a.log); echo "2 ${m%.*}${m#*.} localhost/a.log"; } > D/.logsync/state
	run -0 --separate-stderr logsync --dest D src/
	[ -z "$output" ]
	[ "$(wc -l < D/.logsync/state)" -eq 200002 ]
}

@test "logsync: a version string from a git build (v3.4.1) is understood" {
	cat > git-rsync <<-'EOF'
	#!/bin/sh
	[ "$1" = --version ] && { echo "rsync  version v3.4.1-12-gabcdef  protocol version 32"; exit 0; }
	exec rsync "$@"
	EOF
	chmod +x git-rsync
	mkdir src && echo x > src/a.log
	LOGSYNC_RSYNC=$T/git-rsync run -0 --separate-stderr logsync --dest D src/
	[ -z "$stderr" ]
	sed -i 's/v3.4.1/v3.2.7/' git-rsync
	LOGSYNC_RSYNC=$T/git-rsync run -2 --separate-stderr logsync --dest D2 src/
	[[ $stderr == "logsync: rsync v3.2.7-12-gabcdef ($T/git-rsync) lacks the fixes"* ]]
}

@test "logsync: Debian's patched 3.2.7 (/usr/bin/rsync, 3.2.7-1+deb12u1 or later) is accepted" {
	unshare -m true 2>/dev/null || skip "no mount namespaces"
	cp "$(command -v rsync)" real-rsync
	cat > deb-rsync <<-EOF
	#!/bin/sh
	[ "\$1" = --version ] && { echo "rsync  version 3.2.7  protocol version 32"; exit 0; }
	exec $T/real-rsync "\$@"
	EOF
	mkdir fakebin
	printf '#!/bin/sh\nprintf %%s "$FAKE_DEB"\n' > fakebin/dpkg-query
	chmod +x deb-rsync fakebin/dpkg-query
	mkdir src && echo x > src/a.log
	# deb-rsync stands in for /usr/bin/rsync (a bind mount in a private namespace)
	as_usr_bin() {
		unshare -m sh -c 'mount --bind "$1" /usr/bin/rsync && PATH=$2:$PATH && shift 2 && exec "$@"' \
			sh "$T/deb-rsync" "$T/fakebin" "$@"
	}
	for v in 3.2.7-1+deb12u1 3.2.7-1+deb12u2 3.2.7-1+deb12u6; do
		rm -rf D
		FAKE_DEB=$v run -0 --separate-stderr as_usr_bin logsync --dest D src/
		[ -z "$stderr" ] && [ "$(echo "$output" | jq -r .path)" = D/localhost/a.log ]
	done
	for v in 3.2.7-1 3.2.7-1~bpo11+1 3.2.6-1+deb12u9; do
		rm -rf D
		FAKE_DEB=$v run -2 --separate-stderr as_usr_bin logsync --dest D src/
		[[ $stderr == "logsync: rsync 3.2.7, package $v (/usr/bin/rsync) lacks the fixes"* ]]
	done
	# the same program elsewhere is not the package dpkg speaks for
	rm -rf D
	FAKE_DEB=3.2.7-1+deb12u6 PATH=$T/fakebin:$PATH LOGSYNC_RSYNC=$T/deb-rsync \
		run -2 --separate-stderr logsync --dest D src/
	[[ $stderr == "logsync: rsync 3.2.7 ($T/deb-rsync) lacks the fixes"* ]]
}

@test "logsync: SIGTERM in the middle of a run over ssh lets it finish, then exits 0" {
	head -c 3000000 /dev/urandom > "$R/big.bin"
	logsync --dest D "${SSHO[@]}" --bwlimit 1m --interval 1h "127.0.0.1:$R/" > out 2> err & BG=$!
	for _ in $(seq 100); do pgrep -P "$BG" > /dev/null && break; sleep 0.05; done
	sleep 0.5
	pgrep -P "$BG" > /dev/null	# rsync still running
	kill -TERM "$BG"
	rc=0; wait "$BG" || rc=$?
	BG=
	[ "$rc" -eq 0 ]
	cmp "$R/big.bin" D/127.0.0.1/big.bin
	[ "$(jq -r .path out | sort | tr '\n' ' ')" = "D/127.0.0.1/big.bin D/127.0.0.1/server-1.log D/127.0.0.1/sub/slurm-7.out " ]
	[ ! -s err ]
	run -0 logsync --dest D --status
	echo "$output" | jq -e '.files_new == 3 and .next_run == null'
}

@test "logsync: interval runs never overlap; SIGUSR1 during a run queues one more" {
	cat > slow-rsync <<-EOF
	#!/bin/sh
	case "\$1" in --version|--list-only) exec rsync "\$@" ;; esac
	echo start >> $T/runs
	rsync "\$@"; rc=\$?
	sleep 1
	echo end >> $T/runs
	exit \$rc
	EOF
	chmod +x slow-rsync
	mkdir src && echo x > src/a.log
	LOGSYNC_RSYNC=$T/slow-rsync logsync --dest D --interval 1h src/ > out 2> err & BG=$!
	for _ in $(seq 100); do [ -s runs ] && break; sleep 0.05; done
	kill -USR1 "$BG"; sleep 0.1; kill -USR1 "$BG"
	for _ in $(seq 100); do [ "$(grep -c end runs)" -ge 2 ] && break; sleep 0.05; done
	sleep 1.5
	kill -TERM "$BG"
	rc=0; wait "$BG" || rc=$?
	BG=
	[ "$rc" -eq 0 ]
	printf 'start\nend\nstart\nend\n' > expected
	expect_same expected runs
	[ "$(wc -l < out)" -eq 1 ] && [ ! -s err ]
}

@test "logsync: a SIGUSR1 that comes while rsync's version is checked does not kill it" {
	cat > slowver-rsync <<-'EOF2'
	#!/bin/sh
	[ "$1" = --version ] && sleep 1
	exec rsync "$@"
	EOF2
	chmod +x slowver-rsync
	mkdir src && echo x > src/a.log
	LOGSYNC_RSYNC=$T/slowver-rsync logsync --dest D src/ > out 2> err & BG=$!
	sleep 0.4
	kill -USR1 "$BG"
	rc=0; wait "$BG" || rc=$?
	BG=
	[ "$rc" -eq 0 ]
	[ "$(jq -r .path out)" = D/localhost/a.log ] && [ ! -s err ]
}

@test "logsync: an rsync that passed the version check is not asked again until it changes" {
	cat > count-rsync <<-EOF
	#!/bin/sh
	[ "\$1" = --version ] && echo v >> $T/asked
	exec rsync "\$@"
	EOF
	chmod +x count-rsync
	mkdir src && echo x > src/a.log
	for _ in 1 2 3; do LOGSYNC_RSYNC=$T/count-rsync run -0 logsync --dest D src/; done
	[ "$(wc -l < asked)" -eq 1 ]
	[ -s D/.logsync/rsync-ok ]
	touch count-rsync
	LOGSYNC_RSYNC=$T/count-rsync run -0 logsync --dest D src/
	[ "$(wc -l < asked)" -eq 2 ]
	# --allow-old-rsync lets an old one run but never records it as passed
	printf '#!/bin/sh\n[ "$1" = --version ] && { echo "rsync  version 3.1.3  protocol version 31"; exit 0; }\nexec rsync "$@"\n' > old-rsync
	chmod +x old-rsync
	LOGSYNC_RSYNC=$T/old-rsync run -0 --separate-stderr logsync --dest D --allow-old-rsync src/
	LOGSYNC_RSYNC=$T/old-rsync run -2 --separate-stderr logsync --dest D src/
	[[ $stderr == "logsync: rsync 3.1.3 ($T/old-rsync) lacks the fixes"* ]]
}

@test "logsync: a file copied by a run that died before reporting it is reported by the next" {
	mkdir src && echo one > src/a.log
	run -0 logsync --dest D src/
	[ ! -e D/.logsync/state.unclean ]
	echo two > src/b.log; echo more >> src/a.log
	# this rsync copies everything, then logsync is killed before it can report
	cat > kill-rsync <<-'EOF'
	#!/bin/sh
	case "$1" in --version|--list-only) exec rsync "$@" ;; esac
	rsync "$@" > /dev/null
	kill -KILL $PPID
	EOF
	chmod +x kill-rsync
	LOGSYNC_RSYNC=$T/kill-rsync run -137 logsync --dest D src/
	[ -z "$output" ] && [ -e D/.logsync/state.unclean ]
	cmp src/b.log D/localhost/b.log
	run -0 --separate-stderr logsync --dest D src/
	echo "$output" | jq -r '[.path, .event] | @tsv' | sort > got
	printf 'D/localhost/a.log\tchanged\nD/localhost/b.log\tnew\n' > expected
	expect_same expected got
	[ ! -e D/.logsync/state.unclean ]
	run -0 logsync --dest D src/
	[ -z "$output" ]
}

@test "logsync: files copied by an rsync that then failed are reported, now or next run" {
	mkdir src && echo one > src/a.log
	run -0 logsync --dest D src/
	echo two > src/b.log
	# copies, says nothing on stdout, exits 12 (connection lost)
	cat > fail-rsync <<-'EOF'
	#!/bin/sh
	case "$1" in --version|--list-only) exec rsync "$@" ;; esac
	rsync "$@" > /dev/null
	exit 12
	EOF
	chmod +x fail-rsync
	LOGSYNC_RSYNC=$T/fail-rsync run -1 --separate-stderr logsync --dest D src/
	[ "$stderr" = "logsync: localhost: connection closed (protocol data stream error) (rsync exit 12)" ]
	[ -z "$output" ]
	run -0 logsync --dest D src/
	[ "$(echo "$output" | jq -r '[.path, .event] | @tsv')" = "$(printf 'D/localhost/b.log\tnew')" ]
}
