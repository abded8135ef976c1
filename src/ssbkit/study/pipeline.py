"""``ssbkit study run``: ingest a study's raw files and analyse everything, incrementally,
serially or on a Dask cluster.

One run:

1. reads and validates the manifest (errors name its line);
2. copies every raw file into the content-addressed store and writes the manifest's
   samples, pellets, cells and measurements to the database in one transaction;
3. plans the analyses (``ssbkit.study.kinds``); each gets a key, the SHA-256 of what its
   answer depends on: the kind, the ssbkit version, its settings, the manifest fields of
   its target and the hashes and conditions of its input files;
4. runs the analyses whose key is not in the database (all of them with ``force``), in
   this process or on Dask workers, and stores each result the moment it arrives, in its
   own transaction.

So a run without changes recomputes nothing; a changed file or setting recomputes only the
analyses that read it; a run killed part-way (even by SIGKILL) keeps what it finished and
the next run does the rest. A failed analysis (a bad file) is stored as failed with its
message and the others go on; it is tried again only when something it depends on changes
(or with ``force``).

Analyses are pure functions of their task and run with one BLAS thread, so a serial run and
a run on any number of Dask workers store identical results. Workers read the stored copies
under ``DIR/.ssbkit/objects``: a remote cluster (``scheduler="tcp://host:port"``) must see
the study folder at the same path (a shared file system).
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError, SSBKitError
from ssbkit.core.results import Result, hash_file, hash_value, make_provenance, to_json_safe
from ssbkit.study.db import LabDatabase, default_url, safe_url
from ssbkit.study.kinds import AnalysisTask, TaskInput, analysis_kinds
from ssbkit.study.store import ObjectStore

__all__ = ["RunReport", "analysis_key", "execute", "open_database", "plan_analyses", "run_study"]

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, kw_only=True)
class RunReport(Result):
    """What a run did.

    ``analysed`` counts the analyses now stored as done, ``recomputed`` names the ones run this
    time, ``incomplete`` holds ``{"analysis", "message"}`` for those that ran but gave no full
    result (a fit that did not converge, a record without a complete cycle), ``failed`` those
    whose stored state is failed (this run's and earlier ones still failing), ``unchanged``
    counts the ones skipped because their key had not changed, ``removed`` the stored analyses
    the manifest no longer asks for.

    Statuses in the database: ``done``, ``incomplete``, ``failed`` (bad input: tried again
    only when something it reads changes) and ``error`` (anything else, a bug or a lost
    worker: tried again by the next run).
    """

    study: str
    database: str
    workers: str
    planned: int
    analysed: int
    unchanged: int
    recomputed: tuple[str, ...] = field(default_factory=tuple)
    failed: tuple[Mapping[str, str], ...] = field(default_factory=tuple)
    incomplete: tuple[Mapping[str, str], ...] = field(default_factory=tuple)
    removed: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return to_json_safe({
            "study": self.study, "database": self.database, "workers": self.workers, "planned": self.planned,
            "analysed": self.analysed, "unchanged": self.unchanged, "recomputed": list(self.recomputed),
            "failed": [dict(f) for f in self.failed], "incomplete": [dict(f) for f in self.incomplete],
            "removed": list(self.removed),
            "success": self.success, "message": self.message, "provenance": self.provenance})


def open_database(manifest: Any) -> LabDatabase:
    """The study's database: the manifest's URL (a relative SQLite path is taken from the
    study folder, not from where the command runs), else SQLite in ``DIR/.ssbkit``."""
    url = manifest.study.database
    if not url:
        return LabDatabase(default_url(manifest.root))
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        raise InputError(f"[study] database is not a database URL: {url!r}", source=manifest.path) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not Path(parsed.database).is_absolute():
        url = parsed.set(database=str((manifest.root / parsed.database).resolve())).render_as_string(
            hide_password=False)
    return LabDatabase(url)


# -- planning -------------------------------------------------------------------------------
def _settings_for(manifest: Any, kind: Any, target: str) -> dict[str, Any]:
    settings = dict(manifest.settings.get(kind.name, kind.defaults))
    override = manifest.by_id(target).fields.get("settings") or {}
    settings.update({k: v for k, v in override.items() if k in kind.defaults})
    return settings


def _task_input(measurement: Any, stored: Mapping[str, tuple[str, Path]]) -> TaskInput:
    digest, path = stored[measurement.id]
    conditions = dict(measurement.conditions)
    if measurement.temperature_C is not None:
        conditions.setdefault("temperature_C", measurement.temperature_C)
    return TaskInput(measurement=measurement.id, path=str(path), name=str(measurement.fields["file"]),
                     sha256=digest, conditions=conditions)


def plan_analyses(manifest: Any, stored: Mapping[str, tuple[str, Path]]) -> list[AnalysisTask]:
    """The analyses the manifest asks for, one task each, sorted by id.

    ``stored`` maps a measurement id to the digest and stored path of its file.
    """
    kinds = analysis_kinds()
    groups: dict[str, list[Any]] = {}
    for m in manifest.measurements:
        groups.setdefault(m.analysis_id, []).append(m)
    tasks: list[AnalysisTask] = []
    for analysis_id, members in sorted(groups.items()):
        name = members[0].analysis_kind
        kind = kinds[name]
        target = members[0].owner
        extra: dict[str, TaskInput] = {}
        if name == "pressure":  # the manifest has checked that there is exactly one
            extra["cycling"] = _task_input(manifest.cycling_record(members[0].id), stored)
        tasks.append(AnalysisTask(
            id=analysis_id, kind=name, target=target,
            inputs=tuple(_task_input(m, stored) for m in sorted(members, key=lambda m: m.id)),
            settings=_settings_for(manifest, kind, target), context=manifest.context(target), extra=extra))
    return tasks


#: Manifest fields that are notes for people: editing them changes no result. Per-entity
#: ``settings`` reach an analysis through ``task.settings``, already in the key.
_FREE_TEXT = frozenset({"description", "notes", "date", "instrument", "settings"})


def _without_free_text(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_free_text(v) for k, v in value.items() if k not in _FREE_TEXT}
    return value


def analysis_key(task: AnalysisTask) -> str:
    """What an analysis' answer depends on, hashed: never the stored paths, which are local,
    nor the manifest's free text (descriptions, notes, dates, instrument names)."""
    from ssbkit import __version__

    def describe(i: TaskInput) -> dict[str, Any]:
        return {"measurement": i.measurement, "name": i.name, "sha256": i.sha256,
                "conditions": _without_free_text(i.conditions)}

    return hash_value({"ssbkit": __version__, "kind": task.kind, "target": task.target,
                       "settings": task.settings, "context": _without_free_text(task.context),
                       "inputs": [describe(i) for i in task.inputs],
                       "extra": {k: describe(v) for k, v in sorted(task.extra.items())}})


# -- running --------------------------------------------------------------------------------
def execute(task: AnalysisTask) -> dict[str, Any]:
    """Run one analysis; never raises. Gives ``{"status", "message", "result", "duration_s"}``.

    A bad input file is a failure with the reader's message; any other exception is one too,
    with its type and place (a bug to report, but the rest of the study still runs).
    """
    from ssbkit.study.kinds import get_kind

    start = time.perf_counter()
    try:
        with _one_blas_thread():
            result = get_kind(task.kind).run(task)
        status = "done" if result.get("success", True) else "incomplete"
        out = {"status": status, "message": str(result.get("message", "")), "result": to_json_safe(result)}
    except SSBKitError as exc:  # the input is at fault: the same input fails the same way
        out = {"status": "failed", "message": str(exc), "result": None}
    except Exception as exc:  # a bug or the machine (memory): kept, and tried again next run
        where = traceback.extract_tb(exc.__traceback__)[-1]
        out = {"status": "error", "result": None,
               "message": f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"}
    # readers name the file they read, the stored copy: say the file the manifest names
    for given in (*task.inputs, *task.extra.values()):
        out["message"] = out["message"].replace(given.path, given.name)
    out["duration_s"] = time.perf_counter() - start
    return out


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with the study extra
        yield
        return
    with threadpool_limits(limits=1):
        yield


@contextlib.contextmanager
def _study_lock(root: Path) -> Iterator[None]:
    """One run at a time per study; the OS drops the lock when a killed run's process dies."""
    folder = root / ".ssbkit"
    folder.mkdir(parents=True, exist_ok=True)
    handle = (folder / "run.lock").open("a")
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError("another `ssbkit study run` is working on this study; wait for it",
                             source=root) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _entity_rows(manifest: Any, stored: Mapping[str, tuple[str, Path]]) -> dict[str, list[dict[str, Any]]]:
    import json

    def base(e: Any) -> dict[str, Any]:
        return {"id": e.id, "line": e.line, "fields_json": json.dumps(to_json_safe(e.fields), sort_keys=True)}

    def num(value: Any) -> float | None:
        return None if value is None or isinstance(value, bool) else float(value)

    rows: dict[str, list[dict[str, Any]]] = {"materials": [], "samples": [], "pellets": [], "cells": [],
                                             "measurements": []}
    for m in manifest.materials:
        rows["materials"].append(base(m) | {"composition": m.fields["composition"],
                                            "role": m.fields.get("role")})
    for s in manifest.samples:
        mill, sinter = s.fields.get("milling") or {}, s.fields.get("sintering") or {}
        rows["samples"].append(base(s) | {
            "material_id": s.fields["material"], "frb_percent": num(mill.get("frb_percent")),
            "bmr": num(mill.get("bmr")), "speed_rpm": num(mill.get("speed_rpm")),
            "milling_time_h": num(mill.get("time_h")), "ball_diameter_mm": num(mill.get("ball_diameter_mm")),
            "ball_material": mill.get("ball_material"), "jar_ml": num(mill.get("jar_ml")),
            "sintering_temperature_C": num(sinter.get("temperature_C")),
            "sintering_time_h": num(sinter.get("time_h")),
            "sintering_ramp_C_per_min": num(sinter.get("ramp_C_per_min"))})
    for p in manifest.pellets:
        f = p.fields
        rows["pellets"].append(base(p) | {
            "sample_id": f["sample"], "diameter_mm": num(f["diameter_mm"]),
            "thickness_mm": num(f["thickness_mm"]),
            "mass_mg": num(f.get("mass_mg")), "pressing_pressure_MPa": num(f.get("pressing_pressure_MPa"))})
    for c in manifest.cells:
        f = c.fields
        rows["cells"].append(base(c) | {
            "electrolyte_id": f.get("electrolyte"), "cathode_active": f.get("cathode_active"),
            **{k: num(f.get(k)) for k in ("active_mass_mg", "composite_mass_mg", "active_fraction",
                                          "loading_mg_cm2", "area_cm2", "electrolyte_mass_mg",
                                          "stack_pressure_MPa")},
            "anode": f.get("anode")})
    for m in manifest.measurements:
        owner = {"sample_id": None, "pellet_id": None, "cell_id": None}
        owner[f"{m.owner_kind}_id"] = m.owner
        rows["measurements"].append(base(m) | owner | {
            "technique": m.technique, "file": str(m.fields["file"]), "sha256": stored[m.id][0],
            "temperature_C": num(m.temperature_C)})
    return rows


def _ingest(manifest: Any, db: LabDatabase, store: ObjectStore) -> dict[str, tuple[str, Path]]:
    store.clean()
    stored: dict[str, tuple[str, Path]] = {}
    blobs = []
    for m in manifest.measurements:
        digest, path = store.add(m.file)
        stored[m.id] = (digest, path)
        blobs.append({"sha256": digest, "size": path.stat().st_size, "suffix": path.suffix,
                      "first_name": str(m.fields["file"])})
    db.replace_entities(_entity_rows(manifest, stored), blobs)
    return stored


def run_study(root: str | os.PathLike[str], *, workers: int = 1, scheduler: str | None = None,
              force: bool = False, progress: Progress | None = None) -> RunReport:
    """Ingest and analyse the study in ``root`` (see the module docstring).

    ``workers`` > 1 starts a local Dask cluster of that many single-threaded processes;
    ``scheduler`` (``tcp://host:port``) uses a running Dask cluster instead. ``progress``
    is called as ``progress(done, total, analysis_id)``.
    """
    from ssbkit import __version__
    from ssbkit.core.validate import positive_int
    from ssbkit.study.manifest import load_manifest

    workers = positive_int("workers", workers)
    manifest = load_manifest(root)
    root = manifest.root
    with _study_lock(root):
        if scheduler is not None:
            _check_scheduler(scheduler)
        db = open_database(manifest)
        try:
            db.claim(manifest.study.name, str(root))
            store = ObjectStore(root / ".ssbkit" / "objects")
            stored = _ingest(manifest, db, store)
            tasks = plan_analyses(manifest, stored)
            keys = {t.id: analysis_key(t) for t in tasks}
            known = db.analysis_keys()
            todo = [t for t in tasks if force or known.get(t.id, ("", ""))[0] != keys[t.id]
                    or known[t.id][1] == "error"]
            removed = db.drop_analyses([t.id for t in tasks])
            where = scheduler or ("serial" if workers == 1 else f"local dask cluster, {workers} workers")
            run_id = db.start_run(manifest_sha256=hash_file(manifest.path), workers=where, planned=len(tasks))
            by_id = {t.id: t for t in tasks}

            def save(task_id: str, outcome: Mapping[str, Any]) -> None:
                task = by_id[task_id]
                db.save_analysis(id=task.id, kind=task.kind, target=task.target, key=keys[task.id],
                                 status=outcome["status"], message=outcome["message"],
                                 result=outcome["result"],
                                 inputs={"inputs": [i.sha256 for i in task.inputs],
                                         "measurements": [i.measurement for i in task.inputs],
                                         "extra": {k: v.sha256 for k, v in task.extra.items()},
                                         "extra_measurements": {k: v.measurement
                                                                for k, v in task.extra.items()}},
                                 settings=task.settings, ssbkit_version=__version__,
                                 duration_s=outcome.get("duration_s"), run_id=run_id)

            for done, (task_id, outcome) in enumerate(_outcomes(todo, workers, scheduler), start=1):
                save(task_id, outcome)
                if progress is not None:
                    progress(done, len(todo), task_id)
            rows = db.analysis_rows()
            def listed(*statuses: str) -> tuple[dict[str, str], ...]:
                return tuple({"analysis": i, "message": r["message"]} for i, r in sorted(rows.items())
                             if r["status"] in statuses)

            failed, incomplete = listed("failed", "error"), listed("incomplete")
            this_run_failed = sum(1 for t in todo if rows[t.id]["status"] in ("failed", "error"))
            db.finish_run(run_id, recomputed=len(todo), failed=this_run_failed)
            analysed = sum(1 for r in rows.values() if r["status"] == "done")
            message = (f"{len(tasks)} analyses: {len(todo)} recomputed, {len(tasks) - len(todo)} unchanged, "
                       f"{len(failed)} failed" + (f", {len(incomplete)} incomplete" if incomplete else ""))
            return RunReport(
                success=True, message=message, study=manifest.study.name, database=safe_url(db.url),
                workers=where, planned=len(tasks), analysed=analysed,
                unchanged=len(tasks) - len(todo), recomputed=tuple(t.id for t in todo), failed=failed,
                incomplete=incomplete, removed=tuple(removed),
                provenance=make_provenance("ssbkit.study.run_study",
                                           settings={"workers": workers, "scheduler": scheduler,
                                                     "force": force},
                                           files={"manifest": manifest.path}))
        finally:
            db.close()


def _check_scheduler(address: str) -> None:
    """A Dask scheduler address is ``protocol://host:port`` (checked before anything is run)."""
    import re

    if not re.fullmatch(r"[a-z]+://[^\s:/]+:\d+/?", address.strip()):
        raise InputError(f"give the scheduler as tcp://HOST:PORT, got {address!r}", source="--scheduler")


def _outcomes(tasks: list[AnalysisTask], workers: int, scheduler: str | None) -> Iterator[tuple[str, dict]]:
    if not tasks:
        return
    if scheduler is None and workers == 1:
        for task in tasks:
            yield task.id, execute(task)
        return
    yield from _dask_outcomes(tasks, workers, scheduler)


def _dask_outcomes(tasks: list[AnalysisTask], workers: int,
                   scheduler: str | None) -> Iterator[tuple[str, dict]]:
    import logging

    from distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler is None:
            # one BLAS thread per worker process: the same arithmetic as a serial run
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise InputError(f"cannot reach the Dask scheduler {scheduler}: {exc}",
                                 source="--scheduler") from None
    except InputError:
        raise
    except Exception as exc:
        if cluster is not None:
            cluster.close()
        option = "--scheduler" if scheduler else "--workers"
        raise InputError(f"cannot start Dask: {exc}", source=option) from None
    try:
        futures = {client.submit(execute, task, pure=False): task.id for task in tasks}
        for future in as_completed(futures):
            task_id = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # a worker died under the task (memory, a crash)
                outcome = {"status": "error", "result": None, "duration_s": None,
                           "message": f"the Dask worker failed: {type(exc).__name__}: {exc}"}
            yield task_id, outcome
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
