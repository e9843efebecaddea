#!/usr/bin/env bats
# loghub.bats: logcat on the Loghub corpus (8 systems, 2,000 lines each):
# _time and level (Linux: host) must agree with the structured CSV ground
# truth for at least 95% of the lines of each system.
bats_require_minimum_version 1.5.0
load helper

check() {
	local sys=$1 c
	need_corpus
	c=$CORPUS
	run -0 --separate-stderr logcat "$c/$sys/${sys}_2k.log"
	[ -z "$stderr" ]
	printf '%s\n' "$output" > out.jsonl
	run -0 python3 "$FIX/logcat/loghub-check.py" "$sys" "$c/$sys/${sys}_2k.log_structured.csv" out.jsonl
	echo "$output"
}

@test "loghub Apache: time and level" { check Apache; }
@test "loghub BGL: time and level" { check BGL; }
@test "loghub HDFS: time and level" { check HDFS; }
@test "loghub Hadoop: time and level" { check Hadoop; }
@test "loghub Linux: time, and the host (the CSV's Level column)" { check Linux; }
@test "loghub OpenSSH: time (no level in the ground truth)" { check OpenSSH; }
@test "loghub Spark: time and level" { check Spark; }
@test "loghub Zookeeper: time and level" { check Zookeeper; }

@test "loghub: the checker fails on records that do not match" {
	local c
	need_corpus
	c=$CORPUS
	run -0 logcat --format text "$c/HDFS/HDFS_2k.log"
	printf '%s\n' "$output" > out.jsonl
	run -1 python3 "$FIX/logcat/loghub-check.py" HDFS "$c/HDFS/HDFS_2k.log_structured.csv" out.jsonl
	[[ $output == *"time=0.0 level=0.0"* ]]
}

@test "loghub: each system's format is detected as expected" {
	local c s
	need_corpus
	c=$CORPUS
	for s in Apache:apache-error BGL:bgl HDFS:app Hadoop:app Linux:syslog OpenSSH:syslog \
	    Spark:app Zookeeper:app; do
		run -0 logcat --format "${s#*:}" "$c/${s%%:*}/${s%%:*}_2k.log"
		printf '%s\n' "$output" > forced.jsonl
		run -0 logcat "$c/${s%%:*}/${s%%:*}_2k.log"
		printf '%s\n' "$output" > auto.jsonl
		expect_same forced.jsonl auto.jsonl
	done
}
