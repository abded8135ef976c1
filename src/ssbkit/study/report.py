"""``ssbkit study report``: a static HTML report of a study, from its lab database.

``OUT/index.html`` shows the headline numbers against the literature, the process–property
table with its correlations and the Gaussian-process suggestion for the next experiment,
then every analysis with its figures. Each figure is written as PNG (shown) and SVG (linked),
with a caption and its provenance (analysis, input files by hash, ssbkit version,
settings). Tables go to ``OUT/tables/*.csv`` and every number to ``OUT/results.json``::

    {"study": {...}, "run": {...}, "headline": [{"quantity", "paper", "ssbkit", "unit", ...}],
     "process_property": [...], "correlations": [...], "suggestion": {...},
     "analyses": {"<id>": {"kind", "target", "status", "message", "summary"}},
     "figures": [{"file", "caption", "analysis"}], "provenance": {...}}

The report is built in a temporary folder beside ``OUT`` and renamed into place, so an
interrupted report never leaves a half-written one. A small script in the page counts the
images that failed to load and says so at the top (the headless-browser test reads it).
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError, SSBKitError
from ssbkit.core.results import Result, make_provenance, to_json_safe

__all__ = ["GENERATOR", "ReportResult", "headline_rows", "out_of_date", "process_property_frame",
           "write_report"]

#: The process parameters taken from a sample's milling and sintering tables.
PROCESS_PARAMETERS = {("milling", "frb_percent"): "frb [%]", ("milling", "bmr"): "bmr [1]",
                      ("milling", "speed_rpm"): "speed [rpm]", ("milling", "time_h"): "milling time [h]",
                      ("milling", "ball_diameter_mm"): "ball diameter [mm]",
                      ("sintering", "temperature_C"): "sintering temperature [°C]",
                      ("sintering", "time_h"): "sintering time [h]"}
#: The properties of a sample collected from the analyses of it and of its pellets.
PROPERTY_KINDS = {"conductivity": ("sigma_25C", "ea"), "electronic": ("sigma_electronic",),
                  "xrd": ("lattice_a", "size", "strain", "rwp")}

_SECTIONS = (("conductivity", "Ionic conductivity of pellets"), ("electronic", "Electronic conductivity"),
             ("xrd", "Diffraction (Rietveld)"), ("cycling", "Cycling"), ("rate", "Rate capability"),
             ("pressure", "Stack pressure"), ("drt", "Impedance during cycling (DRT)"),
             ("exsy", "Exchange NMR (EXSY)"))


@dataclass(frozen=True, kw_only=True)
class ReportResult(Result):
    """Where the report went and what it holds."""

    out: str
    n_figures: int
    n_tables: int
    headline: tuple[Mapping[str, Any], ...]


def _slug(text: str) -> str:
    """A file stem for ``text``: readable, and unique (ids that read alike get their own hash)."""
    import hashlib

    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")
    if readable == text:
        return readable
    return f"{readable}_{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def _quantity(summary: Mapping[str, Any], field: str) -> tuple[float | None, str | None]:
    entry = summary.get(field)
    if not isinstance(entry, Mapping) or entry.get("value") is None:
        return None, None
    return float(entry["value"]), entry.get("unit")


def headline_rows(manifest: Any, rows: Mapping[str, Mapping[str, Any]],
                  stale: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The manifest's ``[[headline]]`` numbers with what the stored analyses give
    (``up_to_date`` is False where the analysis no longer matches the manifest and files)."""
    from ssbkit.core.units import convert

    out = []
    for h in manifest.headline:
        f = h.fields
        row = rows.get(f["analysis"])
        result = (row or {}).get("result") or {}
        summary = result.get("summary") or {}
        value, unit = _quantity(summary, f["field"])
        note = ""
        if row is None:
            note = "analysis not run"
        elif value is None:
            where = "has no value" if f["field"] in summary else "is not in the analysis' summary"
            note = f"{f['field']!r} {where} ({row['status']}: {row['message']})".strip()
        elif unit and unit != f["unit"]:
            try:
                value = float(convert(value, unit, f["unit"]))
            except SSBKitError as exc:
                value, note = None, f"{manifest.path.name}:{h.line}: {exc}"
        paper = float(f["paper"])
        deviation = None if value is None or paper == 0 else 100.0 * (value - paper) / abs(paper)
        out.append({"quantity": f["quantity"], "paper": paper, "ssbkit": value, "unit": f["unit"],
                    "deviation_percent": deviation,
                    "within_5_percent": None if deviation is None else abs(deviation) <= 5.0,
                    "source": f.get("source", ""), "analysis": f["analysis"], "field": f["field"],
                    "up_to_date": f["analysis"] not in stale, "note": note})
    return out


