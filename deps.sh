#!/bin/sh
# deps.sh - install what wsi needs to build, test and run, from Debian's archive: as root
# directly, as a user through sudo. Extra arguments are more packages (CI adds clang).
set -eu
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
	build-essential pkg-config libcurl4-openssl-dev libjansson-dev libsqlite3-dev \
	sqlite3 jq python3 perl curl mandoc ca-certificates procps openssl "$@"
