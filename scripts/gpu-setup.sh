#!/usr/bin/env bash
# Makes the 'gpu' backend usable in Node on Debian/Ubuntu (CI, a developer's machine):
#   1. the Debian packages that build headless-gl (`gl`, gpu.js's native WebGL) and run it
#      under a virtual X display (Xvfb + Mesa's llvmpipe software renderer),
#   2. `npm rebuild gl` when its native addon is missing (npm 11 builds it only because
#      package.json approves its install script in "allowScripts").
# Idempotent: installed packages and an existing build are left alone. Run from anywhere:
#   bash scripts/gpu-setup.sh            then   xvfb-run -a npm test
# Building gl takes about 3 minutes on 2 cores. In CI, run it before `npm ci` (so that npm's own
# build of gl finds the headers) and again after it (a no-op that proves the GL kernel runs).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(build-essential python-is-python3 pkg-config libx11-dev libxi-dev libxext-dev libgl-dev)
RUN_PKGS=(xvfb xauth libgl1-mesa-dri)

missing=()
for p in "${BUILD_PKGS[@]}" "${RUN_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== apt-get install ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "== Debian packages present"
fi

gl_dir() {
  node -e "const r=require('module').createRequire(require.resolve('gpu.js'));console.log(require('path').dirname(r.resolve('gl/package.json')))" 2>/dev/null || true
}
if [ ! -d node_modules/gpu.js ] || [ -z "$(gl_dir)" ]; then
  # gpu.js and gl are optional dependencies: npm skips them (or drops gl when its build failed
  # for want of the packages above). `npm install` adds what the lockfile lists and builds gl.
  echo "== npm install (gpu.js / gl missing)"
  npm install --no-audit --no-fund
fi
gl_dir=$(gl_dir)
if [ -z "$gl_dir" ]; then
  echo "!! gl (headless-gl) is not installed next to gpu.js" >&2
  exit 1
fi
if [ -f "$gl_dir/build/Release/webgl.node" ]; then
  echo "== gl is built ($gl_dir)"
else
  echo "== npm rebuild gl (about 3 minutes)"
  start=$(date +%s)
  npm rebuild gl
  echo "== gl built in $(( $(date +%s) - start ))s"
fi

# the proof: a GL kernel under a virtual display
xvfb-run -a node -e "
const { GPU } = require('gpu.js');
const k = new GPU().createKernel(function (a) { return a[this.thread.x] * 2; }, { output: [2] });
const r = k([1, 2]);
const cls = k.kernel.constructor.name;
console.log('== gpu.js kernel class:', cls, Array.from(r));
process.exit(cls === 'HeadlessGLKernel' ? 0 : 1);
"