def process_property_frame(manifest: Any, rows: Mapping[str, Mapping[str, Any]]) -> Any:
    """One row per sample: its process parameters and the properties measured on it.

    A sample measured more than once (two pellets, two scans) gets the mean of its values and
    an ``n <property>`` column with how many went into it; analyses are read in id order, so
    the table never depends on the order results were stored in.
    """
    import numpy as np
    import pandas as pd

    pellet_sample = {p.id: p.fields["sample"] for p in manifest.pellets}
    records: dict[str, dict[str, Any]] = {}
    for s in manifest.samples:
        record: dict[str, Any] = {"sample": s.id, "material": s.fields.get("material")}
        for (table, key), label in PROCESS_PARAMETERS.items():
            value = (s.fields.get(table) or {}).get(key)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            record[label] = float(value) if number else None
        records[s.id] = record
    values: dict[tuple[str, str], list[float]] = {}
    for _, row in sorted(rows.items()):
        result = row.get("result")
        if row["kind"] not in PROPERTY_KINDS or not result or row["status"] != "done":
            continue
        sample = pellet_sample.get(row["target"], row["target"])
        if sample not in records:
            continue
        summary = result.get("summary") or {}
        names = list(PROPERTY_KINDS[row["kind"]])
        if row["kind"] == "xrd":
            names += sorted(k for k in summary if k.startswith("wt_"))
        for name in names:
            value, unit = _quantity(summary, name)
            if value is not None:
                values.setdefault((sample, f"{name} [{unit}]" if unit else name), []).append(value)
    for (sample, label), found in values.items():
        records[sample][label] = float(np.mean(found))
        if len(found) > 1:
            records[sample][f"n {label}"] = len(found)
    frame = pd.DataFrame(list(records.values()))
    # keep the parameters that vary and the properties measured somewhere
    keep = [c for c in frame.columns if c in ("sample", "material") or frame[c].notna().any()]
    return frame[keep]


#: The GP's grid holds at most this many nodes (model.suggest_next's own limit).
_GRID_NODES = 250_000


def _model(frame: Any) -> tuple[Any, Any, list[str], str | None]:
    """Correlations and the GP suggestion, when the table has the columns for them; a study
    the model cannot take gives a note, never a failed report."""
    from ssbkit.study.model import correlate, suggest_next

    # the samples that were processed (a precursor or reference sample has no milling record)
    present = [c for c in PROCESS_PARAMETERS.values() if c in frame.columns and frame[c].notna().sum() >= 3]
    frame = frame.dropna(subset=present) if present else frame
    parameters = [c for c in present if frame[c].nunique() > 1]
    properties = [c for c in frame.columns if c not in ("sample", "material") and c not in parameters
                  and c not in PROCESS_PARAMETERS.values() and not c.startswith("n ")
                  and frame[c].notna().sum() >= 3]
    if not parameters or not properties:
        return None, None, [], "too few samples with varied process parameters for a model"
    try:
        correlations = correlate(frame, parameters=parameters, properties=properties)
    except InputError as exc:
        return None, None, [], f"no correlations: {exc}"
    target = next((c for c in properties if c.startswith("sigma_25C")), None)
    if target is None:
        return correlations, None, parameters, "no σ(25 °C) to model"
    rows = frame[frame[target].notna()]
    varied = [c for c in parameters if rows[c].nunique() > 1]
    if len(rows) < 3 or not varied:
        return (correlations, None, parameters,
                "fewer than 3 samples with σ(25 °C) and varied process parameters")
    # parameters laid out geometrically (FRB 5/10/20, BMR 20/40/80) are modelled on a log scale
    logs = tuple(c for c in varied if rows[c].min() > 0 and rows[c].max() >= 3 * rows[c].min())
    grid_points = max(3, min(41, int(_GRID_NODES ** (1 / len(varied)))))
    try:
        suggestion = suggest_next(rows.set_index("sample"), parameters=varied, target=target, maximize=True,
                                  log_parameters=logs, grid_points=grid_points, rng=0)
    except InputError as exc:
        return correlations, None, varied, f"no Gaussian-process model: {exc}"
    return correlations, suggestion, varied, None


