"""The ``eval`` and ``calibrate`` commands. The lead wires them into ``telltales.cli``::

    from .evaluate.cli import calibrate_command, eval_command
    cli.add_command(eval_command)
    cli.add_command(calibrate_command)
"""

from __future__ import annotations

import json

import click


def _cue_list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


_common = [
    click.option("--conditions", metavar="NAMES", default=None,
                 help="Comma-separated: asis, stripped, web, thumbnail, or 'all' (default: asis for eval, all four for calibrate)."),
    click.option("--cues", metavar="IDS", default=None,
                 help="Comma-separated cue ids or prefixes to run (default: all)."),
    click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
                 help="Parallel worker processes."),
    click.option("--limit", type=click.IntRange(min=2), default=None,
                 help="Use a stratified random subsample of this many images."),
    click.option("--seed", type=int, default=0, show_default=True, help="Seed for --limit and bootstrap."),
    click.option("--quiet", "-q", is_flag=True, help="No progress line."),
    click.option("--retry-errors", is_flag=True,
                 help="Run cues that failed before again (their errors are cached otherwise)."),
]


def _with_common(f):
    for opt in reversed(_common):
        f = opt(f)
    return f


@click.command("eval")
@click.argument("data", type=click.Path(exists=True))
@click.option("--out", "-o", type=click.Path(file_okay=False), default="telltales-eval", show_default=True,
              help="Output folder: report.html, report.json, rows.jsonl and the cache (reused on re-runs).")
@click.option("--fusion", type=click.Path(dir_okay=False, exists=True), default=None,
              help="A fusion JSON (from `telltales calibrate`) instead of the shipped one.")
@click.option("--logo", is_flag=True,
              help="Measure a fusion fitted on DATA itself, each generator family (and real source "
                   "folder) scored by a fit made without it: leave-one-generator-out.")
@click.option("--bootstrap", "n_boot", type=click.IntRange(min=0), default=500, show_default=True,
              help="Bootstrap resamples for the confidence intervals (0: none).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of a table.")
@_with_common
def eval_command(data, out, fusion, logo, n_boot, as_json, conditions, cues, jobs, limit, seed, quiet,
                 retry_errors) -> None:
    """Measure how far to trust telltales on your own labelled images.

    DATA is a folder with ai/ and real/ sub-folders, or a manifest (TSV/CSV with
    the columns file and label (ai/real), optionally generator, group, family;
    paths relative to the manifest). Bad rows are reported, not fatal. Each
    image is analysed under each condition (asis: as given; stripped: metadata
    removed, same pixels; web: long side <= 1024, JPEG q80; thumbnail: <= 512,
    JPEG q60). Results are cached in --out: a re-run after changing one cue
    recomputes only that cue.

    \b
    Examples:
      telltales eval ./labelled --out report/
      telltales eval manifest.tsv --conditions asis,stripped,web,thumbnail --jobs 2
      telltales eval manifest.tsv --fusion my-fusion.json --json
      telltales eval manifest.tsv --logo --conditions all
    """
    from . import conditions as conds
    from .pipeline import evaluate
    from .summary import table

    ev = evaluate(
        data, out, conditions=conds.parse(conditions), cues=_cue_list(cues), fusion=fusion, logo=logo,
        jobs=jobs, limit=limit, seed=seed, n_boot=n_boot, progress=not quiet, retry_errors=retry_errors,
    )
    if as_json:
        doc = {"meta": ev.meta, "files": ev.files, "problems": list(ev.problems),
               "conditions": {c: {k: v for k, v in s.items() if k not in ("roc", "reliability")}
                              for c, s in ev.summary["conditions"].items()}}
        from ..findings import json_safe

        click.echo(json.dumps(json_safe(doc), indent=2))
        return
    click.echo(table(ev.summary))
    for p in ev.problems[:20]:
        click.echo(f"skipped: {p}", err=True)
    if len(ev.problems) > 20:
        click.echo(f"skipped: ... and {len(ev.problems) - 20} more (see report.json)", err=True)
    n_err = len(ev.summary.get("errors", []))
    click.echo(f"\n{ev.meta['images']} images, {len(ev.problems)} bad rows skipped, {n_err} analyses failed; "
               f"{ev.meta['computed']} computed, {ev.meta['from_cache']} from cache")
    click.echo(f"report: {ev.files.get('html')}  numbers: {ev.files.get('json')}  rows: {ev.files.get('rows')}")


@click.command("calibrate")
@click.argument("data", type=click.Path(exists=True))
@click.option("--out", "-o", type=click.Path(dir_okay=False), required=True,
              help="The fusion JSON to write (use it with --fusion).")
@click.option("--work", type=click.Path(file_okay=False), default=None,
              help="Folder for the cache and the validation report (default: OUT with .work).")
@click.option("--l2", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Regularisation strength of the logistic regression.")
@click.option("--max-false-generated", type=click.FloatRange(0, 1), default=0.02, show_default=True,
              help="Threshold choice: at most this share of real images called generated (per condition).")
@click.option("--max-false-real", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Threshold choice: at most this share of generated images called real (per condition).")
@_with_common
def calibrate_command(data, out, work, l2, max_false_generated, max_false_real, conditions, cues, jobs,
                      limit, seed, quiet, retry_errors) -> None:
    """Fit the fusion (how cue findings become a verdict) on your own labelled images.

    Fits a regularised logistic regression over each cue's score and whether it
    applied, validates it leave-one-generator-out, calibrates it (Platt) and
    chooses the "unsure" band on the held-out predictions. DATA is a folder
    (ai/, real/) or a manifest, as for `telltales eval`. Conditions default to
    all four, so the fit does not learn the file format.

    \b
    Examples:
      telltales calibrate train.tsv --out my-fusion.json
      telltales calibrate ./labelled --out my-fusion.json --jobs 2 --conditions asis,web
      telltales inspect photo.jpg --fusion my-fusion.json
    """
    from . import conditions as conds
    from .pipeline import calibrate

    fusion, ev = calibrate(
        data, out, work=work, conditions=conds.parse(conditions, default=conds.CONDITIONS),
        cues=_cue_list(cues), jobs=jobs, limit=limit, seed=seed, l2=l2,
        max_false_generated=max_false_generated, max_false_real=max_false_real, progress=not quiet,
        retry_errors=retry_errors,
    )
    result = {
        "fusion": str(out),
        "thresholds": fusion["thresholds"],
        "calibration": fusion["calibration"],
        "weights": fusion["weights"],
        "leave_one_group_out": fusion["record"]["logo_metrics"],
        "validation_report": ev.files.get("html"),
        "bad_rows": list(ev.problems),
    }
    click.echo(json.dumps(result, indent=2))
