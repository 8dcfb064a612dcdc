#!/usr/bin/env bash
# Install Debian's PostgreSQL server and PostGIS for the PostGIS store tests, once.
# Idempotent and quiet: does nothing when PostGIS's extension files are already there.
# The tests start their own throwaway cluster (tests/postgis.py); nothing is started here.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
if [ -x "/usr/lib/postgresql/$PG_MAJOR/bin/initdb" ] \
  && [ -f "/usr/share/postgresql/$PG_MAJOR/extension/postgis.control" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
# Debian's postgresql-common would create and start a cluster on install: the tests want none.
$sudo mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/trazo.conf >/dev/null
# Refresh the package lists only when they do not know PostGIS yet (another install step
# of `make test` may just have refreshed them).
if ! apt-cache show "postgresql-$PG_MAJOR-postgis-3" >/dev/null 2>&1; then
  $sudo apt-get update -qq
fi
packages=("postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-postgis-3")
if ! $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; then
  # lists older than the mirror: refresh them once and try again
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