def _suggestion_caption(s: Mapping[str, Any], parameters: list[str]) -> str:
    """What plot_suggestion draws for this many parameters."""
    target = s.get("target", "σ")
    if len(parameters) == 2:
        return (f"Gaussian-process model of {target} over {', '.join(parameters)}: mean and standard "
                "deviation, measured samples and the suggested next experiment (maximum expected "
                "improvement).")
    if len(parameters) == 1:
        return (f"Gaussian-process model of {target} against {parameters[0]}: mean ± 2 standard deviations, "
                "measured samples and the suggested next experiment (maximum expected improvement).")
    return (f"Gaussian-process model of {target} over {len(parameters)} parameters: leave-one-out prediction "
            "against the measured value for each sample (the suggestion is in the text).")


def _suggestion_text(s: Mapping[str, Any]) -> str:
    """One sentence a scientist acts on: where to mill next and what the model expects there."""
    point = ", ".join(f"{k.split(' [')[0]} = {v:.3g}" for k, v in s["next_point"].items())
    predicted, best = s["predicted"], s["best_measured"]
    unit = s.get("unit", "")
    text = (f"Next experiment: {point}; the model predicts {predicted['value']:.3g} ± "
            f"{predicted['stderr']:.2g} {unit} there (best measured: {s['best_sample']}, "
            f"{best['value']:.3g} {unit}; expected improvement "
            f"{s['expected_improvement']['value']:.2g} {unit}; "
            f"leave-one-out Q² = {s['q_squared']:.2f}).")
    return f"{text} {s['message']}".strip()


