"""The shapes every analysis returns: ``Estimate``, ``Provenance`` and ``Result``.

Results are frozen dataclasses (never tuples). Each carries ``success`` and ``message``
(a fit that ran but did not converge is a result with ``success=False``, not an
exception), and a ``Provenance``: the ssbkit version, the function and its settings,
the sha256 of every input, and the references to cite. Every result turns into JSON-safe
data (``to_dict``), a pandas table with ``name [unit]`` columns (``to_frame``) and a
readable text (``report``).

Examples
--------
>>> e = Estimate(13.3, 0.2, "mS/cm")
>>> e.to_dict()
{'value': 13.3, 'stderr': 0.2, 'unit': 'mS/cm'}
>>> round(e.to("S/cm").value, 6), round(e.relative_stderr, 4)
(0.0133, 0.015)
>>> str(Estimate(0.28, unit="eV"))
'0.28 eV'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ssbkit.core.errors import FitError, InputError
from ssbkit.core.units import convert, label, normalize_unit

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Estimate",
    "Provenance",
    "Result",
    "frozen_array",
    "frozen_table",
    "hash_file",
    "hash_value",
    "make_provenance",
    "to_json_safe",
]


@dataclass(frozen=True, slots=True)
class Estimate:
    """A number with its standard error and unit; ``stderr`` is NaN where it is not known."""

    value: float
    stderr: float = math.nan
    unit: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "stderr", float(self.stderr))

    @property
    def relative_stderr(self) -> float:
        """stderr / |value| (NaN when the value is zero or the stderr unknown)."""
        return self.stderr / abs(self.value) if self.value else math.nan

    def to(self, unit: str) -> Estimate:
        """The same estimate in another unit (stderr scales with the value; no offset)."""
        unit = normalize_unit(unit)
        value = convert(self.value, self.unit, unit)
        scale = convert(1.0, self.unit, unit) - convert(0.0, self.unit, unit)
        return Estimate(value, abs(self.stderr * scale), unit)

    def to_dict(self) -> dict[str, Any]:
        return {"value": _finite_or_none(self.value), "stderr": _finite_or_none(self.stderr),
                "unit": self.unit}

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit not in ("", "1") else ""
        if math.isnan(self.stderr):
            return f"{self.value:.6g}{unit}"
        return f"{self.value:.6g} ± {self.stderr:.2g}{unit}"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a result came from: enough to recompute it and to cite it."""

    function: str
    ssbkit_version: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)  # name -> "sha256:<hex>"
    citations: tuple[str, ...] = ()  # keys into ssbkit.core.citations

    def to_dict(self) -> dict[str, Any]:
        from ssbkit.core import citations

        return {
            "function": self.function,
            "ssbkit_version": self.ssbkit_version,
            "settings": to_json_safe(dict(self.settings)),
            "inputs": dict(self.inputs),
            "citations": [citations.get(key).to_dict() for key in self.citations],
        }


def frozen_array(values: Any, dtype: Any = None) -> Any:
    """A read-only copy of ``values``: results are frozen all the way down, so an edit of
    an array a caller was given cannot change what the result reports later.

    >>> a = frozen_array([1.0, 2.0])
    >>> a.flags.writeable
    False
    """
    import numpy as np  # the core imports numpy only where it is used

    array = np.array(values, dtype=dtype, copy=True)
    array.flags.writeable = False
    return array


def frozen_table(columns: Mapping[str, Any]) -> Mapping[str, Any]:
    """A table (name -> column) that cannot gain, lose or change a column or a value."""
    return MappingProxyType({str(name): frozen_array(values) for name, values in columns.items()})


