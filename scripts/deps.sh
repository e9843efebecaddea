#!/bin/sh
# deps.sh: install the Debian packages a group of tasks needs, only those
# missing.  Usage: scripts/deps.sh GROUP...  (build test bench fuzz)
set -eu

pkgs_build="make gcc pkg-config libzstd-dev libarchive-dev libjson-c-dev
	libcurl4-openssl-dev libpcre2-dev libxxhash-dev zlib1g-dev"
# Test servers and tools the suite drives for real.
pkgs_test="bats jq zstd mandoc python3 curl libarchive-tools nginx-light
	influxdb influxdb-client openssh-server openssh-client rsync
	prometheus-alertmanager prometheus openssl xz-utils zip faketime"
pkgs_bench="ripgrep libarchive-tools hyperfine time jq zstd curl"
pkgs_fuzz="clang"

want=
for g in "$@"; do
	eval "want=\"\$want \$pkgs_$g\""
done
missing=
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $s in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists unless that happened in the last hour.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -60 2>/dev/null | head -n 1)" ]; then
	$sudo apt-get update -qq >&2
fi
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >&2