class _Writer:
    """Collects figures and tables into a folder and the HTML that shows them."""

    def __init__(self, folder: Path, formats: tuple[str, ...]) -> None:
        self.folder = folder
        self.formats = formats
        self.figures: list[dict[str, Any]] = []
        self.tables: list[str] = []
        (folder / "figures").mkdir(parents=True)
        (folder / "tables").mkdir()

    def figure(self, fig: Any, stem: str, caption: str, provenance: str, analysis: str | None) -> str:
        import matplotlib.pyplot as plt

        stem = _slug(stem)
        files = {}
        try:
            for fmt in self.formats:
                path = self.folder / "figures" / f"{stem}.{fmt}"
                fig.savefig(path, dpi=110, bbox_inches="tight",
                            metadata={"Software": None} if fmt == "png" else {"Date": None})
                files[fmt] = f"figures/{path.name}"
        finally:
            plt.close(fig)
        self.figures.append({"file": files.get("png") or next(iter(files.values())), "files": files,
                             "caption": caption, "analysis": analysis})
        links = " ".join(f'<a href="{html.escape(f)}">{fmt.upper()}</a>' for fmt, f in files.items())
        shown = files.get("png") or files.get("svg")
        return (f'<figure><img src="{html.escape(shown)}" alt="{html.escape(caption)}" loading="eager">'
                f"<figcaption>{html.escape(caption)} <span class=prov>{links} · {html.escape(provenance)}"
                f"</span></figcaption></figure>")

    def table(self, records: list[Mapping[str, Any]], stem: str) -> str:
        import pandas as pd

        if not records:
            return ""
        frame = pd.DataFrame(records)
        name = f"{_slug(stem)}.csv"
        frame.to_csv(self.folder / "tables" / name, index=False)
        self.tables.append(f"tables/{name}")
        return f'<div class=table>{_html_table(frame)}<a href="tables/{html.escape(name)}">CSV</a></div>'


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _html_table(frame: Any, limit: int = 60) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
                   for row in frame.head(limit).itertuples(index=False))
    more = (f"<p class=note>first {limit} of {len(frame)} rows; all in the CSV</p>"
            if len(frame) > limit else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _provenance_line(row: Mapping[str, Any], names: Mapping[str, str]) -> str:
    inputs = row["inputs"]
    pairs = list(zip(inputs.get("measurements", []), inputs.get("inputs", []), strict=False))
    extra_names = inputs.get("extra_measurements", {})
    pairs += [(extra_names.get(k, k), h) for k, h in sorted(inputs.get("extra", {}).items())]
    files = ", ".join(f"{names.get(m, m)} ({h.removeprefix('sha256:')[:10]})" for m, h in pairs)
    settings = ", ".join(f"{k}={v}" for k, v in sorted(row["settings"].items()))
    return f"{row['id']}; inputs: {files}; ssbkit {row['ssbkit_version']}; settings: {settings}"


_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0} td,th{border:1px solid #ddd;padding:2px 6px;
text-align:right} th{background:#f4f4f4} td:first-child,th:first-child{text-align:left}
figure{display:inline-block;vertical-align:top;width:48%;margin:.5em 1%} figure img{width:100%}
figcaption{font-size:.85em} .prov{color:#777;font-size:.85em;display:block} .note{color:#777;font-size:.85em}
.banner{background:#fff3cd;border:1px solid #e0c36c;padding:.5em 1em} .bad{background:#f8d7da}
.table{overflow-x:auto} .ok{color:#176c2e} .off{color:#a12622} #missing{display:none}"""

# The browser counts the images that did not load; a headless run reads the body's attributes.
_SCRIPT = """window.addEventListener('load',function(){var imgs=document.images,bad=0;
for(var i=0;i<imgs.length;i++){if(!imgs[i].complete||imgs[i].naturalWidth===0){bad++;}}
document.body.setAttribute('data-images',String(imgs.length));
document.body.setAttribute('data-images-missing',String(bad));
if(bad){var m=document.getElementById('missing');m.textContent=bad+' figure(s) failed to load.';
m.style.display='block';}});"""


#: Written into results.json: a folder holding it is a report, which a new report may replace.
GENERATOR = "ssbkit study report"


def out_of_date(manifest: Any, rows: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """The stored analyses whose key no longer matches the manifest and files (or that the
    manifest no longer asks for), and the analyses the manifest asks for that were never run."""
    from ssbkit.core.results import hash_file
    from ssbkit.study.pipeline import analysis_key, plan_analyses

    stored = {m.id: (hash_file(m.file), m.file) for m in manifest.measurements}
    keys = {t.id: analysis_key(t) for t in plan_analyses(manifest, stored)}
    stale = sorted(i for i, r in rows.items() if keys.get(i) != r["key"])
    return stale, sorted(set(keys) - set(rows))


def _check_out(out: Path, manifest: Any) -> None:
    """Refuse a report folder whose replacement would delete the study's files or anyone else's."""
    root = manifest.root
    protected = [root, manifest.path, root / ".ssbkit", *(m.file for m in manifest.measurements)]
    for path in protected:
        path = Path(path).resolve()
        if out == path or out in path.parents:
            raise InputError(f"the report would replace {path}, part of the study; choose another folder",
                             source="--out")
    if root / ".ssbkit" in out.parents or root / "raw" in out.parents:
        raise InputError("the report would go inside the study's stored or raw files; choose another folder",
                         source="--out")
    if out.exists():
        if not out.is_dir():
            raise InputError("exists and is not a folder", source="--out")
        if any(out.iterdir()):
            try:
                previous = json.loads((out / "results.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                previous = {}
            if not isinstance(previous, dict) or previous.get("generator") != GENERATOR:
                raise InputError(f"{out} holds files that are not an ssbkit report; a report replaces its "
                                 "folder whole, so give an empty or new folder", source="--out")


def write_report(root: str | os.PathLike[str], out: str | os.PathLike[str], *,
                 formats: tuple[str, ...] = ("png", "svg")) -> ReportResult:
    """Write the report of the study in ``root`` to the folder ``out`` (replaced whole; a
    folder that is not an earlier report, or that holds the study's files, is refused)."""
    import matplotlib

    from ssbkit.study.db import safe_url
    from ssbkit.study.kinds import analysis_kinds
    from ssbkit.study.manifest import load_manifest
    from ssbkit.study.pipeline import open_database

    matplotlib.use("Agg", force=False)
    matplotlib.rcParams["svg.hashsalt"] = "ssbkit"  # the same figure, the same SVG bytes
    if not formats:
        raise InputError("give at least one figure format: png and/or svg", source="--format")
    for fmt in formats:
        if fmt not in ("png", "svg"):
            raise InputError(f"unknown figure format {fmt!r}; use png and/or svg", source="--format")
    manifest = load_manifest(root)
    db = open_database(manifest)
    try:
        rows = db.analysis_rows()
        runs = db.runs()
        url = safe_url(db.url)
    finally:
        db.close()
    if not rows:
        raise InputError("the study has no analyses yet: run `ssbkit study run` first", source=manifest.root)
    out = Path(out).resolve()
    _check_out(out, manifest)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700: a report is for others to read
    try:
        result = _build(manifest, rows, runs, url, tmp, formats, analysis_kinds())
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ReportResult(success=True, message=result["message"], out=str(out), n_figures=result["n_figures"],
                        n_tables=result["n_tables"], headline=tuple(result["headline"]),
                        provenance=make_provenance("ssbkit.study.write_report", settings={"formats": formats},
                                                   files={"manifest": manifest.path}))


def _replace(tmp: Path, out: Path) -> None:
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def _build(manifest: Any, rows: Mapping[str, Any], runs: list[Mapping[str, Any]], url: str, folder: Path,
           formats: tuple[str, ...], kinds: Mapping[str, Any]) -> dict[str, Any]:
    from ssbkit import __version__

    w = _Writer(folder, formats)
    names = {m.id: str(m.fields["file"]) for m in manifest.measurements}
    parts: list[str] = []
    study = manifest.study
    finished = [r for r in runs if r.get("finished_at")]
    last_run = finished[-1] if finished else {}
    stale, never_run = out_of_date(manifest, rows)
    parts.append(f"<h1>{html.escape(study.name)}</h1><p>{html.escape(study.description or '')}</p>")
    if study.simulated:
        parts.append("<p class=banner>Every raw file of this study was simulated by ssbkit's own forward "
                     "models, with parameters taken from the published studies; the numbers show that ssbkit "
                     "recovers them from the files, not new measurements.</p>")
    parts.append("<p id=missing class='banner bad'></p>")
    if stale or never_run:
        parts.append("<p class='banner bad'>The manifest or raw files changed since the last run: "
                     + (f"{len(stale)} analyses are out of date ({html.escape(', '.join(stale))})"
                        if stale else "")
                     + ("; " if stale and never_run else "")
                     + (f"{len(never_run)} were never run ({html.escape(', '.join(never_run))})"
                        if never_run else "")
                     + ". Run <code>ssbkit study run</code> and report again.</p>")
    parts.append(f"<p class=note>ssbkit {html.escape(__version__)} · database {html.escape(url)} · last run "
                 f"{html.escape(str(last_run.get('finished_at') or last_run.get('started_at') or '–'))} "
                 f"({html.escape(str(last_run.get('workers', '')))})</p>")

    headline = headline_rows(manifest, rows, frozenset(stale))
    if headline:
        parts.append("<h2>Headline numbers: paper against ssbkit</h2>")
        cells = []
        for h in headline:
            mark = ("" if h["within_5_percent"] is None else
                    "<span class=ok>✓</span>" if h["within_5_percent"] else "<span class=off>✗</span>")
            cells.append("<tr>" + "".join(f"<td>{x}</td>" for x in (
                html.escape(h["quantity"]), _fmt(h["paper"]), _fmt(h["ssbkit"]), html.escape(h["unit"]),
                ("–" if h["deviation_percent"] is None else f"{h['deviation_percent']:+.2f}") + " " + mark,
                html.escape(h["source"]),
                html.escape(h["analysis"] + (f" ({h['note']})" if h["note"] else "")
                            + ("" if h["up_to_date"] else " (out of date)")))) + "</tr>")
        parts.append("<table><thead><tr><th>quantity</th><th>paper</th><th>ssbkit</th><th>unit</th>"
                     "<th>deviation [%]</th><th>source</th><th>from</th></tr></thead><tbody>"
                     + "".join(cells) + "</tbody></table>")
        w.table(headline, "headline")

    frame = process_property_frame(manifest, rows)
    correlations_json: list[Any] = []
    suggestion_json: Any = None
    parts.append("<h2>Process and properties</h2>")
    parts.append(w.table(frame.to_dict("records"), "process_property"))
    correlations, suggestion, parameters, why = _model(frame)
    if correlations is not None:
        from ssbkit.study.model import plot_correlations, plot_suggestion

        correlations_json = to_json_safe(correlations.to_frame().to_dict("records"))
        w.table(correlations_json, "correlations")
        parts.append(w.figure(plot_correlations(correlations), "process_correlations",
                              "Pearson correlation of each process parameter with each property, over the "
                              "samples of the study (n per pair in correlations.csv).",
                              "from the process-property table", None))
    if suggestion is not None:
        suggestion_json = to_json_safe(suggestion.to_dict())
        parts.append(w.figure(plot_suggestion(suggestion), "process_suggestion",
                              _suggestion_caption(suggestion_json, parameters),
                              "from the process-property table", None))
        parts.append(f"<p>{html.escape(_suggestion_text(suggestion_json))}</p>")
    if why:
        parts.append(f"<p class=note>{html.escape(why)}</p>")

    analyses_json: dict[str, Any] = {}
    for kind_name, title in _SECTIONS:
        section = [r for _, r in sorted(rows.items()) if r["kind"] == kind_name]
        if not section:
            continue
        parts.append(f"<h2>{html.escape(title)}</h2>")
        for row in section:
            result = row.get("result")
            analyses_json[row["id"]] = {"kind": row["kind"], "target": row["target"], "status": row["status"],
                                        "message": row["message"],
                                        "summary": (result or {}).get("summary", {}),
                                        "inputs": row["inputs"], "ssbkit_version": row["ssbkit_version"],
                                        "up_to_date": row["id"] not in stale}
            parts.append(f"<h3>{html.escape(row['id'])}"
                         + (" <span class=off>(out of date)</span>" if row["id"] in stale else "") + "</h3>")
            if row["status"] == "failed" or result is None:
                parts.append(f"<p class='banner bad'>failed: {html.escape(row['message'])}</p>")
                continue
            if row["message"]:
                parts.append(f"<p class=note>{html.escape(row['message'])}</p>")
            summary = result.get("summary") or {}
            if summary:
                parts.append(w.table([{"quantity": k, "value": v.get("value"), "stderr": v.get("stderr"),
                                       "unit": v.get("unit")} for k, v in summary.items()
                                      if isinstance(v, Mapping)], f"{row['id']}_summary"))
            for table_name, records in (result.get("tables") or {}).items():
                if records and len(records) <= 500:
                    parts.append(f"<p class=note>{html.escape(table_name)}</p>")
                    parts.append(w.table(records, f"{row['id']}_{table_name}"))
            kind = kinds.get(row["kind"])
            provenance = _provenance_line(row, names)
            for spec in (kind.figures(result) if kind is not None else []):
                parts.append(w.figure(spec.figure, f"{row['id']}_{spec.name}", spec.caption, provenance,
                                      row["id"]))
    failed = [r["id"] for r in rows.values() if r["status"] == "failed"]
    message = (f"{len(w.figures)} figures, {len(w.tables)} tables, {len(rows)} analyses"
               + (f", {len(failed)} failed" if failed else ""))
    document = ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
                f"<title>{html.escape(study.name)} — ssbkit report</title><style>{_STYLE}</style>"
                f"<script>{_SCRIPT}</script></head><body>{''.join(parts)}</body></html>")
    (folder / "index.html").write_text(document, encoding="utf-8")
    results = {"generator": GENERATOR, "out_of_date": stale, "never_run": never_run,
               "study": {"name": study.name, "description": study.description, "simulated": study.simulated},
               "run": to_json_safe(dict(last_run)) if last_run else None, "database": url,
               "headline": headline, "process_property": to_json_safe(frame.to_dict("records")),
               "correlations": correlations_json, "suggestion": suggestion_json, "analyses": analyses_json,
               "figures": w.figures, "tables": w.tables,
               "provenance": {"ssbkit_version": __version__, "manifest": str(manifest.path)}}
    (folder / "results.json").write_text(json.dumps(to_json_safe(results), indent=1, ensure_ascii=False),
                                         encoding="utf-8")
    return {"message": message, "n_figures": len(w.figures), "n_tables": len(w.tables), "headline": headline}
