#!/usr/bin/env bash
# Install PostgreSQL 15 and pgvector when they are missing (Debian 12, as root or with sudo).
# pgvector is not packaged for Debian 12's PostgreSQL 15, so it is built from Debian trixie's
# source package (fetched through a private sources list; /etc/apt is left untouched).
set -euo pipefail

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
SUDO=$( [ "$(id -u)" = 0 ] || echo sudo )
APT_UPDATED=
apt_install() {
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" > /dev/null
}

if [ ! -x /usr/lib/postgresql/$PG_MAJOR/bin/postgres ]; then
  echo "installing PostgreSQL $PG_MAJOR"
  apt_install postgresql-$PG_MAJOR
fi

if [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/vector.control" ]; then
  echo "building pgvector for PostgreSQL $PG_MAJOR"
  if [ ! -f "/usr/include/postgresql/$PG_MAJOR/server/postgres.h" ] || ! command -v make > /dev/null || ! command -v dpkg-source > /dev/null; then
    apt_install postgresql-server-dev-$PG_MAJOR build-essential dpkg-dev
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/apt/lists/partial" "$work/apt/sourceparts"
  echo "deb-src http://deb.debian.org/debian trixie main" > "$work/apt/sources.list"
  apt_private=(-o "Dir::Etc::SourceList=$work/apt/sources.list"
               -o "Dir::Etc::SourceParts=$work/apt/sourceparts"
               -o "Dir::State::Lists=$work/apt/lists"
               -o "APT::Sandbox::User=root")
  apt-get "${apt_private[@]}" update -qq
  (cd "$work" && apt-get "${apt_private[@]}" source --download-only -qq pgvector > /dev/null)
  (cd "$work" && dpkg-source --no-check -x pgvector_*.dsc src > /dev/null)
  make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" > /dev/null
  $SUDO make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" install > /dev/null
fi
