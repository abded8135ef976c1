"""The study manifest: ``DIR/study.toml`` read into frozen records, checked line by line.

A study folder holds its raw files (under ``raw/`` by habit) and one manifest that says
what each file is and where it comes from: ``[[materials]]`` → ``[[samples]]`` (milling,
sintering) → ``[[pellets]]`` and ``[[cells]]`` (a cell's ``electrolyte`` is a sample) →
``[[measurements]]`` (file, technique, owner, temperature, conditions), plus ``[study]``
(name, ``simulated``, database URL), ``[settings.<kind>]`` (analysis settings over each
kind's defaults) and ``[[headline]]`` (numbers from the literature, compared with
what an analysis derives). ``ssbkit study init DIR`` writes a template that documents every
key (:mod:`ssbkit.study.template`). Keys carry their unit in the name (``thickness_mm``,
``stack_pressure_MPa``); a relative ``file`` is relative to the folder; ids are unique across
all tables.

Which analysis a measurement feeds follows from its technique and owner
(:attr:`Measurement.analysis_kind`): eis on a pellet → ``conductivity``, dcpol on a pellet →
``electronic`` (both one analysis per pellet, id ``<kind>:<pellet id>``), eis on a cell →
``drt``, cycling on a cell → ``cycling`` (``rate`` when ``protocol = "rate"``), pressure on a
cell → ``pressure``, xrd / exsy on a sample → ``xrd`` / ``exsy`` (one per measurement, id
``<kind>:<measurement id>``).

Everything is checked once, here, so a typo fails before hours of analysis and names its
line: ``<file>:<line>: <table>[<index>] '<id>': <what is wrong>``, the index counting that
table's entries from 0 as the TOML array does. Unknown keys get a "did you mean".

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "p1_25C.csv").write_text("freq,re,im\\n")
>>> manifest = '''
... [study]
... name = "demo"
... [[materials]]
... id = "LPSCB"
... composition = "Li5.5PS4.5Cl0.8Br0.7"
... [[samples]]
... id = "S1"
... material = "LPSCB"
... [[pellets]]
... id = "P1"
... sample = "S1"
... diameter_mm = 10
... thickness_mm = 0.85
... [[measurements]]
... id = "eis-P1-25C"
... file = "p1_25C.csv"
... technique = "eis"
... pellet = "P1"
... temperature_C = 25
... '''
>>> _ = (folder / "study.toml").write_text(manifest)
>>> m = load_manifest(folder, settings_defaults={"conductivity": {"circuit": "R0-CPE1"}})
>>> m.measurements[0].analysis_id, m.context("P1")["material"]["composition"]
('conductivity:P1', 'Li5.5PS4.5Cl0.8Br0.7')
>>> _ = (folder / "study.toml").write_text(manifest.replace("thickness_mm = 0.85", ""))
>>> load_manifest(folder, settings_defaults={})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ssbkit.core.errors.InputError: ...study.toml:10: pellets[0] 'P1': missing required field 'thickness_mm' ...
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError
from ssbkit.study import _toml_lines as toml
from ssbkit.study._toml_lines import Key, ReadOnlyDict, Row, suggest

__all__ = ["GROUPED_KINDS", "SCHEMA", "TECHNIQUES", "Cell", "Headline", "Manifest", "Material", "Measurement",
           "Pellet", "Sample", "StudyInfo", "analysis_kind_for", "load_manifest"]

TECHNIQUES = ("eis", "dcpol", "xrd", "cycling", "pressure", "exsy")
#: (technique, owner table) -> the analysis kind it feeds; "rate" replaces "cycling" by protocol.
_KIND_OF = {("eis", "pellet"): "conductivity", ("dcpol", "pellet"): "electronic", ("eis", "cell"): "drt",
            ("cycling", "cell"): "cycling", ("pressure", "cell"): "pressure", ("xrd", "sample"): "xrd",
            ("exsy", "sample"): "exsy"}
#: Kinds with one analysis per pellet (all its files) rather than one per measurement.
GROUPED_KINDS = ("conductivity", "electronic")
#: The entity type each kind's analysis targets.
_TARGET_OF = {**{kind: owner for (_, owner), kind in _KIND_OF.items()}, "rate": "cell"}
_OWNERS = ("sample", "pellet", "cell")


# -- the schema -------------------------------------------------------------------------------
def _ident(key: str, value: Any) -> str:
    name = toml.text(key, value)
    if name != name.strip():
        raise InputError(f"must not start or end with spaces, got {value!r}", source=key)
    return name


def _formula(key: str, value: Any) -> str:
    from ssbkit.core.formula import parse_formula

    try:
        parse_formula(toml.text(key, value))
    except InputError as exc:
        raise InputError(f"not a formula: {exc}", source=key) from None
    return value


def _formulas(key: str, value: Any) -> tuple[str, ...]:
    return tuple(_formula(f"{key}[{i}]", v) for i, v in enumerate(toml.texts(key, value)))


def _ratio(key: str, value: Any) -> str:
    parts = toml.text(key, value).split(":")
    try:
        masses = [float(p) for p in parts]
    except ValueError:
        masses = []
    if len(masses) < 2 or not all(math.isfinite(m) and m >= 0 for m in masses) or sum(masses) <= 0:
        raise InputError(f"must be masses like '60:30:10' (active:electrolyte:carbon), got {value!r}",
                         source=key)
    return value


def _unit(key: str, value: Any) -> str:
    from ssbkit.core.units import known_units, normalize_unit

    try:
        return normalize_unit(toml.text(key, value))
    except InputError:
        raise InputError(f"unknown unit {value!r}{suggest(value, known_units())}", source=key) from None


_SETTINGS = Key(toml.table, "analysis settings over [settings.<kind>] for what this entry is the target of")
_MILLING = {
    "jar_ml": Key(toml.positive, "jar volume [mL]"),
    "jar_material": Key(toml.text, "jar material, e.g. ZrO2"),
    "ball_material": Key(toml.text, "ball material"),
    "ball_diameter_mm": Key(toml.positive, "ball diameter [mm]"),
    "frb_percent": Key(toml.percent, "filling rate of balls [% of jar volume]"),
    "bmr": Key(toml.positive, "ball-to-material mass ratio, 80 for 80:1"),
    "speed_rpm": Key(toml.positive, "rotation speed [rpm]"),
    "time_h": Key(toml.positive, "milling time [h]"),
}
_SINTERING = {
    "temperature_C": Key(toml.celsius, "sintering temperature [°C]"),
    "time_h": Key(toml.positive, "dwell time [h]"),
    "ramp_C_per_min": Key(toml.positive, "heating ramp [°C/min]"),
}
#: Every table's keys: their checks, help texts (with units) and which are required.
SCHEMA: Mapping[str, Mapping[str, Key]] = {
    "study": {
        "name": Key(toml.text, "the study's name", required=True),
        "description": Key(toml.text, "what the study is about"),
        "simulated": Key(toml.flag, "true when the raw files are simulated"),
        "database": Key(toml.text, "SQLAlchemy URL; default SQLite at DIR/.ssbkit/lab.sqlite"),
    },
    "materials": {
        "id": Key(_ident, "a unique id", required=True),
        "composition": Key(_formula, "a chemical formula", required=True),
        "precursors": Key(_formulas, "precursor formulas"),
        "role": Key(toml.choice("electrolyte", "cathode", "anode", "additive", "mixture"), "role in a cell"),
    },
    "samples": {
        "id": Key(_ident, "a unique id", required=True),
        "material": Key(toml.text, "a [[materials]] id", required=True),
        "description": Key(toml.text, "free text"),
        "milling": Key(toml.table, "ball-milling conditions", keys=_MILLING),
        "sintering": Key(toml.table, "heat treatment", keys=_SINTERING),
        "settings": _SETTINGS,
    },
    "pellets": {
        "id": Key(_ident, "a unique id", required=True),
        "sample": Key(toml.text, "a [[samples]] id", required=True),
        "diameter_mm": Key(toml.positive, "pellet diameter [mm], > 0", required=True),
        "thickness_mm": Key(toml.positive, "pellet thickness [mm], > 0", required=True),
        "mass_mg": Key(toml.positive, "pellet mass [mg]"),
        "pressing_pressure_MPa": Key(toml.positive, "pressing pressure [MPa]"),
        "electrodes": Key(toml.text, "blocking electrodes, e.g. stainless steel"),
        "settings": _SETTINGS,
    },
    "cells": {
        "id": Key(_ident, "a unique id", required=True),
        "electrolyte": Key(toml.text, "the separator's [[samples]] id"),
        "cathode_active": Key(toml.text, "active material: a formula or a [[materials]] id"),
        "composite_ratio": Key(_ratio, "active:electrolyte:carbon by mass, e.g. '60:30:10'"),
        "active_fraction": Key(toml.fraction, "active mass fraction of the composite, in (0, 1]"),
        "composite_mass_mg": Key(toml.positive, "cathode composite mass [mg]"),
        "active_mass_mg": Key(toml.positive, "active material mass [mg]"),
        "loading_mg_cm2": Key(toml.positive, "active material loading [mg/cm²]"),
        "area_cm2": Key(toml.positive, "electrode area [cm²]"),
        "anode": Key(toml.text, "anode, e.g. Li-In"),
        "electrolyte_mass_mg": Key(toml.positive, "separator electrolyte mass [mg]"),
        "stack_pressure_MPa": Key(toml.positive, "stack pressure [MPa]"),
        "theoretical_capacity_mAh_g": Key(toml.positive, "theoretical capacity [mAh/g], for C-rates"),
        "settings": _SETTINGS,
    },
    "measurements": {
        "id": Key(_ident, "a unique id", required=True),
        "file": Key(toml.text, "raw file, relative to the study folder", required=True),
        "technique": Key(toml.choice(*TECHNIQUES), f"one of {', '.join(TECHNIQUES)}", required=True),
        "sample": Key(toml.text, "the [[samples]] id it was measured on"),
        "pellet": Key(toml.text, "the [[pellets]] id it was measured on"),
        "cell": Key(toml.text, "the [[cells]] id it was measured on"),
        "temperature_C": Key(toml.celsius, "measurement temperature [°C]"),
        "protocol": Key(toml.text, "cycling protocol; 'rate' makes it a rate test"),
        "cycling": Key(toml.text, "a pressure log's cycling record: a [[measurements]] id"),
        "soc_percent": Key(toml.numbers, "state of charge per impedance sweep [%]"),
        "date": Key(toml.date, "date measured"),
        "instrument": Key(toml.text, "instrument"),
        "notes": Key(toml.text, "free text"),
        "conditions": Key(toml.table, "free-form conditions, e.g. { atmosphere = 'Ar' }"),
    },
    "headline": {
        "quantity": Key(toml.text, "what the number is", required=True),
        "paper": Key(toml.number, "the published value", required=True),
        "unit": Key(_unit, "its unit", required=True),
        "source": Key(toml.text, "where it was published"),
        "analysis": Key(toml.text, "'<kind>:<id>' of the analysis that derives it", required=True),
        "field": Key(toml.text, "the key of that analysis' summary", required=True),
    },
}
_TOP_LEVEL = ("study", "settings", "materials", "samples", "pellets", "cells", "measurements", "headline")


def analysis_kind_for(technique: str, owner_kind: str, protocol: str | None = None) -> str:
    """The analysis kind a measurement feeds.

    >>> analysis_kind_for("cycling", "cell", "rate"), analysis_kind_for("eis", "pellet")
    ('rate', 'conductivity')
    """
    kind = _KIND_OF.get((technique, owner_kind))
    if kind is None:
        raise InputError(f"technique {technique!r} on a {owner_kind} feeds no analysis")
    if kind == "cycling" and isinstance(protocol, str) and protocol.strip().lower() == "rate":
        return "rate"
    return kind


@dataclass(frozen=True, kw_only=True)
class _Entity:
    id: str
    line: int
    fields: Mapping[str, Any]  # the table as written (JSON-safe: dates as ISO text, arrays as tuples)


@dataclass(frozen=True, kw_only=True)
class StudyInfo:
    """``[study]``: the name, description, whether the data are simulated, the database URL
    (None: SQLite at ``DIR/.ssbkit/lab.sqlite``)."""

    name: str
    description: str = ""
    simulated: bool = False
    database: str | None = None


@dataclass(frozen=True, kw_only=True)
class Material(_Entity):
    """``[[materials]]``: a composition, its precursors and its role in a cell."""

    composition: str
    precursors: tuple[str, ...] = ()
    role: str | None = None


@dataclass(frozen=True, kw_only=True)
class Sample(_Entity):
    """``[[samples]]``: a powder of a material, with its milling and sintering conditions."""

    material: str
    description: str = ""
    milling: Mapping[str, Any] = field(default_factory=ReadOnlyDict)
    sintering: Mapping[str, Any] = field(default_factory=ReadOnlyDict)
    settings: Mapping[str, Any] = field(default_factory=ReadOnlyDict)


@dataclass(frozen=True, kw_only=True)
class Pellet(_Entity):
    """``[[pellets]]``: a pressed pellet of a sample (lengths in mm, mass in mg, pressure in MPa)."""

    sample: str
    diameter_mm: float
    thickness_mm: float
    mass_mg: float | None = None
    pressing_pressure_MPa: float | None = None
    electrodes: str | None = None
    settings: Mapping[str, Any] = field(default_factory=ReadOnlyDict)

    @property
    def area_cm2(self) -> float:
        """Electrode area π d²/4 [cm²] (a 10 mm pellet: 0.785 cm²)."""
        return math.pi * (self.diameter_mm / 10.0) ** 2 / 4.0


@dataclass(frozen=True, kw_only=True)
class Cell(_Entity):
    """``[[cells]]``: a cell with its separator electrolyte (a sample id), composite and stack."""

    electrolyte: str | None = None
    cathode_active: str | None = None
    composite_ratio: str | None = None
    active_fraction: float | None = None
    composite_mass_mg: float | None = None
    active_mass_mg: float | None = None
    loading_mg_cm2: float | None = None
    area_cm2: float | None = None
    anode: str | None = None
    electrolyte_mass_mg: float | None = None
    stack_pressure_MPa: float | None = None
    theoretical_capacity_mAh_g: float | None = None
    settings: Mapping[str, Any] = field(default_factory=ReadOnlyDict)


@dataclass(frozen=True, kw_only=True)
class Measurement(_Entity):
    """``[[measurements]]``: one raw file, its technique and owner (``owner_kind`` is ``"sample"``,
    ``"pellet"`` or ``"cell"``); ``conditions`` holds every other field (temperature_C,
    protocol, cycling, soc_percent, date, ...) with the free-form ``conditions`` table merged in."""

    file: Path
    technique: str
    owner_kind: str
    owner: str
    temperature_C: float | None = None
    conditions: Mapping[str, Any] = field(default_factory=ReadOnlyDict)

    @property
    def analysis_kind(self) -> str:
        return analysis_kind_for(self.technique, self.owner_kind, self.conditions.get("protocol"))

    @property
    def analysis_id(self) -> str:
        """``<kind>:<pellet id>`` for conductivity/electronic, ``<kind>:<measurement id>`` else."""
        kind = self.analysis_kind
        return f"{kind}:{self.owner if kind in GROUPED_KINDS else self.id}"


@dataclass(frozen=True, kw_only=True)
class Headline(_Entity):
    """``[[headline]]``: a published number (``paper`` in ``unit``) and where ssbkit finds its own:
    ``summary[field]`` of the analysis ``analysis``. Its ``id`` is the quantity."""

    quantity: str
    paper: float
    unit: str
    analysis: str
    field: str
    source: str | None = None


_TABLES = {"materials": Material, "samples": Sample, "pellets": Pellet, "cells": Cell,
           "measurements": Measurement}


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """A checked study manifest. ``settings`` maps every known kind to its defaults with the
    manifest's ``[settings.<kind>]`` applied (a key replaces the default's value whole)."""

    path: Path
    root: Path
    study: StudyInfo
    settings: Mapping[str, Mapping[str, Any]]
    materials: tuple[Material, ...] = ()
    samples: tuple[Sample, ...] = ()
    pellets: tuple[Pellet, ...] = ()
    cells: tuple[Cell, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    headline: tuple[Headline, ...] = ()
    _index: Mapping[str, _Entity] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {e.id: e for table in _TABLES for e in getattr(self, table)}
        object.__setattr__(self, "_index", index)

    def by_id(self, entity_id: str) -> Material | Sample | Pellet | Cell | Measurement:
        """The material, sample, pellet, cell or measurement called ``entity_id``."""
        if entity_id not in self._index:
            raise InputError(f"no material, sample, pellet, cell or measurement {entity_id!r}"
                             f"{suggest(entity_id, self._index)}", source=str(self.path))
        return self._index[entity_id]  # type: ignore[return-value]

    def measurements_of(self, owner: str) -> tuple[Measurement, ...]:
        """The measurements that belong to the sample, pellet or cell ``owner``, in manifest order."""
        return tuple(m for m in self.measurements if m.owner == owner)

    def cycling_record(self, measurement_id: str) -> Measurement:
        """The cycling measurement a pressure log is read against: the one its ``cycling`` names,
        else its cell's only cycling measurement that is not a rate test (checked on loading)."""
        log = self.by_id(measurement_id)
        if not isinstance(log, Measurement):
            raise InputError(f"{measurement_id!r} is not a measurement", source=str(self.path))
        named = log.conditions.get("cycling")
        if named is not None:
            return self._index[named]  # type: ignore[return-value]
        candidates = _cycling_candidates(self.measurements, log.owner)
        if len(candidates) != 1:
            raise InputError(f"measurement {measurement_id!r} has no single cycling record",
                             source=str(self.path))
        return candidates[0]

    def context(self, entity_id: str) -> dict[str, Any]:
        """The entity's fields as plain dicts and lists, with what it refers to nested:
        a sample's ``material``; a pellet's ``sample`` and ``material``; a cell's
        ``electrolyte`` (sample), its ``material`` and, where ``cathode_active`` names a
        material, ``cathode_material``; a measurement's ``owner`` (that entity's context)."""
        entity = self.by_id(entity_id)
        context = toml.thaw(entity.fields)
        if isinstance(entity, Sample):
            context["material"] = toml.thaw(self._index[entity.material].fields)
        elif isinstance(entity, Pellet):
            sample = self._index[entity.sample]
            context["sample"] = toml.thaw(sample.fields)
            context["material"] = toml.thaw(self._index[sample.material].fields)  # type: ignore[attr-defined]
        elif isinstance(entity, Cell):
            if entity.electrolyte is not None:
                sample = self._index[entity.electrolyte]
                context["electrolyte"] = toml.thaw(sample.fields)
                context["material"] = toml.thaw(self._index[sample.material].fields)  # type: ignore[attr-defined]
            active = self._index.get(entity.cathode_active or "")
            if isinstance(active, Material):
                context["cathode_material"] = toml.thaw(active.fields)
        elif isinstance(entity, Measurement):
            context["owner"] = self.context(entity.owner)
        return context


