"""Measuring telltales honestly: labelled data, conditions, metrics, a fitted fusion.

manifest.py (labelled images in), conditions.py (asis/stripped/web/thumbnail),
runner.py (cached, resumable, parallel cue runs), metrics.py, summary.py,
fit.py (the fitted fusion and leave-one-generator-out validation), html.py,
pipeline.py (eval and calibrate as functions), cli.py (the two commands).
"""