def hash_value(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value`` (for inputs given as arguments)."""
    text = json.dumps(to_json_safe(value), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_file(path: str | PathLike[str]) -> str:
    """``sha256:<hex>`` of a file's bytes."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", source=path) from None
    return "sha256:" + digest.hexdigest()


def make_provenance(
    function: str,
    *,
    settings: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    files: Mapping[str, str | PathLike[str]] | None = None,
    citations: Iterable[str] = (),
) -> Provenance:
    """Build a ``Provenance``.

    ``inputs`` (arguments given as values) are hashed together under ``"arguments"``;
    each of ``files`` is hashed by its bytes under its own name.
    """
    from ssbkit import __version__
    from ssbkit.core import citations as registry

    keys = tuple(dict.fromkeys(("ssbkit", *citations)))
    for key in keys:
        registry.get(key)  # an unregistered key fails here, not later in a report
    hashed = {"arguments": hash_value(dict(inputs))} if inputs else {}
    hashed.update({name: hash_file(path) for name, path in (files or {}).items()})
    return Provenance(
        function=function,
        ssbkit_version=__version__,
        settings=dict(settings or {}),
        inputs=hashed,
        citations=keys,
    )


@dataclass(frozen=True, kw_only=True)
class Result:
    """Base of every analysis result.

    Subclasses are ``@dataclass(frozen=True, kw_only=True)`` and add their own fields.
    They override ``to_frame`` where a table other than one row of scalars fits better,
    and ``_report_lines`` to say what matters first.
    """

    success: bool = True
    message: str = ""
    provenance: Provenance | None = field(default=None, repr=False, compare=False)

    def raise_for_status(self) -> Result:
        """Raise ``FitError`` with the message when the analysis did not succeed."""
        if not self.success:
            raise FitError(self.message or f"{type(self).__name__} did not succeed")
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe data: Estimates as ``{value, stderr, unit}``, arrays as lists, NaN as null."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "provenance":
                continue
            out[f.name] = to_json_safe(getattr(self, f.name))
        out["provenance"] = None if self.provenance is None else self.provenance.to_dict()
        return out

    def to_json(self, **kwargs: Any) -> str:
        """``to_dict`` as a JSON document (strict JSON: no NaN)."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    def to_frame(self) -> pd.DataFrame:
        """One row with every scalar field; an Estimate gives a value and a stderr column."""
        import pandas as pd

        row: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Estimate):
                row[label(f.name, value.unit)] = value.value
                row[label(f"{f.name} stderr", value.unit)] = value.stderr
            elif isinstance(value, bool | int | float | str):
                row[label(f.name, f.metadata.get("unit", ""))] = value
        return pd.DataFrame([row])

    def report(self) -> str:
        """A short human-readable summary."""
        status = "ok" if self.success else "FAILED"
        head = f"{type(self).__name__} [{status}]" + (f": {self.message}" if self.message else "")
        lines = [head, *self._report_lines()]
        if self.provenance is not None and len(self.provenance.citations) > 1:
            from ssbkit.core import citations

            lines.append("cite:")
            lines += [f"  {citations.get(k).text}" for k in self.provenance.citations[1:]]
        return "\n".join(lines)

    def _report_lines(self) -> list[str]:
        lines = []
        for f in dataclasses.fields(self):
            if f.name in ("success", "message", "provenance"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, Estimate | bool | int | float | str):
                unit = f.metadata.get("unit", "")
                lines.append(f"  {f.name}: {value}" + (f" {unit}" if unit else ""))
        return lines

    def __str__(self) -> str:
        return self.report()


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def to_json_safe(value: Any) -> Any:
    """Turn results, Estimates, numpy values, tables and paths into JSON-safe data.

    Non-finite floats become ``None`` so that the output is strict JSON.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _finite_or_none(value)
    if isinstance(value, complex):
        return {"real": _finite_or_none(value.real), "imag": _finite_or_none(value.imag)}
    if hasattr(value, "to_dict") and not _is_pandas(value):
        return to_json_safe(value.to_dict())
    if isinstance(value, Mapping):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, PathLike):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if _is_pandas(value):
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            return [to_json_safe(row) for row in value.to_dict(orient="records")]
        return to_json_safe(value.tolist())
    if type(value).__module__ == "numpy":
        if getattr(value, "dtype", None) is not None and value.dtype.kind == "c":
            # Complex arrays (impedances) as two lists, the shape tables and plots want.
            return {"real": to_json_safe(value.real.tolist()), "imag": to_json_safe(value.imag.tolist())}
        return to_json_safe(value.tolist())
    if isinstance(value, set | frozenset):
        # A set's iteration order depends on PYTHONHASHSEED; sort so hashes are reproducible.
        items = [to_json_safe(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [to_json_safe(v) for v in value]
    raise TypeError(f"cannot turn {type(value).__name__} into JSON")


def _is_pandas(value: Any) -> bool:
    return type(value).__module__.startswith("pandas")
