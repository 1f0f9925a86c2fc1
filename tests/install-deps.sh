#!/bin/sh
# Installs what building, testing and the demo need, from Debian 12's archive.
set -eu
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
PKGS="build-essential meson ninja-build pkg-config libpq-dev libyaml-dev libssl-dev check \
postgresql-15 postgresql-client-15 alembic python3-alembic python3-psycopg2 valgrind clang \
libclang-rt-14-dev procps time bc libsodium-dev minisign libgraphviz-dev python3-yaml libmicrohttpd-dev chromium curl"
missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "Installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
