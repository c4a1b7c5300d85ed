#!/usr/bin/env sh
# Rebuild static/plotly-cartesian.min.js: plotly.js 4.1.1's cartesian traces (the same trace
# modules as npm's plotly.js-cartesian-dist-min: lib/index-cartesian.js), bundled by esbuild as one
# plain script that defines window.Plotly. Versions are pinned in package-lock.json.
#
# Why not npm's ready-made file (issue 13): in Chromium it took ~250 ms of main-thread work to
# load, this one ~90 ms, the same figures drawing in the same time after. The ready-made file
# wraps the whole bundle in a UMD function, which V8 compiles eagerly, and at load it also sets up
# maplibre's map styles and node polyfills that cartesian charts never use.
#
# Needs node and npm (the package registry); the app and its tests never run this.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
./node_modules/.bin/esbuild node_modules/plotly.js/lib/index-cartesian.js \
  --bundle --format=iife --global-name=Plotly --minify --target=es2016 \
  --define:global=window --define:define.amd=false \
  --loader:.css=empty --legal-comments=eof \
  --banner:js="/* plotly.js v4.1.1 (MIT, see plotly-LICENSE.txt): its cartesian traces, bundled by scripts/plotly/build.sh */" \
  --outfile=../../static/plotly-cartesian.min.js
