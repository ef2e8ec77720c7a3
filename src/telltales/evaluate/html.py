"""The evaluation page: headline table, ROC curves, reliability diagram, per-cue and
per-family tables, and the worst mistakes with their reasons. Plots are PNG files
next to the page (matplotlib, Agg backend)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

KEYS = [
    ("n", "images"), ("auc", "ROC AUC"), ("average_precision", "AP"),
    ("tpr_at_fpr_1pct", "TPR @ FPR 1%"), ("tpr_at_fpr_2pct", "TPR @ FPR 2%"),
    ("tpr_at_fpr_5pct", "TPR @ FPR 5%"), ("balanced_accuracy_decided", "balanced acc. (decided)"),
    ("unsure_share", "unsure"), ("called_generated_real", "real called generated"),
    ("called_real_ai", "generated called real"), ("ece", "ECE"), ("ece_balanced", "ECE (classes 1/2)"),
    ("seconds_per_image", "s / image"),
]


def plot_roc(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    for cond, s in summary["conditions"].items():
        if s.get("roc"):
            auc = s.get("auc")
            # straight lines between the true operating points: the area under this polyline
            # is the AUC printed (ties count 1/2), unlike a staircase
            ax.plot(s["roc"]["fpr"], s["roc"]["tpr"], marker="o", ms=2, lw=1.4,
                    label=f"{cond} (AUC {auc:.3f})" if auc is not None else cond)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.axvline(0.02, ls="--", c="red", lw=0.8, label="FPR 2%")
    ax.set(xlabel="false positive rate (real called generated)", ylabel="true positive rate",
           title="ROC", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_reliability(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    for cond, s in summary["conditions"].items():
        rel = s.get("reliability") or []
        if rel:
            ax.plot([b["p_mean"] for b in rel], [b["observed"] for b in rel], marker="o",
                    label=f"{cond} (class-balanced ECE {s['ece_balanced']:.3f})")
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set(xlabel="predicted p_generated (bin mean)", ylabel="observed share generated (classes weighted 1/2)",
           title="Reliability (for an even prior)", xlim=(0, 1), ylim=(0, 1))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no image was analysed", ha="center", va="center", c="grey")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return html.escape(str(v))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


THUMB_SIDE = 160


def thumbnail(src: str, dest: Path, side: int = THUMB_SIDE) -> bool:
    """A small JPEG of ``src`` as a viewer shows it; False when it cannot be read."""
    from PIL import Image as PILImage

    from ..errors import ImageError
    from ..image import load_image

    try:
        img = PILImage.fromarray(load_image(src, max_pixels=60_000_000).pixels)
    except (ImageError, OSError, ValueError):
        return False
    img.thumbnail((side, side), PILImage.Resampling.LANCZOS)
    dest.parent.mkdir(parents=True, exist_ok=True)
    img.convert("RGB").save(dest, "JPEG", quality=82)
    return True


def write_thumbnails(worst: dict[str, list[dict[str, Any]]], paths: dict[str, str] | None,
                     out: Path) -> dict[str, str]:
    """Thumbnails of the files in ``worst`` under ``out/thumbs``: manifest file -> page link."""
    links: dict[str, str] = {}
    if not paths:
        return links
    for rows in worst.values():
        for r in rows:
            f = r["file"]
            if f in links or f not in paths:
                continue
            name = f"thumbs/{len(links):03d}.jpg"
            if thumbnail(paths[f], out / name):
                links[f] = name
    return links


def write(summary: dict[str, Any], worst: dict[str, list[dict[str, Any]]], out: Path,
          meta: dict[str, Any], paths: dict[str, str] | None = None) -> Path:
    """Write ``report.html`` (its two PNG plots, and thumbnails of the worst mistakes when
    ``paths`` maps their manifest names to files) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    thumbs = write_thumbnails(worst, paths, out)
    try:
        plot_roc(summary, out / "roc.png")
        plot_reliability(summary, out / "reliability.png")
        plots = '<img src="roc.png" alt="ROC curves"> <img src="reliability.png" alt="reliability diagram">'
    except ImportError as exc:
        from ..errors import missing_part

        plots = f"<p>No plots: {html.escape(str(missing_part(exc.name)))}.</p>"
    conds = summary["conditions"]
    headline = _table(
        ["condition", *[k[1] for k in KEYS], "AUC 95% CI"],
        [[c, *[s.get(k) for k, _ in KEYS],
          " - ".join(f"{v:.3f}" for v in s["ci95"]["auc"]) if s.get("ci95", {}).get("auc") else "-"]
         for c, s in conds.items()],
    )
    cue_rows = [
        [c, cue, d["auc_where_applicable"], d["coverage"], d["false_evidence_rate_real"],
         d["generated_evidence_rate_ai"], d["errors"], d["seconds_per_image"]]
        for c, s in conds.items() for cue, d in (s.get("per_cue") or {}).items()
    ]
    cue_table = _table(["condition", "cue", "AUC (where applicable)", "coverage",
                        "false generated-evidence on real", "generated-evidence on AI", "errors",
                        "s / image"], cue_rows)
    fam_rows = [
        [c, f, d["label"], d["n"], d.get("auc_vs_all_real"), d["mean_p"], d["called_generated"],
         d["called_real"], d["unsure"]]
        for c, s in conds.items() for f, d in (s.get("per_family") or {}).items()
    ]
    fam_table = _table(["condition", "family", "label", "n", "AUC vs all real", "mean p",
                        "called generated", "called real", "unsure"], fam_rows)

    def mistakes(rows: list[dict[str, Any]], none: str) -> str:
        if not rows:
            return f"<p>{html.escape(none)}</p>"
        items = []
        for r in rows:
            thumb = thumbs.get(r["file"])
            img = (f'<img class="thumb" src="{html.escape(thumb)}" alt="" loading="lazy">'
                   if thumb else "")
            ev = "".join(f"<li>{html.escape(e)}</li>" for e in r["evidence"]) or "<li>no cue found evidence</li>"
            why = f"<br>unsure because {html.escape(r['unsure_reason'])}" if r.get("unsure_reason") else ""
            items.append(
                f"<li>{img}<b>{html.escape(r['file'])}</b> [{html.escape(r['condition'])}, "
                f"{html.escape(r['family'])}] p_generated {r['p_generated']:.3f}, verdict "
                f"{html.escape(r['verdict'])}{why}<ul>{ev}</ul></li>"
            )
        return "<ol>" + "".join(items) + "</ol>"

    errors = summary.get("errors") or []
    err_html = _table(["file", "condition", "error"], [[e["file"], e["condition"], e["error"]] for e in errors[:200]])
    meta_html = _table(["", ""], [[k, v if not isinstance(v, list | dict) else ", ".join(map(str, v))]
                                  for k, v in meta.items()])
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>telltales evaluation</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;}}table{{border-collapse:collapse;margin:1em 0;font-size:90%}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}td:first-child,td:nth-child(2){{text-align:left}}
ol li{{margin:.6em 0;clear:both;overflow:hidden}}img.thumb{{float:left;margin:0 1em .5em 0;max-width:{THUMB_SIDE}px;max-height:{THUMB_SIDE}px;border:1px solid #ccc}}</style></head><body>
<h1>telltales evaluation</h1>{meta_html}
<h2>Headline</h2>{headline}
<p>"real called generated" is the share of real images with the verdict "generated" (the project keeps it at or below 2%).
"balanced acc. (decided)" ignores images left unsure; "unsure" says how many.</p>
{plots}
<h2>Per cue</h2>{cue_table}
<h2>Per family (generator family or real source folder)</h2>{fam_table}
<h2>Worst false alarms (real images called generated, highest p_generated first)</h2>
{mistakes(worst["false_alarms"], "No real image was called generated. Real images left unsure are not false alarms.")}
<h2>Most confident misses (generated images called real, lowest p_generated first)</h2>
{mistakes(worst["misses"], "No generated image was called real.")}
<h2>Errors ({len(errors)})</h2>{err_html}
</body></html>"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
