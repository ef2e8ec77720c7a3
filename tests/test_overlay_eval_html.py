"""Overlay PNGs (numbered boxes, legend, no 'tile analysed' boxes, manual-check boxes) and the
eval page (ROC over the true operating points, false alarms = real images called generated,
thumbnails)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.evaluate import html as eval_html
from telltales.evaluate import metrics, summary
from telltales.findings import Finding, ManualCheck, Region, Status
from telltales.overlay import (
    KIND_COLOURS,
    badge_position,
    draw_overlay,
    evidence_boxes,
    font_size_for,
)
from telltales.report import Report


def report_with_boxes() -> Report:
    return Report(
        path=None, sha256="0" * 64, verdict="generated", p_generated=0.91, reasons=("r",), error=None,
        findings=(
            Finding("noise.residual", "text-noise-details", Status.CLEAR, 0.0, "ok",
                    regions=(Region((0, 0, 50, 50), "tile analysed"),)),
            Finding("body.hands", "body", Status.GENERATED, 0.8, "six fingers",
                    regions=(Region((40, 40, 60, 60), "six fingers"), Region((42, 42, 60, 60), "fused"))),
            Finding("provenance.camera", "provenance", Status.REAL, 0.3, "camera exif",
                    regions=(Region((200, 120, 80, 60), "lens"),)),
        ),
        manual_checks=(ManualCheck("body.teeth", "count the teeth", (Region((10, 150, 40, 30), "mouth"),)),),
    )


def test_evidence_boxes_are_numbered_without_tile_boxes_and_with_manual_ones():
    boxes = evidence_boxes(report_with_boxes().to_dict())
    assert [(b.number, b.source, b.kind) for b in boxes] == [
        (1, "body.hands", "generated"), (2, "body.hands", "generated"),
        (3, "provenance.camera", "real"), (4, "body.teeth", "manual")]
    assert all(b.label != "tile analysed" for b in boxes)


def test_badges_never_overlap_and_stay_inside_the_image():
    placed: list[tuple[float, float, float, float]] = []
    for _ in range(6):  # six boxes at one place
        x, y = badge_position((5, 5, 60, 60), (20, 20), (300, 200), placed)
        assert 0 <= x <= 280 and 0 <= y <= 180
        new = (x, y, x + 20, y + 20)
        assert not any(a[0] < new[2] and new[0] < a[2] and a[1] < new[3] and new[1] < a[3] for a in placed)
        placed.append(new)


def test_font_scales_with_the_image():
    assert font_size_for(320, 240) == 12
    assert font_size_for(1100, 800) == 20
    assert font_size_for(8000, 6000) == 40


def test_overlay_has_a_legend_below_the_picture_and_draws_manual_boxes():
    pixels = np.full((200, 300, 3), 128, np.uint8)
    out = draw_overlay(pixels, report_with_boxes())
    assert out.width == 300 and out.height > 200  # the legend is below, never over the picture
    arr = np.asarray(out)
    for kind in ("generated", "real", "manual"):
        colour = np.array(KIND_COLOURS[kind])
        assert (np.abs(arr[:200].astype(int) - colour).sum(axis=2) == 0).any(), kind  # box on picture
        assert (np.abs(arr[200:].astype(int) - colour).sum(axis=2) == 0).any(), kind  # legend swatch
    blue = np.array(KIND_COLOURS["clear"])
    assert not (np.abs(arr[:200].astype(int) - blue).sum(axis=2) == 0).any()  # no tile box


def test_roc_is_drawn_through_the_operating_points(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.axes import Axes

    y = [0, 0, 0, 1, 1, 1, 0, 1, 1, 0]
    p = [0.5, 0.5, 0.5, 0.5, 0.9, 0.5, 0.2, 0.7, 0.5, 0.5]  # many ties, as unsure images give
    fpr, tpr, _ = metrics.roc_curve(y, p)
    auc = metrics.roc_auc(y, p)
    drawn = []
    real_plot = Axes.plot

    def record(self, *args, **kw):
        if kw.get("label", "").startswith("asis"):
            drawn.append((list(args[0]), list(args[1])))
        return real_plot(self, *args, **kw)

    monkeypatch.setattr(Axes, "plot", record)
    monkeypatch.setattr(Axes, "step", lambda *a, **k: pytest.fail("ROC drawn as a staircase"))
    s = {"conditions": {"asis": {"roc": {"fpr": list(fpr), "tpr": list(tpr)}, "auc": auc}}}
    eval_html.plot_roc(s, tmp_path / "roc.png")
    xs, ys = drawn[0]
    area = float(np.sum(np.diff(xs) * (np.array(ys[1:]) + np.array(ys[:-1])) / 2))
    assert area == pytest.approx(auc)


def _record(file: str, label: int, verdict: str, p: float) -> dict:
    return {"file": file, "label": label, "verdict": verdict, "p_generated": p, "error": None,
            "condition": "asis", "family": "f", "unsure_reason": "x" if verdict == "unsure" else None,
            "findings": []}


def test_false_alarms_are_real_images_called_generated(tmp_path):
    recs = [_record("real/unsure.jpg", 0, "unsure", 0.5), _record("real/alarm.jpg", 0, "generated", 0.93),
            _record("ai/miss.png", 1, "real", 0.04), _record("ai/unsure.png", 1, "unsure", 0.3)]
    w = summary.worst(recs)
    assert [r["file"] for r in w["false_alarms"]] == ["real/alarm.jpg"]
    assert [r["file"] for r in w["misses"]] == ["ai/miss.png"]

    src = tmp_path / "alarm.jpg"
    PILImage.new("RGB", (800, 600), (200, 30, 30)).save(src)
    out = tmp_path / "report"
    s = {"conditions": {}}
    page = eval_html.write(s, w, out, {"data": "x"}, paths={"real/alarm.jpg": str(src)})
    text = page.read_text()
    assert 'class="thumb" src="thumbs/000.jpg"' in text
    assert max(PILImage.open(out / "thumbs" / "000.jpg").size) == eval_html.THUMB_SIDE
    assert "real/unsure.jpg" not in text


def test_empty_mistake_lists_say_so(tmp_path):
    page = eval_html.write({"conditions": {}}, {"false_alarms": [], "misses": []}, tmp_path, {})
    assert "No real image was called generated" in page.read_text()
