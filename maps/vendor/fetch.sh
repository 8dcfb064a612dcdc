#!/usr/bin/env bash
# Refresh the vendored Leaflet and plugin files from the npm registry.
#
#   maps/vendor/fetch.sh
#
# Each line of PACKAGES below is: npm package, version, then the files to copy
# (paths inside the package; directories are copied whole). Versions match the
# ones folium's templates reference, so the inlined code is what folium is tested with.
# After a version change, update the table in maps/vendor/README.md.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

PACKAGES=(
  "leaflet 1.9.3 dist/leaflet.js dist/leaflet.css dist/images LICENSE"
  "leaflet.markercluster 1.1.0 dist/leaflet.markercluster.js dist/MarkerCluster.css dist/MarkerCluster.Default.css MIT-LICENCE.txt"
  "leaflet.fullscreen 3.0.0 Control.FullScreen.js Control.FullScreen.css icon-fullscreen.svg LICENSE"
  "leaflet-measure 2.1.7 dist/leaflet-measure.min.js dist/leaflet-measure.css dist/images LICENSE"
  "leaflet-minimap 3.6.1 dist/Control.MiniMap.min.js dist/Control.MiniMap.min.css dist/images LICENSE.txt"
)

for line in "${PACKAGES[@]}"; do
  read -r package version files <<<"$line"
  echo "fetching $package@$version"
  tarball="$(cd "$work" && npm pack --silent "$package@$version" 2>/dev/null | tail -n 1)"
  mkdir -p "$work/$package"
  tar -xzf "$work/$tarball" -C "$work/$package" --warning=no-unknown-keyword
  rm -rf "${here:?}/$package"
  mkdir -p "$here/$package"
  for file in $files; do
    src="$work/$package/package/$file"
    dest="$here/$package/${file#dist/}"
    mkdir -p "$(dirname "$dest")"
    cp -R "$src" "$dest"
  done
done
echo "vendored files are in $here"
