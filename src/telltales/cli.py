"""The command line: one command tree, generated from the registry where it can be."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .errors import TelltalesError
from .limits import DEFAULT_MAX_PIXELS


def _cue_list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


cues_option = click.option(
    "--cues", metavar="IDS",
    help="Comma-separated cue ids or prefixes to run (default: all). Example: provenance,noise.jpeg",
)
fusion_option = click.option(
    "--fusion", type=click.Path(dir_okay=False), default=None,
    help="A fusion JSON file (from `telltales calibrate`) instead of the shipped one.",
)
max_pixels_option = click.option(
    "--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS, show_default=True,
    help="The pixel budget: a JPEG over it is decoded at 1/2, 1/4 or 1/8 scale, anything else over it is refused.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="telltales")
def cli() -> None:
    """Tell whether an image was made by an AI image generator, and show why.

    \b
    Examples:
      telltales inspect photo.jpg
      telltales inspect a.png b.jpg --json
      telltales scan ./folder --out results.jsonl --jobs 2
      telltales taxonomy
      telltales eval ./labelled --out report/
      telltales calibrate train.tsv --out my-fusion.json
      telltales serve --port 8080
      telltales doctor
    """


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="One JSON object per image (JSON Lines).")
@click.option("--verbose", "-v", is_flag=True, help="Show every cue and every manual check.")
@click.option("--overlay", type=click.Path(file_okay=False), default=None,
              help="Write a PNG per image with the evidence regions drawn on it into this folder.")
@click.option("--profile", type=click.Choice(["full", "triage"]), default="full", show_default=True,
              help="triage: provenance and the CLIP detector at one view first; the full inspection "
                   "only if that leaves the image unsure.")
@click.option("--base-rate", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="Also give p_generated for a collection in which this share of pictures is "
                   "generated (p_generated itself assumes half; the verdict does not change).")
@cues_option
@fusion_option
@max_pixels_option
def inspect(files, as_json, verbose, overlay, profile, base_rate, cues, fusion, max_pixels) -> None:
    """Analyse images and say: generated, real or unsure, and why.

    FILES are image paths; "-" reads one image from standard input.

    \b
    Examples:
      telltales inspect photo.jpg
      telltales inspect a.png b.jpg --json
      curl -s https://example.org/x.jpg | telltales inspect -
      telltales inspect photo.jpg --cues provenance --overlay out/
      telltales inspect photo.jpg --base-rate 0.01

    Results go to stdout, errors to stderr. With --json a file that could not
    be analysed still gets its row, with verdict "error".
    Exits 1 if any file could not be analysed (its result says why).
    """
    from .api import inspect as inspect_one
    from .fusion import Fusion, p_at_base_rate
    from .report import render_text

    if overlay and "-" in files:
        raise click.UsageError("--overlay needs files: it cannot be used with - (standard input)")
    fus = Fusion.load(fusion)
    failed = 0
    color = use_color(sys.stdout)
    shown = 0
    for path in files:
        source = sys.stdin.buffer if path == "-" else path
        report = inspect_one(source, cues=_cue_list(cues), fusion=fus, max_pixels=max_pixels, on_error="report",
                             profile=profile)
        if report.error is not None:
            failed += 1
            click.echo(f"Error: {error_line(report.error, path)}", err=True)
        if as_json:
            row = report.to_dict()
            if base_rate is not None:
                at_rate = p_at_base_rate(report.p_generated, base_rate)
                row["p_generated_at_base_rate"] = None if at_rate is None else {"base_rate": base_rate, "p": at_rate}
            click.echo(json.dumps(row, ensure_ascii=False))
        elif report.error is None:
            if shown:
                click.echo()
            shown += 1
            click.echo(render_text(report, verbose=verbose, color=color, base_rate=base_rate))
        if overlay and report.error is None:
            from .overlay import write_overlay

            out = write_overlay(path, report, Path(overlay))
            if not as_json:
                click.echo(f"  overlay: {out}")
    if failed:
        sys.exit(1)


def use_color(stream) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to anything (no-color.org)."""
    return bool(stream.isatty()) and not os.environ.get("NO_COLOR")


def error_line(message: str, path: str) -> str:
    """The error for one file, naming it once: the message already starts with the path when it has one."""
    name = "<stdin>" if path == "-" else path
    return message if message.startswith(name) else f"{name}: {message.removeprefix('input: ')}"


SCAN_EXIT_FAILED = 3  # some files could not be analysed: their rows carry an "error"
SCAN_EXIT_EMPTY = 4  # the inputs matched no image file


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False),
              help="JSON Lines file; an existing one is resumed (done paths are skipped). "
                   "A file that is not a telltales JSON Lines file is refused, untouched.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Also write a CSV summary of every row in --out.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Parallel worker processes.")
@click.option("--no-recursive", is_flag=True, help="Do not descend into sub-folders.")
@click.option("--retry-errors", is_flag=True,
              help="Analyse again the files whose row in --out is an error (the new row wins).")
