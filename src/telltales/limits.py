"""The limits on what one input may cost, in one place (kept import-light for the command line).

``DEFAULT_MAX_PIXELS`` is the one pixel budget: Pillow's own limit is set from
it for every decode, a JPEG over it is decoded at 1/2, 1/4 or 1/8 scale, and
anything else over it is refused. At this budget the peak memory of
``telltales inspect`` stays under 1.5 GB for any input (README, "Limits").
"""

from __future__ import annotations

DEFAULT_MAX_PIXELS = 36_000_000  # 6000 x 6000
DEFAULT_MAX_BYTES = 1 << 30
