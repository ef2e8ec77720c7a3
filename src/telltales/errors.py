"""The one exception type a user can cause, and its subclasses."""

from __future__ import annotations


class TelltalesError(Exception):
    """An error the user can fix: bad input, bad option. The message says what to do."""


class ImageError(TelltalesError):
    """The file could not be read as an image (missing, empty, truncated, not an image, too big)."""


# The optional parts of the install (pyproject extras) and the top-level modules each brings.
EXTRAS: dict[str, tuple[str, ...]] = {
    "body": ("ai_edge_litert",),
    "ocr": ("rapidocr", "wordfreq", "pyclipper", "shapely", "omegaconf"),
    "eval": ("matplotlib",),
    "serve": ("fastapi", "uvicorn", "jinja2", "multipart", "sqlalchemy", "alembic", "psycopg"),
    "ray": ("ray", "pyarrow"),
}


def extra_for(module: str | None) -> str | None:
    """The extra that installs ``module`` (a dotted name is looked up by its top level), or None."""
    top = (module or "").split(".")[0]
    return next((e for e, mods in EXTRAS.items() if top in mods), None)


class MissingPart(TelltalesError):
    """An optional part is not installed (a package extra, or a model file): the cues that need it
    are not applicable, and the message says how to install it."""


def missing_part(module: str | None) -> MissingPart:
    """The MissingPart for a failed import of ``module``, with the install command."""
    extra = extra_for(module)
    how = f"pip install 'telltales[{extra}]'" if extra else "run install.sh"
    return MissingPart(f"the optional package {module or '?'} is not installed ({how})")