@click.option("--parquet", "parquet_path", type=click.Path(dir_okay=False), default=None,
              help="Also write a Parquet table of every row in --out (one row per image, one "
                   "status and strength column per cue; needs pyarrow).")
@click.option("--profile", type=click.Choice(["full", "triage"]), default="full", show_default=True,
              help="triage: provenance and the CLIP detector at one view first; only images that "
                   "leave unsure get the full inspection.")
@click.option("--ray", "ray_address", metavar="ADDRESS", default=None, is_flag=False, flag_value="local",
              help="Run on Ray: --ray alone starts a local Ray with --jobs CPUs; --ray auto or "
                   "--ray ray://host:port joins a cluster (paths must be readable on every node).")
@click.option("--base-rate", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="Add a p_generated_at_base_rate column to --csv and --parquet: p_generated for a "
                   "collection in which this share of pictures is generated (the JSON Lines keep p at "
                   "equal odds; verdicts do not change).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@cues_option
@fusion_option
@max_pixels_option
def scan(inputs, out, csv_path, jobs, no_recursive, retry_errors, parquet_path, profile, ray_address, base_rate,
         quiet, cues, fusion, max_pixels) -> None:
    """Analyse a folder or glob of any size into a JSON Lines file, resumably.

    Each result is written as soon as it is computed; run the same command again
    after a crash and it continues where it stopped. Bad files become rows with
    verdict "error" and an "error" message. Prints a JSON summary at the end.
    Two scans cannot write one output at once (a lock file, <out>.lock, says
    which pid holds it).

    \b
    Examples:
      telltales scan ./photos --out results.jsonl --jobs 2
      telltales scan "shots/**/*.jpg" --out results.jsonl --csv results.csv
      telltales scan ./photos --out results.jsonl --retry-errors
      telltales scan ./archive --out results.jsonl --profile triage --parquet results.parquet
      telltales scan ./archive --out results.jsonl --ray auto
      telltales scan ./inbox --out results.jsonl --csv results.csv --base-rate 0.02

    \b
    Exit codes:
      0  every file was analysed
      1  an error stopped the scan (the output is refused, cannot be written or
         is locked by another scan; a bad option value)
      2  a usage error (a missing or unknown option)
      3  some files could not be analysed (rows with "error"; see --retry-errors)
      4  the inputs matched no image file
    """
    from .scan import scan as run_scan
    from .scan import write_csv

    if base_rate is not None and not (csv_path or parquet_path):
        raise click.UsageError("--base-rate adds a column to --csv or --parquet; give one of them "
                               "(the JSON Lines keep p_generated at equal odds)")
    summary = run_scan(
        inputs, out, jobs=jobs, cues=_cue_list(cues), fusion=fusion, max_pixels=max_pixels,
        progress=not quiet, recursive=not no_recursive, retry_errors=retry_errors,
        profile=profile, ray=ray_address,
    )
    result = summary.to_dict()
    result["out"] = str(out)
    if csv_path:
        result["csv_rows"] = write_csv(out, csv_path, base_rate=base_rate)
        result["csv"] = str(csv_path)
    if parquet_path:
        from .tables import write_parquet

        result["parquet_rows"] = write_parquet(out, parquet_path, base_rate=base_rate)
        result["parquet"] = str(parquet_path)
    if base_rate is not None:
        result["base_rate"] = base_rate
    click.echo(json.dumps(result, indent=2))
    if summary.total == 0:
        click.echo("Warning: the inputs matched no image file: " + " ".join(inputs), err=True)
        sys.exit(SCAN_EXIT_EMPTY)
    if summary.parts_missing.get("noise.clip"):
        click.echo(f"Warning: the CLIP detector did not run on {summary.parts_missing['noise.clip']} image(s) "
                   "(a part is missing or failed its check; `telltales doctor` says which): their verdicts "
                   "rest on weaker cues", err=True)
    if summary.failed:
        click.echo(f"Warning: {summary.failed} file(s) could not be analysed (rows with \"error\" in "
                   f"{out}; --retry-errors tries them again)", err=True)
        sys.exit(SCAN_EXIT_FAILED)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list.")
@click.option("--manual", is_flag=True, help="Only the items a person must check.")
def taxonomy(as_json, manual) -> None:
    """The checklist: every cue of the taxonomy, automated or manual.

    \b
    Examples:
      telltales taxonomy
      telltales taxonomy --json
    """
    from .registry import all_cues
    from .taxonomy import CATEGORIES, ITEMS

    registered = {c.id: c for c in all_cues()}
    rows = []
    for item in ITEMS:
        c = registered.get(item.id)
        if manual and c:
            continue
        rows.append({
            "id": item.id, "category": item.category,
            "automated": c is not None, "version": c.version if c else None,
            "needs": list(c.needs) if c else [], "failure": item.failure,
            "check": c.summary if c else item.guidance,
        })
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for cat, title in CATEGORIES.items():
        group = [r for r in rows if r["category"] == cat]
        if not group:
            continue
        click.echo(title)
        for r in group:
            mark = "auto  " if r["automated"] else "manual"
            click.echo(f"  [{mark}] {r['id']:<30} {r['failure']}")
    n_auto = sum(r["automated"] for r in rows)
    click.echo(f"\n{n_auto} automated, {len(rows) - n_auto} manual")


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(["sd-png", "camera-jpeg", "plain-png"]), default="sd-png",
              show_default=True, help="Which example to make.")
