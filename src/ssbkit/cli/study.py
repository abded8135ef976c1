"""``ssbkit study`` and ``ssbkit demo``: a study's manifest, its analyses and its report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ssbkit.cli._common import json_option, names_options


class _Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self) -> None:
        self.shown = sys.stderr.isatty()

    def __call__(self, done: int, total: int, current: str) -> None:
        if not self.shown:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {done}/{total} {current[:40]:<40}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


@click.group()
def study() -> None:
    """A study: samples, pellets, cells and measurements in a manifest, analysed into a lab database
    and a report.

    Example:

        ssbkit study init my-study
    """


@study.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@json_option
def init_command(directory: Path, as_json: bool) -> None:
    """Write a commented study.toml template (and a raw/ folder) into DIRECTORY.

    Every table and key is explained in the template, with its unit in its name. An existing
    study.toml is never overwritten.

    Example:

        ssbkit study init my-study
    """
    from ssbkit.study.template import write_template

    path = write_template(directory)
    if as_json:
        click.echo(json.dumps({"manifest": str(path)}))
    else:
        click.echo(f"wrote {path}: describe the samples, pellets, cells and measurements there, then run "
                   f"'ssbkit study run {directory}'")


@study.command("run")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--workers", type=int, default=1, show_default=True, metavar="N",
              help="Run the analyses on a local Dask cluster of N worker processes (1: in this process).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run on a running Dask cluster instead (its workers must see the study folder).")
@click.option("--force", is_flag=True, help="Recompute every analysis, changed or not.")
@json_option
@names_options()
def run_command(directory: Path, workers: int, scheduler: str | None, force: bool, as_json: bool) -> None:
    """Ingest and analyse the study in DIRECTORY (its study.toml), incrementally.

    Raw files are stored by content hash in DIRECTORY/.ssbkit, the manifest's entities and
    every result go to the lab database (SQLite at DIRECTORY/.ssbkit/lab.sqlite unless the
    manifest names another), and only the analyses whose inputs, settings or ssbkit version
    changed are run. A failed analysis is reported and the rest completes. The JSON holds
    `analysed`, `recomputed`, `unchanged` and `failed`.

    Example:

        ssbkit study run examples/study --json

        ssbkit study run examples/study --workers 2 --force
    """
    from ssbkit.study.pipeline import run_study

    if workers != 1 and scheduler is not None:
        raise click.UsageError("give --workers or --scheduler, not both")
    report = run_study(directory, workers=workers, scheduler=scheduler, force=force, progress=_Progress())
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{report.study}: {report.message} ({report.workers}; database {report.database})")
    for failure in report.failed:
        click.echo(f"  failed {failure['analysis']}: {failure['message']}")
    for item in report.incomplete:
        click.echo(f"  incomplete {item['analysis']}: {item['message']}")


@study.command("report")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), metavar="OUT",
              help="Folder for index.html, figures/, tables/ and results.json (replaced whole).")
@click.option("--format", "formats", default="png,svg", show_default=True, metavar="png,svg",
              help="Figure formats; the page shows PNG and links SVG.")
@json_option
def report_command(directory: Path, out: Path, formats: str, as_json: bool) -> None:
    """Write the static HTML report of the study in DIRECTORY from its lab database.

    The headline numbers against the papers' values, the process-property table with its
    correlations and the Gaussian-process suggestion for the next experiment, then every
    analysis with its figures (PNG and SVG, each with a caption and its provenance) and
    tables (CSV). All numbers are in OUT/results.json.

    Example:

        ssbkit study run examples/study

        ssbkit study report examples/study --out study-report --format png
    """
    from ssbkit.cli._common import split_list
    from ssbkit.study.report import write_report

    result = write_report(directory, out, formats=tuple(split_list(formats)))
    if as_json:
        click.echo(json.dumps({"out": result.out, "figures": result.n_figures, "tables": result.n_tables,
                               "headline": list(result.headline)}, indent=2, ensure_ascii=False))
    else:
        click.echo(f"wrote {Path(result.out) / 'index.html'}: {result.message}")


def _headline_lines(headline: Any) -> list[str]:
    lines = [f"{'quantity':<44} {'paper':>9} {'ssbkit':>9}  unit      dev."]
    for h in headline:
        value = "–" if h["ssbkit"] is None else f"{h['ssbkit']:.4g}"
        dev = "" if h["deviation_percent"] is None else f"{h['deviation_percent']:+.1f} %"
        lines.append(f"{h['quantity'][:44]:<44} {h['paper']:>9.4g} {value:>9}  {h['unit']:<8} {dev}")
    return lines


@click.command("demo")
@click.option("--out", "out", default="ssbkit-demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder for the example study (DIR/study) and its report (DIR/report).")
@click.option("--workers", type=int, default=1, show_default=True, metavar="N",
              help="Dask worker processes for the analyses (1: in this process).")
@json_option
@names_options()
def demo(out: Path, workers: int, as_json: bool) -> None:
    """Write the bundled example study, analyse it and report it.

    The example is simulated by ssbkit's own forward models with the two studies' parameters
    (a 3 × 3 FRB × BMR milling grid with impedance and XRD of each sample, two Li2TiS3 cells
    cycled 200 and 400 times with in-situ impedance and stack pressure, EXSY build-ups at
    five temperatures) in instrument formats, and says so in its report. The report compares
    the papers' numbers with what ssbkit derives from the files.

    Example:

        ssbkit demo --out ssbkit-demo
    """
    from ssbkit.study.example import write_example_study
    from ssbkit.study.pipeline import run_study
    from ssbkit.study.report import write_report

    study_dir = out / "study"
    if not (study_dir / "study.toml").exists():
        write_example_study(study_dir)
    run = run_study(study_dir, workers=workers, progress=_Progress())
    report = write_report(study_dir, out / "report")
    if as_json:
        click.echo(json.dumps({"study": str(study_dir), "run": run.to_dict(), "report": report.out,
                               "headline": list(report.headline)}, indent=2, ensure_ascii=False))
        return
    click.echo(f"study {study_dir}: {run.message}")
    for line in _headline_lines(report.headline):
        click.echo(line)
    click.echo(f"report: {Path(report.out) / 'index.html'}")
