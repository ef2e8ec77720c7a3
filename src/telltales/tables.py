"""A scan's JSON Lines as one Parquet table: one row per image, one column pair per cue.

Columns: ``path``, ``sha256``, ``verdict``, ``p_generated``, ``unsure_reason``,
``error``, ``profile``, ``seconds``, ``reasons`` (the three strongest, a list), and
for every cue in the output ``<cue>:status`` (string) and ``<cue>:strength`` (float,
signed: + generated evidence, - real evidence, 0 clear, null not applicable or failed).
With a base rate (``scan --base-rate``), ``p_generated_at_base_rate`` follows
``p_generated`` and the rate is in the schema's metadata (``telltales.base_rate``).
A path that appears twice in the JSON Lines (``--retry-errors`` appends a new row)
keeps its last row. The file is written in row groups, so a million-row scan never
sits in memory as one table::

    import duckdb
    duckdb.sql("select verdict, count(*) from 'results.parquet' group by 1")

pyarrow is an optional extra (``pip install 'telltales[ray]'`` brings it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import TelltalesError
from .fusion import p_at_base_rate
from .scan import cue_ids, last_rows, signed_strength

BATCH = 10_000


def flat(row: dict[str, Any], ids: list[str], base_rate: float | None = None) -> dict[str, Any]:
    """One image's row as the table's columns."""
    out = {
        "path": row.get("path"),
        "sha256": row.get("sha256"),
        "verdict": row.get("verdict"),
        "p_generated": row.get("p_generated"),
    }
    if base_rate is not None:
        out["p_generated_at_base_rate"] = p_at_base_rate(row.get("p_generated"), base_rate)
    out |= {
        "unsure_reason": row.get("unsure_reason"),
        "error": row.get("error"),
        "profile": row.get("profile"),
        "seconds": row.get("seconds"),
        "reasons": list(row.get("reasons") or [])[:3],
    }
    by_cue = {f.get("cue"): f for f in row.get("findings") or []}
    for c in ids:
        f = by_cue.get(c)
        out[f"{c}:status"] = f.get("status") if f else None
        out[f"{c}:strength"] = signed_strength(f) if f else None
    return out


def schema(ids: list[str], base_rate: float | None = None):
    import pyarrow as pa

    fields = [("path", pa.string()), ("sha256", pa.string()), ("verdict", pa.string()), ("p_generated", pa.float64())]
    if base_rate is not None:
        fields.append(("p_generated_at_base_rate", pa.float64()))
    fields += [
        ("unsure_reason", pa.string()), ("error", pa.string()),
        ("profile", pa.string()), ("seconds", pa.float64()), ("reasons", pa.list_(pa.string())),
    ]
    for c in ids:
        fields += [(f"{c}:status", pa.string()), (f"{c}:strength", pa.float64())]
    meta = None if base_rate is None else {"telltales.base_rate": repr(base_rate)}
    return pa.schema(fields, metadata=meta)


def write_parquet(jsonl: str | Path, parquet: str | Path, *, base_rate: float | None = None) -> int:
    """Write ``parquet`` from a scan's JSON Lines; returns the number of rows."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise TelltalesError("--parquet needs pyarrow: pip install 'telltales[ray]' (or pyarrow)") from None
    jsonl = Path(jsonl)
    ids = cue_ids(jsonl)
    sch = schema(ids, base_rate)
    n = 0
    try:
        with pq.ParquetWriter(str(parquet), sch) as w:
            batch: list[dict[str, Any]] = []
            for row in last_rows(jsonl):
                batch.append(flat(row, ids, base_rate))
                if len(batch) >= BATCH:
                    w.write_table(pa.Table.from_pylist(batch, schema=sch))
                    n, batch = n + len(batch), []
            if batch or n == 0:
                w.write_table(pa.Table.from_pylist(batch, schema=sch))
                n += len(batch)
    except OSError as exc:
        raise TelltalesError(f"cannot write {parquet}: {exc.strerror or exc}") from None
    return n
