#!/usr/bin/env bash
# Runs the gpu backend's conformance tests on headless-gl under a virtual display, and fails
# unless kernels really run on WebGL (TENSORGRAD_EXPECT_GL=1). For CI after scripts/gpu-setup.sh:
#   bash scripts/gpu-setup.sh && bash scripts/gpu-test.sh
# About 30 s on 2 cores with a cold Mesa shader cache, under 10 s with a warm one.
set -euo pipefail
cd "$(dirname "$0")/.."
TENSORGRAD_EXPECT_GL=1 xvfb-run -a npx vitest run test/backends/gpu.test.ts "$@"
