"""Pictures of what the body cues found and missed on the dev images of people: an HTML page of overlays.

    python benchmarks/body_gallery.py --data ../shared/data/dev --out /tmp/body-gallery [--misses 16]

Runs the body cues (as published, and on the web copy: long side <= 1024, JPEG
q80) over the images bench_body.py selects and writes, under ``--out``:
- an overlay PNG for every image on which a body cue gave generated-evidence:
  hits on AI images and false alarms on real ones;
- overlays of ``--misses`` AI images (chosen at random, seed 0) on which some
  body cue could look (a face or a hand was judged) and none found anything:
  the failures the cues do not catch;
- ``index.html`` listing each with the cue, the reason and the family.
The pictures are derived from the dev images, so they stay out of the project.
"""

from __future__ import annotations

import argparse
import html
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_body import select, web_copy  # noqa: E402

JUDGED = ("generated-evidence", "clear", "real-evidence")


def _row(name: str, label: str, cond: str, file: str, items: list[tuple[str, str]]) -> str:
    lines = "".join(f"<li><b>{html.escape(c)}</b>: {html.escape(r)}</li>" for c, r in items)
    return (f'<div class="card"><a href="{name}"><img src="{name}" loading="lazy"></a>'
            f"<p>{html.escape(label)} · {cond} · {html.escape(file)}</p><ul>{lines}</ul></div>")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data/dev"))
    p.add_argument("--out", type=Path, default=Path("/tmp/body-gallery"))
    p.add_argument("--misses", type=int, default=16, help="how many AI images with nothing found to show")
    args = p.parse_args()

    from telltales.api import inspect
    from telltales.image import load_image
    from telltales.overlay import draw_overlay

    args.out.mkdir(parents=True, exist_ok=True)
    sections: dict[str, list[str]] = {"hits on AI images": [], "false alarms on real photos": [], "misses": []}
    misses: list[tuple[str, str, bytes, object]] = []
    for k, (file, label, group) in enumerate(select(args.data, None)):
        raw = (args.data / file).read_bytes()
        for cond, blob in (("asis", raw), ("web", web_copy(raw))):
            report = inspect(blob, cues=["body"])
            hits = [(f.cue, f.reason) for f in report.findings if str(f.status) == "generated-evidence"]
            judged = any(str(f.status) in JUDGED for f in report.findings)
            name = f"{k:04d}-{cond}-{Path(file).stem[:40]}.png"
            if hits:
                draw_overlay(load_image(blob).pixels, report, max_side=900).save(args.out / name)
                key = "hits on AI images" if label == "ai" else "false alarms on real photos"
                sections[key].append(_row(name, f"{label} ({group})", cond, file, hits))
            elif label == "ai" and judged and cond == "asis":
                misses.append((name, file, blob, report))
        print(file, file=sys.stderr)
    random.Random(0).shuffle(misses)
    for name, file, blob, report in misses[: args.misses]:
        draw_overlay(load_image(blob).pixels, report, max_side=900).save(args.out / name)
        said = [(f.cue, f.reason) for f in report.findings if str(f.status) in JUDGED]
        sections["misses"].append(_row(name, "ai", "asis", file, said))
    body = "".join(f"<h2>{html.escape(t)} ({len(rows)})</h2><div class='grid'>{''.join(rows)}</div>"
                   for t, rows in sections.items())
    page = ("<!doctype html><meta charset='utf-8'><title>telltales body cues: gallery</title><style>"
            "body{font-family:sans-serif;margin:1em}.grid{display:flex;flex-wrap:wrap;gap:12px}"
            ".card{width:420px;border:1px solid #ccc;padding:6px}.card img{max-width:100%}"
            "li{font-size:90%}</style><h1>Body cues on the dev images of people</h1>"
            f"<p>Misses: {len(misses)} AI images had a face or hand the cues judged and nothing was found; "
            f"{min(len(misses), args.misses)} shown.</p>{body}")
    (args.out / "index.html").write_text(page)
    print(f"{args.out / 'index.html'}: " + ", ".join(f"{t} {len(r)}" for t, r in sections.items()))


if __name__ == "__main__":
    main()
