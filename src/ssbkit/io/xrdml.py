"""PANalytical / Malvern Panalytical XRDML files (.xrdml): the XML of X'Pert and Empyrean scans.

Schema (``http://www.xrdml.com/XRDMeasurement/<version>``), the parts read here::

    xrdMeasurements
      sample/id, sample/name
      xrdMeasurement
        usedWavelength[@intended]  kAlpha1, kAlpha2, ratioKAlpha2KAlpha1 [Å]
        incidentBeamPath/xRayTube  anodeMaterial
        scan[@scanAxis]            header/startTimeStamp
          dataPoints
            positions[@axis="2Theta"]  startPosition + endPosition (evenly spaced) or
                                       listPositions
            commonCountingTime | countingTimes              [s]
            commonBeamAttenuationFactor | beamAttenuationFactors
            intensities | counts                            [@unit]

``intensities`` are already on the unattenuated scale (schema 1.x); ``counts`` (schema 2.x)
are raw and are multiplied here by the beam attenuation factors. Intensity in counts per
second (``unit="counts/s"`` or ``"cps"``) is multiplied by the counting time, so a pattern
holds counts per step; ``metadata["intensity"]`` says which was done. Where an attenuator was
in the beam, the counted number is the corrected intensity over its factor, so
σ = factor·√(counted); otherwise σ is left to counting statistics.

Radiation: Kα1 and Kα2 with the file's ratio, or Kα1 alone when ``usedWavelength`` says
``intended="K-Alpha 1"`` (a monochromated beam). The schema requires ``usedWavelength``; a
file without it is refused. A scan that does not move 2θ (an omega rocking curve) is
refused. Each scan becomes one pattern; a descending scan is turned round
(``metadata["reversed"]``). Read with the standard library's ElementTree (no dependency).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "s.xrdml"
>>> _ = path.write_text(
...     '<xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/1.5"><xrdMeasurement>'
...     '<usedWavelength intended="K-Alpha 1"><kAlpha1>1.5405980</kAlpha1></usedWavelength>'
...     '<scan scanAxis="Gonio"><dataPoints><positions axis="2Theta"><startPosition>10'
...     '</startPosition><endPosition>10.04</endPosition></positions><commonCountingTime>'
...     '1.5</commonCountingTime><intensities unit="counts">412 422 393</intensities>'
...     '</dataPoints></scan></xrdMeasurement></xrdMeasurements>')
>>> (p,) = XrdmlReader().read(path)
>>> p.two_theta.tolist(), p.wavelengths, p.metadata["time_per_step_s"]
([10.0, 10.02, 10.04], ((1.540598, 1.0),), 1.5)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.io._build import check_options
from ssbkit.io._text import decode, read_bytes
from ssbkit.io.xrd_text import attenuated_sigma, build_pattern

__all__ = ["XrdmlReader"]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node: Any, name: str) -> Any:
    return next((c for c in node if _local(c.tag) == name), None) if node is not None else None


def _children(node: Any, name: str) -> list[Any]:
    return [c for c in node if _local(c.tag) == name] if node is not None else []


def _text(node: Any, *path: str) -> str | None:
    for name in path:
        node = _child(node, name)
    return node.text.strip() if node is not None and node.text and node.text.strip() else None


def _numbers(node: Any, what: str, path: Path) -> np.ndarray:
    try:
        return np.array((node.text or "").split(), dtype=float)
    except ValueError:
        raise InputError(f"<{what}> holds something that is not a number", source=path) from None


def _float(text: str | None, what: str, path: Path) -> float:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"<{what}> is missing or not a number ({text!r})", source=path) from None


class XrdmlReader:
    """PANalytical XRDML scans (counts or intensities against 2θ)."""

    name = "panalytical-xrdml"
    extensions = (".xrdml", ".xml")
    techniques = frozenset({"xrd"})
    description = "PANalytical / Malvern Panalytical XRDML (X'Pert, Empyrean)"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = decode(head[:8192])
        return "<xrdMeasurements" in text or "www.xrdml.com/XRDMeasurement" in text

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One ``Pattern`` per scan; option ``strict``."""
        opts = check_options(self.name, options, strict=False)
        path = Path(path)
        try:
            root = ElementTree.fromstring(read_bytes(path))
        except ElementTree.ParseError as exc:
            line, column = exc.position
            raise InputError(f"not well-formed XML ({exc.msg.split(':')[0]}); the file may be "
                             "truncated", source=path, location=f"line {line}, column {column}") from None
        if _local(root.tag) != "xrdMeasurements":
            raise InputError(f"the root element is <{_local(root.tag)}>, not <xrdMeasurements>",
                             source=path)
        sample = _text(root, "sample", "name") or _text(root, "sample", "id")
        patterns = []
        for m, measurement in enumerate(_children(root, "xrdMeasurement")):
            wavelengths = self._wavelengths(measurement, path)
            anode = _text(measurement, "incidentBeamPath", "xRayTube", "anodeMaterial")
            for scan in _children(measurement, "scan"):
                meta: dict[str, Any] = {"format": self.name, "file": path.name, "measurement": m,
                                        "scan_axis": scan.get("scanAxis", "")}
                for key, value in (("sample", sample), ("anode", anode),
                                   ("start_time", _text(scan, "header", "startTimeStamp"))):
                    if value:
                        meta[key] = value
                patterns.append(self._scan(path, scan, wavelengths, meta, opts["strict"]))
        if not patterns:
            raise InputError("no <xrdMeasurement>/<scan> in the file", source=path)
        return patterns

    @staticmethod
    def _wavelengths(measurement: Any, path: Path) -> tuple[tuple[float, float], ...]:
        used = _child(measurement, "usedWavelength")
        if used is None:
            raise InputError("no <usedWavelength> (the schema requires it): the radiation is "
                             "unknown", source=path)
        alpha1 = _float(_text(used, "kAlpha1"), "kAlpha1", path)
        intended = used.get("intended", "").replace(" ", "").replace("-", "").lower()
        if intended == "kalpha1" or _text(used, "kAlpha2") is None:
            return ((alpha1, 1.0),)
        ratio = _text(used, "ratioKAlpha2KAlpha1")
        return ((alpha1, 1.0), (_float(_text(used, "kAlpha2"), "kAlpha2", path),
                                0.5 if ratio is None else _float(ratio, "ratioKAlpha2KAlpha1", path)))

    def _scan(self, path: Path, scan: Any, wavelengths: Any, meta: dict[str, Any],
              strict: bool) -> Any:
        points = _child(scan, "dataPoints")
        if points is None:
            raise InputError("a <scan> without <dataPoints>", source=path)
        values_node = _child(points, "intensities")
        raw = values_node is None
        if raw:
            values_node = _child(points, "counts")
        if values_node is None:
            raise InputError("<dataPoints> holds neither <intensities> nor <counts>", source=path)
        y = _numbers(values_node, _local(values_node.tag), path)
        n = y.size
        x = self._two_theta(path, points, n)
        times = self._per_point(path, points, "commonCountingTime", "countingTimes", n)
        factors = self._per_point(path, points, "commonBeamAttenuationFactor",
                                  "beamAttenuationFactors", n)
        factors = np.ones(n) if factors is None else factors
        unit = values_node.get("unit", "counts").strip().lower()
        notes = []
        if unit in ("counts/s", "cps", "counts per second"):
            if times is None:
                raise InputError("intensities in counts per second but no counting time",
                                 source=path)
            y = y * times
            notes.append("counts/s × counting time")
        elif unit not in ("counts", "count", ""):
            raise InputError(f"intensity unit {unit!r} is not counts or counts/s", source=path)
        if raw:
            y = y * factors
            notes.append("raw counts × beam attenuation factors")
        meta["intensity"] = "counts per step" + (f" ({'; '.join(notes)})" if notes else " (as stored)")
        if times is not None:
            meta["time_per_step_s"] = float(times[0]) if np.all(times == times[0]) else times.tolist()
        sigma = attenuated_sigma(y, factors)
        if x[0] > x[-1]:
            x, y = x[::-1], y[::-1]
            sigma = None if sigma is None else sigma[::-1]
            meta["reversed"] = True
        return build_pattern(path, x, y, sigma, wavelengths=wavelengths, metadata=meta,
                             strict=strict, row_label="point")

    @staticmethod
    def _two_theta(path: Path, points: Any, n: int) -> np.ndarray:
        axis = next((p for p in _children(points, "positions") if p.get("axis") == "2Theta"), None)
        if axis is None:
            raise InputError("no <positions axis=\"2Theta\">: not a 2θ scan", source=path)
        listed = _child(axis, "listPositions")
        if listed is not None:
            x = _numbers(listed, "listPositions", path)
            if x.size != n:
                raise InputError(f"{x.size} listed 2θ positions for {n} intensities", source=path)
            return x
        if _child(axis, "commonPosition") is not None:
            raise InputError("2θ stays at one position (a rocking curve?): not a powder scan",
                             source=path)
        start = _float(_text(axis, "startPosition"), "startPosition", path)
        end = _float(_text(axis, "endPosition"), "endPosition", path)
        if n < 2:
            raise InputError(f"a scan needs at least 2 points, got {n}", source=path)
        return np.linspace(start, end, n)

    @staticmethod
    def _per_point(path: Path, points: Any, common: str, listed: str, n: int) -> np.ndarray | None:
        node = _child(points, listed)
        if node is not None:
            values = _numbers(node, listed, path)
            if values.size != n:
                raise InputError(f"<{listed}> holds {values.size} values for {n} points", source=path)
        else:
            text = _text(points, common)
            if text is None:
                return None
            values = np.full(n, _float(text, common, path))
        if not (np.isfinite(values).all() and (values > 0).all()):
            raise InputError(f"<{listed if node is not None else common}> must be > 0", source=path)
        return values
