"""The lab database: samples, process parameters, pellets, cells, measurements, raw files
and analysis results, linked, in SQLite by default (``DIR/.ssbkit/lab.sqlite``) or any
database SQLAlchemy 2 reaches by URL (PostgreSQL: ``postgresql+psycopg://user@host/db``).

Tables (SQLAlchemy Core, so a scientist can query them from any SQL tool):

==================  ==========================================================================
``blobs``           one row per stored raw file: ``sha256``, size, suffix
``materials``       composition, precursors
``samples``         the milling and sintering parameters as columns (``frb_percent``, ``bmr``, ...)
``pellets``         geometry and pressing pressure, ``sample_id``
``cells``           masses, loading, area, stack pressure, ``electrolyte_id``
``measurements``    technique, file, ``sha256`` of its bytes, its owner, temperature, conditions
``analyses``        one row per analysis: its key, status, result JSON, inputs and provenance
``runs``            one row per ``ssbkit study run``
``schema_migrations``  the migrations applied, by number and name
==================  ==========================================================================

Every entity row also keeps its manifest fields as JSON (``fields_json``) and the manifest
line it came from, so nothing in the manifest is lost by the columns chosen here.

Migrations are small, named functions applied in order and recorded in
``schema_migrations`` (sqlite-utils style); a database written by a newer ssbkit is
refused rather than guessed at. Each result is committed in its own transaction the
moment it is known, so a run killed part-way keeps everything finished before the kill,
and SQLite's journal keeps the database consistent whatever instant the kill comes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError
from ssbkit.core.results import to_json_safe

__all__ = ["MIGRATIONS", "LabDatabase", "default_url", "safe_url"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json(value: Any) -> str:
    return json.dumps(to_json_safe(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def default_url(root: str | Path) -> str:
    """The SQLite URL of a study folder's database (the folder is created)."""
    folder = Path(root) / ".ssbkit"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot make the study's database folder: {exc.strerror or exc}",
                         source=folder) from None
    return f"sqlite:///{(folder / 'lab.sqlite').resolve()}"


def _tables(metadata: Any) -> dict[str, Any]:
    """The schema of migration 1 (later migrations alter it; this function is never edited)."""
    from sqlalchemy import Column, Float, ForeignKey, Integer, String, Table, Text

    def entity(name: str, *columns: Any) -> Any:
        return Table(name, metadata, Column("id", String, primary_key=True), *columns,
                     Column("line", Integer), Column("fields_json", Text, nullable=False))

    blobs = Table("blobs", metadata, Column("sha256", String, primary_key=True),
                  Column("size", Integer, nullable=False), Column("suffix", String, nullable=False),
                  Column("first_name", String, nullable=False), Column("stored_at", String, nullable=False))
    materials = entity("materials", Column("composition", String, nullable=False), Column("role", String))
    samples = entity("samples", Column("material_id", String, ForeignKey("materials.id"), nullable=False),
                     Column("frb_percent", Float), Column("bmr", Float), Column("speed_rpm", Float),
                     Column("milling_time_h", Float), Column("ball_diameter_mm", Float),
                     Column("ball_material", String), Column("jar_ml", Float),
                     Column("sintering_temperature_C", Float), Column("sintering_time_h", Float),
                     Column("sintering_ramp_C_per_min", Float))
    pellets = entity("pellets", Column("sample_id", String, ForeignKey("samples.id"), nullable=False),
                     Column("diameter_mm", Float, nullable=False),
                     Column("thickness_mm", Float, nullable=False),
                     Column("mass_mg", Float), Column("pressing_pressure_MPa", Float))
    cells = entity("cells", Column("electrolyte_id", String, ForeignKey("samples.id")),
                   Column("cathode_active", String), Column("active_mass_mg", Float),
                   Column("composite_mass_mg", Float), Column("active_fraction", Float),
                   Column("loading_mg_cm2", Float), Column("area_cm2", Float), Column("anode", String),
                   Column("electrolyte_mass_mg", Float), Column("stack_pressure_MPa", Float))
    measurements = entity("measurements", Column("technique", String, nullable=False),
                          Column("file", String, nullable=False),
                          Column("sha256", String, ForeignKey("blobs.sha256"), nullable=False),
                          Column("sample_id", String, ForeignKey("samples.id")),
                          Column("pellet_id", String, ForeignKey("pellets.id")),
                          Column("cell_id", String, ForeignKey("cells.id")),
                          Column("temperature_C", Float))
    analyses = Table("analyses", metadata, Column("id", String, primary_key=True),
                     Column("kind", String, nullable=False), Column("target", String, nullable=False),
                     Column("key", String, nullable=False), Column("status", String, nullable=False),
                     Column("message", Text, nullable=False), Column("result_json", Text),
                     Column("inputs_json", Text, nullable=False),
                     Column("settings_json", Text, nullable=False),
                     Column("ssbkit_version", String, nullable=False), Column("duration_s", Float),
                     Column("computed_at", String, nullable=False), Column("run_id", Integer))
    runs = Table("runs", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
                 Column("started_at", String, nullable=False), Column("finished_at", String),
                 Column("manifest_sha256", String, nullable=False), Column("workers", String),
                 Column("planned", Integer), Column("recomputed", Integer), Column("failed", Integer),
                 Column("ssbkit_version", String, nullable=False))
    return {t.name: t for t in (blobs, materials, samples, pellets, cells, measurements, analyses, runs)}