def _cycling_candidates(measurements: tuple[Measurement, ...] | list[Measurement],
                        cell: str) -> list[Measurement]:
    return [m for m in measurements if m.owner == cell and m.technique == "cycling"
            and m.analysis_kind == "cycling"]


def load_manifest(path: str | os.PathLike[str], *,
                  settings_defaults: Mapping[str, Mapping[str, Any]] | None = None) -> Manifest:
    """Read and check ``path`` (a study folder or its ``study.toml``).

    ``settings_defaults`` maps each analysis kind to its default settings; None takes them
    from :func:`ssbkit.study.kinds.analysis_kinds`. Bad input raises ``InputError`` naming
    the manifest's line.
    """
    toml_path, shown = _manifest_path(path)
    try:
        data = toml_path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the manifest: {exc.strerror}", source=shown) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte {exc.start + 1})", source=f"{shown}:{line}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"at line (\d+)", str(exc))
        raise InputError(f"not valid TOML: {exc}",
                         source=f"{shown}:{where[1]}" if where else shown) from None
    if settings_defaults is None:
        from ssbkit.study.kinds import analysis_kinds

        settings_defaults = {name: kind.defaults for name, kind in analysis_kinds().items()}
    if not isinstance(settings_defaults, Mapping) or not all(
            isinstance(d, Mapping) for d in settings_defaults.values()):
        raise InputError("must map each analysis kind to a mapping of its defaults",
                         source="settings_defaults")
    return _Builder(toml_path.resolve(), shown, text, settings_defaults).build(document)


