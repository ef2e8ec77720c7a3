"""telltales: tell whether an image was made by an AI image generator, and show why.

>>> import telltales
>>> report = telltales.inspect("photo.jpg")   # doctest: +SKIP
>>> report.verdict                             # doctest: +SKIP
'unsure'
"""

from .api import __version__, inspect
from .errors import ImageError, TelltalesError
from .findings import Finding, ManualCheck, Region, Result, Status
from .fusion import Fusion, at_base_rate
from .image import Image, load_image
from .registry import all_cues, cue
from .report import Report

__all__ = [
    "__version__",
    "inspect",
    "load_image",
    "Image",
    "Report",
    "Finding",
    "Result",
    "Region",
    "ManualCheck",
    "Status",
    "Fusion",
    "at_base_rate",
    "cue",
    "all_cues",
    "TelltalesError",
    "ImageError",
]