def example(out, kind) -> None:
    """Write a synthetic example image to try telltales on.

    sd-png carries the generation parameters Stable Diffusion web UIs write;
    camera-jpeg carries camera EXIF; plain-png carries no metadata.

    \b
    Examples:
      telltales example example.png && telltales inspect example.png
      telltales example cam.jpg --kind camera-jpeg
    """
    from .example import make_example

    Path(out).write_bytes(make_example(kind))
    click.echo(out)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per part.")
def doctor(as_json) -> None:
    """Check that every part of this install is there and computes what it should.

    Loads the detector's backbone and runs its known-answer picture (a CPU whose
    arithmetic differs is named), loads the landmark models, reads a word drawn
    for the OCR, checks the fusion against the installed cue versions, and
    imports the optional extras. A part that is missing or failed lists the cues
    that are not applicable without it.

    \b
    Examples:
      telltales doctor
      telltales doctor --json

    Exits 0 when every part is ok, 1 otherwise.
    """
    from .doctor import render, run_checks

    checks = run_checks()
    if as_json:
        for c in checks:
            click.echo(json.dumps(c.to_dict(), ensure_ascii=False))
    else:
        click.echo(render(checks))
    if any(c.status != "ok" for c in checks):
        sys.exit(1)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 opens it to the network: set --password then).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port.")
@click.option("--db", "db", metavar="URL", default=None,
              help="Case database: an SQLAlchemy URL such as sqlite:///cases.sqlite or "
                   "postgresql://user:pw@host/db (default: an SQLite file in ~/.local/share/telltales).")
@click.option("--images", type=click.Path(file_okay=False), default=None,
              help="Folder to keep uploaded images in, by sha256 (default: ~/.local/share/telltales/images).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Analysis processes (each holds the models: about 1-2 GB).")
@click.option("--queue", type=click.IntRange(0, 1000), default=2, show_default=True,
              help="Uploads that may wait for a worker; beyond that the server answers 503.")
@click.option("--max-upload-mb", type=click.IntRange(1, 1024), default=50, show_default=True,
              help="Largest upload in MiB (413 above it).")
@max_pixels_option
@click.option("--time-limit", type=click.FloatRange(min=1), default=180.0, show_default=True,
              help="Seconds one analysis may take before it is stopped (504).")
@click.option("--password", envvar="TELLTALES_PASSWORD", default=None,
              help="Require this password (HTTP Basic auth in the browser, X-API-Key header for "
                   "the API). Also read from $TELLTALES_PASSWORD.")
@click.option("--base-rate", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="Also show p_generated where this share of uploads is generated (pages, API, "
                   "CSV); an API call can ask for another with ?base_rate=. Verdicts do not change.")
@cues_option
@fusion_option
def serve(host, port, db, images, workers, queue, max_upload_mb, max_pixels, time_limit, password,
          base_rate, cues, fusion) -> None:
    """The reviewer's web app: upload images, see the evidence, answer the checklist, keep cases.

    \b
    Examples:
      telltales serve                       # then open http://127.0.0.1:8080/
      telltales serve --db postgresql://me@localhost/telltales --images /srv/telltales
      telltales serve --base-rate 0.02      # about 1 in 50 uploads is generated
      curl -F file=@photo.jpg http://127.0.0.1:8080/api/inspect
      curl --data-binary @photo.jpg "http://127.0.0.1:8080/api/inspect?cues=provenance"
    API documentation: http://127.0.0.1:8080/docs
    """
    try:
        from .serve import serve as run_server
        from .web.settings import MiB, Settings
    except ImportError as exc:
        raise TelltalesError(f"the web app needs {exc.name}: pip install 'telltales[serve]'") from None

    if cues:
        from .registry import select

        select(_cue_list(cues))  # an unknown cue id stops here, not on the first upload
    settings = Settings.make(db, images, workers=workers, queue=queue,
                             max_upload_bytes=max_upload_mb * MiB, max_pixels=max_pixels,
                             time_limit_s=time_limit, password=password, fusion=fusion,
                             cues=tuple(_cue_list(cues)) if cues else None, warm_up=True,
                             base_rate=base_rate)
    if host not in ("127.0.0.1", "localhost", "::1") and not password:
        click.echo("warning: listening beyond this machine without --password", err=True)
    click.echo(f"telltales: http://{host}:{port}/  (API docs at /docs)", err=True)
    run_server(settings, host, port)


from .evaluate.cli import calibrate_command, eval_command  # noqa: E402 - after the core commands

cli.add_command(eval_command)
cli.add_command(calibrate_command)


def main() -> None:
    from .quiet import keep_library_warnings_off_stderr

    keep_library_warnings_off_stderr()
    try:
        cli.main(standalone_mode=False)
    except TelltalesError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main()