def _manifest_path(path: str | os.PathLike[str]) -> tuple[Path, str]:
    given = Path(path)
    toml_path = given / "study.toml" if given.is_dir() else given
    if not toml_path.is_file():
        hint = f"; `ssbkit study init {given}` writes a template" if given.is_dir() else ""
        raise InputError(f"no study manifest here{hint}", source=str(toml_path))
    return toml_path, str(toml_path)


class _Builder:
    """One pass over the parsed document per kind of check; raises on the first problem."""

    def __init__(self, path: Path, shown: str, text: str,
                 defaults: Mapping[str, Mapping[str, Any]]) -> None:
        self.path, self.root, self.defaults = path, path.parent, defaults
        self.check = toml.Checker(shown, toml.TomlLines(text))

    def build(self, document: dict[str, Any]) -> Manifest:
        fail = self.check.fail
        for key in document:
            if key not in _TOP_LEVEL:
                fail((key,), "", f"unknown table {key!r}{suggest(key, _TOP_LEVEL, list_all=True)}")
        if "study" not in document:
            fail((), "", 'no [study] table; a manifest starts with [study] and name = "..."')
        study = StudyInfo(**self.check.table(document["study"], SCHEMA["study"], ("study",), "study"))
        settings = self._settings(document.get("settings", {}))
        rows = {table: self.check.rows(document, table, SCHEMA[table]) for table in _TABLES}
        self._unique_ids(rows)
        ids = {table: {row.values["id"] for row in rows[table]} for table in rows}
        entities = {table: [self._entity(table, row, ids) for row in rows[table]] for table in _TABLES}
        self._pressure_records(rows["measurements"], entities["measurements"])
        headline = [self._headline(row, ids, entities["measurements"])
                    for row in self.check.rows(document, "headline", SCHEMA["headline"])]
        return Manifest(path=self.path, root=self.root, study=study, settings=settings,
                        headline=tuple(headline), **{t: tuple(entities[t]) for t in _TABLES})

    def _settings(self, given: Any) -> Mapping[str, Mapping[str, Any]]:
        fail = self.check.fail
        if not isinstance(given, dict):
            fail(("settings",), "", "settings must be tables, written [settings.<kind>]")
        for kind, table in given.items():
            if kind not in self.defaults:
                fail(("settings", kind), "", f"unknown analysis kind {kind!r} in [settings.{kind}]"
                     f"{suggest(kind, self.defaults, list_all=True)}")
            if not isinstance(table, dict):
                fail(("settings", kind), "", f"settings.{kind} must be a table, written [settings.{kind}]")
            for key in table:
                if key not in self.defaults[kind]:
                    fail(("settings", kind, key), f"settings.{kind}",
                         f"unknown key {key!r}{suggest(key, self.defaults[kind], list_all=True)}")
        merged = {}
        for kind, defaults in self.defaults.items():
            table = self.check.plain(given.get(kind, {}), ("settings", kind), f"settings.{kind}")
            merged[kind] = ReadOnlyDict({**defaults, **table})
        return ReadOnlyDict(merged)

    def _unique_ids(self, rows: Mapping[str, list[Row]]) -> None:
        seen: dict[str, Row] = {}
        for table in _TABLES:
            for row in rows[table]:
                first = seen.setdefault(row.values["id"], row)
                if first is not row:
                    self.check.fail((*row.location, "id"), row.where,
                                    f"duplicate id: {first.where} at line {self.check.line(first.location)} "
                                    "has it already (ids are unique across all tables)")

    def _reference(self, row: Row, key: str, table: str, ids: Mapping[str, set[str]]) -> None:
        value = row.values.get(key)
        if value is not None and value not in ids[table]:
            self.check.fail((*row.location, key), row.where, f"{key} {value!r} is not a [[{table}]] id"
                            f"{suggest(value, ids[table], list_all=True)}")

    def _entity(self, table: str, row: Row, ids: Mapping[str, set[str]]) -> _Entity:
        values = dict(row.values)
        if table == "samples":
            self._reference(row, "material", "materials", ids)
        elif table == "pellets":
            self._reference(row, "sample", "samples", ids)
        elif table == "cells":
            self._reference(row, "electrolyte", "samples", ids)
            self._cell_checks(row, ids)
        elif table == "measurements":
            return self._measurement(row, ids)
        if "settings" in values:
            self._entity_settings(row, table[:-1], values["settings"])
        return _TABLES[table](line=self.check.line(row.location), fields=row.fields, **values)

    def _cell_checks(self, row: Row, ids: Mapping[str, set[str]]) -> None:
        active = row.values.get("cathode_active")
        if active is not None and active not in ids["materials"]:
            try:
                _formula("cathode_active", active)
            except InputError as exc:
                self.check.fail((*row.location, "cathode_active"), row.where,
                                f"{exc}; nor is it a [[materials]] id{suggest(active, ids['materials'])}")
        composite, active_mass = row.values.get("composite_mass_mg"), row.values.get("active_mass_mg")
        if composite is not None and active_mass is not None and active_mass > composite:
            self.check.fail((*row.location, "active_mass_mg"), row.where,
                            f"active_mass_mg ({active_mass:g}) exceeds composite_mass_mg ({composite:g})")

    def _entity_settings(self, row: Row, owner_kind: str, settings: Mapping[str, Any]) -> None:
        kinds = [k for k, target in _TARGET_OF.items() if target == owner_kind and k in self.defaults]
        known = {key: None for kind in kinds for key in self.defaults[kind]}
        for key in settings:
            if key not in known:
                self.check.fail((*row.location, "settings", key), row.where,
                                f"settings: unknown key {key!r}{suggest(key, known)} (a {owner_kind} takes "
                                f"the settings of {', '.join(kinds) or 'no known analysis'})")

    def _measurement(self, row: Row, ids: Mapping[str, set[str]]) -> Measurement:
        values, fail = dict(row.values), self.check.fail
        owners = [key for key in _OWNERS if key in values]
        if not owners:
            fail(row.location, row.where, "no owner: give exactly one of sample, pellet or cell")
        if len(owners) > 1:
            fail((*row.location, owners[1]), row.where,
                 f"{' and '.join(owners)} given: a measurement belongs to exactly one")
        owner_kind = owners[0]
        technique = values.pop("technique")
        fits = [owner for (tech, owner) in _KIND_OF if tech == technique]
        if owner_kind not in fits:
            fail((*row.location, owner_kind), row.where, f"{owner_kind}: a {technique} measurement "
                 f"belongs to a {' or '.join(fits)}, not a {owner_kind}")
        self._reference(row, owner_kind, owner_kind + "s", ids)
        if "cycling" in values:
            self._reference(row, "cycling", "measurements", ids)
            if technique != "pressure":
                fail((*row.location, "cycling"), row.where,
                     "cycling: only a pressure measurement names a cycling record")
        file = Path(values.pop("file"))
        file = Path(os.path.normpath(file if file.is_absolute() else self.root / file))
        if not file.is_file():
            what = "is a folder, not a file" if file.is_dir() else "does not exist"
            fail((*row.location, "file"), row.where,
                 f"file {row.values['file']!r} {what} (looked for {file})")
        conditions = {k: v for k, v in row.fields.items()
                      if k not in {"id", "file", "technique", "conditions", *_OWNERS}}
        for key, value in row.fields.get("conditions", {}).items():
            if key in SCHEMA["measurements"]:
                fail((*row.location, "conditions"), row.where, f"conditions: {key!r} is a field of its own; "
                     "write it beside file and technique")
            conditions[key] = value
        return Measurement(id=values["id"], line=self.check.line(row.location), fields=row.fields, file=file,
                           technique=technique, owner_kind=owner_kind, owner=values[owner_kind],
                           temperature_C=values.get("temperature_C"), conditions=ReadOnlyDict(conditions))

    def _pressure_records(self, rows: list[Row], measurements: list[Measurement]) -> None:
        by_id = {m.id: m for m in measurements}
        for row, log in zip(rows, measurements, strict=True):
            named = log.conditions.get("cycling")
            if named is not None:
                record = by_id[named]
                if record.technique != "cycling" or record.owner != log.owner:
                    self.check.fail((*row.location, "cycling"), row.where,
                                    f"cycling {named!r} is a {record.technique} measurement of "
                                    f"{record.owner_kind} {record.owner!r}, not a cycling record of "
                                    f"cell {log.owner!r}")
            elif log.technique == "pressure":
                candidates = _cycling_candidates(measurements, log.owner)
                if len(candidates) != 1:
                    found = ", ".join(repr(m.id) for m in candidates) or "none"
                    self.check.fail(row.location, row.where,
                                    f"name its cycling record with cycling = \"<measurement id>\": cell "
                                    f"{log.owner!r} has {len(candidates)} cycling measurements that are "
                                    f"not rate tests ({found})")

    def _headline(self, row: Row, ids: Mapping[str, set[str]],
                  measurements: list[Measurement]) -> Headline:
        values = dict(row.values)
        analysis, fail = values["analysis"], self.check.fail
        at = (*row.location, "analysis")
        kind, colon, target = analysis.partition(":")
        if not colon or not kind or not target:
            fail(at, row.where, f"analysis must be '<kind>:<id>' (e.g. 'conductivity:P1'), got {analysis!r}")
        if kind not in self.defaults:
            fail(at, row.where, f"analysis {analysis!r}: unknown kind {kind!r}"
                 f"{suggest(kind, self.defaults, list_all=True)}")
        feeds = {m.analysis_id: m for m in measurements}
        if analysis not in feeds:
            table = "pellets" if kind in GROUPED_KINDS else "measurements"
            if target not in ids[table]:
                why = f"{target!r} is not a [[{table}]] id{suggest(target, ids[table], list_all=True)}"
            elif kind in GROUPED_KINDS:
                technique = next(t for (t, _), k in _KIND_OF.items() if k == kind)
                why = f"pellet {target!r} has no {technique} measurement"
            else:
                feeds_instead = next(m.analysis_id for m in measurements if m.id == target)
                why = f"measurement {target!r} feeds {feeds_instead!r}, not {kind!r}"
            fail(at, row.where, f"no analysis {analysis!r}: {why}")
        line = self.check.line(row.location)
        return Headline(id=values["quantity"], line=line, fields=row.fields, **values)


