#!/usr/bin/env bash
# Install Debian's QGIS Python bindings and data providers (its OAPIF client lives in
# qgis-providers) and GDAL 3.6's command-line tools (ogrinfo), the clients of
# tests/api/test_gis_clients.py, once. Idempotent and quiet: does
# nothing when the QGIS core bindings already import with the system Python.
set -euo pipefail

if /usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1 \
  && ls /usr/lib/qgis/plugins/libprovider_wfs.so >/dev/null 2>&1 \
  && [ -x /usr/bin/ogrinfo ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=600)  # wait for another apt run rather than fail
packages=(python3-qgis qgis-providers gdal-bin)
# Refresh the package lists only when they do not know QGIS yet (another install step of
# `make test` may just have refreshed them).
if ! apt-cache show python3-qgis >/dev/null 2>&1; then
  $sudo "${apt[@]}" update -qq
fi
if ! $sudo "${apt[@]}" install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; then
  # lists older than the mirror: refresh them once and try again
  $sudo "${apt[@]}" update -qq
  $sudo "${apt[@]}" install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