def _migration_1(connection: Any) -> None:
    from sqlalchemy import MetaData

    metadata = MetaData()
    _tables(metadata)
    metadata.create_all(connection)


def _study_table(metadata: Any) -> Any:
    """The table of migration 2: which study the database belongs to."""
    from sqlalchemy import Column, String, Table

    return Table("study", metadata, Column("name", String, primary_key=True),
                 Column("root", String, nullable=False), Column("claimed_at", String, nullable=False))


def _migration_2(connection: Any) -> None:
    from sqlalchemy import MetaData

    metadata = MetaData()
    _study_table(metadata)
    metadata.create_all(connection)


#: (number, name, function) in the order they are applied; append, never edit.
MIGRATIONS: tuple[tuple[int, str, Callable[[Any], None]], ...] = (
    (1, "initial schema: blobs, entities, measurements, analyses, runs", _migration_1),
    (2, "the study a database belongs to", _migration_2),
)


def safe_url(url: str) -> str:
    """The URL as it may be printed: without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: it holds no password it knows of
        return url


class LabDatabase:
    """A study's database; ``LabDatabase(url)`` opens it and applies pending migrations.

    >>> import tempfile
    >>> db = LabDatabase(default_url(tempfile.mkdtemp()))
    >>> db.schema_version, db.analysis_rows()
    (2, {})
    """

    def __init__(self, url: str) -> None:
        from sqlalchemy import MetaData, create_engine, event

        self.url = url
        try:
            self.engine = create_engine(url)
        except Exception as exc:  # a malformed URL or a driver that is not installed
            raise InputError(f"cannot open the database: {_hide(exc, url)}", source=safe_url(url)) from None
        if self.engine.dialect.name == "sqlite":
            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.close()
        self.tables = _tables(MetaData())
        self._migrate()

    # -- schema -----------------------------------------------------------------------------
    def _migrate(self) -> None:
        from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

        meta = MetaData()
        applied_table = Table("schema_migrations", meta, Column("version", Integer, primary_key=True),
                              Column("name", String, nullable=False),
                              Column("applied_at", String, nullable=False))
        from sqlalchemy import inspect

        try:
            with self.engine.begin() as connection:
                existing = set(inspect(connection).get_table_names())
                if existing and "schema_migrations" not in existing:
                    raise InputError("this database holds other tables and is not an ssbkit lab database; "
                                     "give the study its own", source=safe_url(self.url))
                meta.create_all(connection)
                applied = set(connection.scalars(select(applied_table.c.version)))
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"cannot open the database: {_hide(exc, self.url)}",
                             source=safe_url(self.url)) from None
        known = {number for number, _, _ in MIGRATIONS}
        if applied - known:
            raise InputError(f"the database was written by a newer ssbkit (migrations "
                             f"{sorted(applied - known)} are unknown here); upgrade ssbkit",
                             source=safe_url(self.url))
        for number, name, migrate in MIGRATIONS:
            if number in applied:
                continue
            with self.engine.begin() as connection:  # one transaction per migration
                migrate(connection)
                connection.execute(insert(applied_table).values(version=number, name=name, applied_at=_now()))
        self._migrations = applied_table

    @property
    def schema_version(self) -> int:
        from sqlalchemy import func, select

        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.max(self._migrations.c.version))) or 0)

    def claim(self, name: str, root: str) -> None:
        """Mark the database as the study's; refuse one that holds another study.

        A study may be renamed or moved (one of name and folder stays the same); a database
        already holding a study with another name *and* another folder is someone else's, and
        a run would replace its samples and drop its analyses.
        """
        from sqlalchemy import MetaData, delete, insert, select

        table = _study_table(MetaData())
        with self.engine.begin() as connection:
            owner = connection.execute(select(table)).first()
            if owner is not None and owner.name != name and owner.root != root:
                raise InputError(f"the database belongs to the study {owner.name!r} in {owner.root}; "
                                 "give this study its own database (leave [study] database out for "
                                 "SQLite in DIR/.ssbkit)", source=safe_url(self.url))
            connection.execute(delete(table))
            connection.execute(insert(table).values(name=name, root=root, claimed_at=_now()))

    # -- manifest ---------------------------------------------------------------------------
    def replace_entities(self, rows: Mapping[str, Iterable[Mapping[str, Any]]],
                         blobs: Iterable[Mapping[str, Any]]) -> None:
        """Make the entity tables hold exactly ``rows`` (table -> rows) in one transaction.

        Blobs are only ever added: a raw file stays stored after the manifest drops it.
        """
        from sqlalchemy import delete, insert, select

        t = self.tables
        with self.engine.begin() as connection:
            known = set(connection.scalars(select(t["blobs"].c.sha256)))
            new = [dict(b, stored_at=_now()) for b in blobs if b["sha256"] not in known]
            unique = {b["sha256"]: b for b in new}
            if unique:
                connection.execute(insert(t["blobs"]), list(unique.values()))
            for name in ("measurements", "cells", "pellets", "samples", "materials"):
                connection.execute(delete(t[name]))
            for name in ("materials", "samples", "pellets", "cells", "measurements"):
                batch = [dict(r) for r in rows.get(name, ())]
                if batch:
                    connection.execute(insert(t[name]), batch)

    def entities(self, table: str) -> list[dict[str, Any]]:
        """The rows of an entity table, with ``fields`` decoded."""
        from sqlalchemy import select

        with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(select(self.tables[table]))]
        for row in rows:
            row["fields"] = json.loads(row.pop("fields_json"))
        return rows

    # -- analyses ---------------------------------------------------------------------------
    def analysis_rows(self) -> dict[str, dict[str, Any]]:
        """Every stored analysis by id (result decoded)."""
        from sqlalchemy import select

        with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(select(self.tables["analyses"]))]
        out = {}
        for row in rows:
            row["result"] = None if row["result_json"] is None else json.loads(row["result_json"])
            row["inputs"] = json.loads(row.pop("inputs_json"))
            row["settings"] = json.loads(row.pop("settings_json"))
            out[row["id"]] = row
        return out

    def analysis_keys(self) -> dict[str, tuple[str, str]]:
        """``id -> (key, status)`` of every stored analysis (what a run compares with)."""
        from sqlalchemy import select

        a = self.tables["analyses"]
        with self.engine.connect() as connection:
            return {r.id: (r.key, r.status) for r in connection.execute(select(a.c.id, a.c.key, a.c.status))}

    def save_analysis(self, *, id: str, kind: str, target: str, key: str, status: str, message: str,
                      result: Mapping[str, Any] | None, inputs: Any, settings: Mapping[str, Any],
                      ssbkit_version: str, duration_s: float | None, run_id: int | None) -> None:
        """Store one analysis (replacing the old row of that id) in its own transaction."""
        from sqlalchemy import delete, insert

        a = self.tables["analyses"]
        row = {"id": id, "kind": kind, "target": target, "key": key, "status": status, "message": message,
               "result_json": None if result is None else _json(result), "inputs_json": _json(inputs),
               "settings_json": _json(settings), "ssbkit_version": ssbkit_version, "duration_s": duration_s,
               "computed_at": _now(), "run_id": run_id}
        with self.engine.begin() as connection:
            connection.execute(delete(a).where(a.c.id == id))
            connection.execute(insert(a).values(**row))

    def drop_analyses(self, keep: Iterable[str]) -> list[str]:
        """Delete the analyses whose id is not in ``keep`` (the manifest no longer asks for them)."""
        from sqlalchemy import delete, select

        a = self.tables["analyses"]
        keep = set(keep)
        with self.engine.begin() as connection:
            stale = [i for i in connection.scalars(select(a.c.id)) if i not in keep]
            if stale:
                connection.execute(delete(a).where(a.c.id.in_(stale)))
        return stale

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, *, manifest_sha256: str, workers: str, planned: int) -> int:
        from sqlalchemy import insert

        from ssbkit import __version__

        with self.engine.begin() as connection:
            result = connection.execute(insert(self.tables["runs"]).values(
                started_at=_now(), manifest_sha256=manifest_sha256, workers=workers, planned=planned,
                ssbkit_version=__version__))
            return int(result.inserted_primary_key[0])

    def finish_run(self, run_id: int, *, recomputed: int, failed: int) -> None:
        from sqlalchemy import update

        r = self.tables["runs"]
        with self.engine.begin() as connection:
            connection.execute(update(r).where(r.c.id == run_id).values(
                finished_at=_now(), recomputed=recomputed, failed=failed))

    def runs(self) -> list[dict[str, Any]]:
        from sqlalchemy import select

        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(select(self.tables["runs"]))]

    def check(self) -> list[str]:
        """Problems found by the database's own integrity check (SQLite) and broken links."""
        from sqlalchemy import text

        problems: list[str] = []
        with self.engine.connect() as connection:
            if self.engine.dialect.name == "sqlite":
                status = connection.execute(text("PRAGMA integrity_check")).scalar()
                if status != "ok":
                    problems.append(f"integrity_check: {status}")
                problems += [f"foreign key: {tuple(r)}"
                             for r in connection.execute(text("PRAGMA foreign_key_check"))]
        return problems

    def close(self) -> None:
        self.engine.dispose()


def _hide(exc: BaseException, url: str) -> str:
    """An exception's text without the URL's password."""
    from sqlalchemy.engine import make_url

    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    try:
        password = make_url(url).password
    except Exception:
        return text
    return text.replace(str(password), "***") if password else text
