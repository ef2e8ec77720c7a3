"""A scan's JSON Lines as one Parquet table: one row per image, one column pair per cue.

Columns: ``path``, ``sha256``, ``verdict``, ``p_generated``, ``unsure_reason``,
``error``, ``profile``, ``seconds``, ``reasons`` (the three strongest, a list), and
for every cue in the output ``<cue>:status`` (string) and ``<cue>:strength`` (float,
signed: + generated evidence, - real evidence, 0 clear, null not applicable or failed).
A path that appears twice in the JSON Lines (``--retry-errors`` appends a new row)
keeps its last row. The file is written in row groups, so a million-row scan never
sits in memory as one table::

    import duckdb
    duckdb.sql("select verdict, count(*) from 'results.parquet' group by 1")

pyarrow is an optional extra (``pip install 'telltales[ray]'`` brings it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import TelltalesError

BATCH = 10_000
SIGN = {"generated-evidence": 1.0, "real-evidence": -1.0, "clear": 0.0}


def _rows(jsonl: Path) -> Iterator[dict[str, Any]]:
    """Each path's last complete row, in the order of those last rows."""
    last: dict[str, int] = {}
    with open(jsonl, "rb") as fh:
        offset = 0
        for line in fh:
            if line.endswith(b"\n"):
                try:
                    path = json.loads(line).get("path")
                except (json.JSONDecodeError, AttributeError):
                    path = None
                if isinstance(path, str):
                    last[path] = offset
            offset += len(line)
        for start in sorted(last.values()):
            fh.seek(start)
            yield json.loads(fh.readline())


def _cue_ids(jsonl: Path) -> list[str]:
    ids: set[str] = set()
    with open(jsonl, "rb") as fh:
        for line in fh:
            try:
                ids.update(f["cue"] for f in json.loads(line).get("findings", []))
            except (json.JSONDecodeError, AttributeError, KeyError, TypeError):
                continue
    return sorted(ids)


def flat(row: dict[str, Any], cue_ids: list[str]) -> dict[str, Any]:
    """One image's row as the table's columns."""
    out = {
        "path": row.get("path"),
        "sha256": row.get("sha256"),
        "verdict": row.get("verdict"),
        "p_generated": row.get("p_generated"),
        "unsure_reason": row.get("unsure_reason"),
        "error": row.get("error"),
        "profile": row.get("profile"),
        "seconds": row.get("seconds"),
        "reasons": list(row.get("reasons") or [])[:3],
    }
    by_cue = {f.get("cue"): f for f in row.get("findings") or []}
    for c in cue_ids:
        f = by_cue.get(c)
        status = f.get("status") if f else None
        sign = SIGN.get(status or "")
        out[f"{c}:status"] = status
        out[f"{c}:strength"] = None if sign is None else sign * float(f.get("strength") or 0.0)
    return out


def schema(cue_ids: list[str]):
    import pyarrow as pa

    fields = [
        ("path", pa.string()), ("sha256", pa.string()), ("verdict", pa.string()),
        ("p_generated", pa.float64()), ("unsure_reason", pa.string()), ("error", pa.string()),
        ("profile", pa.string()), ("seconds", pa.float64()), ("reasons", pa.list_(pa.string())),
    ]
    for c in cue_ids:
        fields += [(f"{c}:status", pa.string()), (f"{c}:strength", pa.float64())]
    return pa.schema(fields)


def write_parquet(jsonl: str | Path, parquet: str | Path) -> int:
    """Write ``parquet`` from a scan's JSON Lines; returns the number of rows."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise TelltalesError("--parquet needs pyarrow: pip install 'telltales[ray]' (or pyarrow)") from None
    jsonl = Path(jsonl)
    cue_ids = _cue_ids(jsonl)
    sch = schema(cue_ids)
    n = 0
    try:
        with pq.ParquetWriter(str(parquet), sch) as w:
            batch: list[dict[str, Any]] = []
            for row in _rows(jsonl):
                batch.append(flat(row, cue_ids))
                if len(batch) >= BATCH:
                    w.write_table(pa.Table.from_pylist(batch, schema=sch))
                    n, batch = n + len(batch), []
            if batch or n == 0:
                w.write_table(pa.Table.from_pylist(batch, schema=sch))
                n += len(batch)
    except OSError as exc:
        raise TelltalesError(f"cannot write {parquet}: {exc.strerror or exc}") from None
    return n
