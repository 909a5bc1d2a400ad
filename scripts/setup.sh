#!/bin/sh
# Installs what portsentinel needs on Debian 12 with Node.js 20: system packages, npm
# dependencies, and the build. Safe to run again. Run as root (apt-get).
#   --test   also install what the test suite uses (nmap, masscan, logcheck, journal tools)
set -eu
cd "$(dirname "$0")/.."

RUNTIME="nftables iptables ipset iproute2 libpcap-dev util-linux"
# Build tools for the native modules (better-sqlite3, cap), in case the machine lacks them.
BUILD="python3 make g++"
TEST="nmap masscan tcpdump logcheck logcheck-database systemd systemd-journal-remote netcat-openbsd procps"

PACKAGES="$RUNTIME $BUILD"
if [ "${1:-}" = "--test" ]; then PACKAGES="$PACKAGES $TEST"; fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $PACKAGES
npm ci
npm run build
