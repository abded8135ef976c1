"""Bruker diffractometer files: DIFFRAC.SUITE ``.brml`` archives and binary ``.raw`` (v3, v4).

BRML is a zip archive; ``Experiment<n>/RawData<m>.xml`` holds a scan: ``DataRoutes/DataRoute``
with ``ScanInformation`` (``TimePerStep`` [s], ``ScanAxes``), one comma-separated ``<Datum>``
row per step, and ``DataViews`` that name the columns (``FixedRawDataView`` with a
``LogicName`` such as ``MeasuredTime`` or ``AbsorptionFactor``; ``VaryingRawDataView`` with
``FieldDefinitions`` for the axes, ``TwoTheta`` among them; ``RecordedRawDataView``, the
counter). Without views the common layout is taken: time, absorber, 2θ, θ, counts. The tube's
``WaveLengthAlpha1``/``WaveLengthAlpha2``/``WaveLengthRatio`` (``Value`` attributes) give
the radiation, ``TubeMaterial`` the anode. Counts are kept as stored, as DIFFRAC exports
them (absorber factors stay in ``metadata["absorption_factor"]`` where not 1).

RAW files start with their version; ``RAW1.01`` ("version 3", DIFFRAC plus) and ``RAW4.00``
("version 4", DIFFRAC.SUITE) are read, older ``RAW `` and ``RAW2`` are refused. Layouts, all
little-endian (offsets as Bruker's DIFFRAC-AT appendix, GSAS-II, geddes and FAIRmat's reader
agree on them; no vendor specification is public):

- v3: a 712-byte file header: u32 range count at 12, date at 16, time at 26, sample at 326
  (60 bytes), anode at 608, float64 Kα mean, Kα1, Kα2, Kβ and Kα2/Kα1 ratio at 616–648.
  Each range: u32 header size at +0, u32 points at +4, float64 start 2θ at +16, step at
  +176, float32 time per step [s] at +192, u32 record size at +252, u32 extra-record size at
  +256; the records (first float32: the intensity) follow the header and the extra record.
- v4: a 61-byte header (date at 12, time at 24), then records of u32 kind and u32 length:
  kind 10 text (name at +12, value from +36), kind 30 the tube (float64 Kα mean, Kα1, Kα2,
  Kβ, ratio at +72–+104, anode at +116), kind 0 or 160 a range: a 160-byte header (scan type
  at +32, float64 start +72 and step +80, u32 points +88, float32 time per step [ms] +92,
  u32 datum size +136, u32 size of the drive records that follow +140; a drive record, kind
  50, has its name at +12 and its position at +56), then the data, one datum per step whose
  first float32 is the intensity.

A ``.raw`` is also what Rigaku, Philips and STOE call their (different) files, and GSAS's
text data: the content, not the extension, decides. A file cut short, or a zip without its
RawData member, is an ``InputError`` naming the file.

>>> reader = BrukerRawReader()
>>> reader.sniff(None, b"RAW4.00\\x00..."), reader.sniff(None, b"title\\nBANK 1 2 1 CONST")
(True, False)
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from ssbkit.core.errors import InputError
from ssbkit.io._build import check_options
from ssbkit.io._text import read_bytes
from ssbkit.io.xrd_text import build_pattern

__all__ = ["BrmlReader", "BrukerRawReader"]

_RAW_DATA = re.compile(r"(?:^|/)Experiment(\d+)/RawData(\d+)\.xml$")
_TWO_THETA = ("twotheta", "2theta")
_OTHER_AXES = ("theta", "omega", "phi", "chi", "psi", "z", "x", "y")


# what zipfile raises on a damaged archive: a bad offset seeks before the start (OSError EINVAL), a
# damaged header asks for a version it does not support (NotImplementedError), ValueError, …
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               NotImplementedError,
               ValueError, struct.error)

def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(node: Any, name: str) -> Any:
    return next((e for e in node.iter() if _local(e.tag) == name), None)


def _value(node: Any) -> float | None:
    if node is None:
        return None
    text = node.get("Value") if node.get("Value") is not None else node.text
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _flat(name: str) -> str:
    return name.lower().replace(" ", "").replace("-", "").replace("_", "")


class BrmlReader:
    """Bruker DIFFRAC.SUITE .brml archives: one pattern per measured data route."""

    name = "bruker-brml"
    extensions = (".brml",)
    techniques = frozenset({"xrd"})
    description = "Bruker DIFFRAC.SUITE .brml (zip of Experiment0/RawData0.xml)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        if b"Experiment0/" in head[:4096] and b"RawData" in head:
            return True
        try:
            with zipfile.ZipFile(path) as archive:
                return any(_RAW_DATA.search(n) for n in archive.namelist())
        except Exception:  # sniff never raises
            return False

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One ``Pattern`` per RawData member and data route; option ``strict``."""
        opts = check_options(self.name, options, strict=False)
        path = Path(path)
        patterns = []
        try:
            with zipfile.ZipFile(path) as archive:
                members = sorted((n for n in archive.namelist() if _RAW_DATA.search(n)),
                                 key=lambda n: tuple(int(g) for g in _RAW_DATA.search(n).groups()))
                if not members:
                    raise InputError("the archive holds no Experiment*/RawData*.xml", source=path)
                for member in members:
                    patterns += self._member(path, member, archive.read(member), opts["strict"])
        except InputError:
            raise
        except _ZIP_ERRORS as exc:
            raise InputError(f"not a readable zip archive ({type(exc).__name__}: {exc}); the file may be "
                             "truncated or damaged", source=path) from None
        if not patterns:
            raise InputError("no data route with <Datum> rows in the archive", source=path)
        return patterns

    def _member(self, path: Path, member: str, xml: bytes, strict: bool) -> list[Any]:
        try:
            root = ElementTree.fromstring(xml)
        except ElementTree.ParseError as exc:
            raise InputError(f"{member} is not well-formed XML ({exc.msg.split(':')[0]})",
                             source=path) from None
        # the tube's element is named differently across DIFFRAC versions; its children are not
        wavelengths: tuple[tuple[float, float], ...] = ()
        meta_common: dict[str, Any] = {"format": self.name, "file": path.name, "member": member}
        alpha1 = _value(_find(root, "WaveLengthAlpha1"))
        alpha2 = _value(_find(root, "WaveLengthAlpha2"))
        ratio = _value(_find(root, "WaveLengthRatio"))
        if alpha1:
            wavelengths = ((alpha1, 1.0),) if not (alpha2 and ratio) else ((alpha1, 1.0), (alpha2, ratio))
        material = _find(root, "TubeMaterial")
        if material is not None and (material.text or "").strip():
            meta_common["anode"] = material.text.strip()
        started = _find(root, "TimeStampStarted")
        if started is not None and (started.text or "").strip():
            meta_common["start_time"] = started.text.strip()
        out = []
        for k, route in enumerate(e for e in root.iter() if _local(e.tag) == "DataRoute"):
            rows = [d.text for d in route if _local(d.tag) == "Datum" and (d.text or "").strip()]
            if not rows:
                continue
            meta = {**meta_common, "route": k, "route_flag": route.get("RouteFlag", "")}
            out.append(self._route(path, member, route, rows, wavelengths, meta, strict))
        return out

    def _route(self, path: Path, member: str, route: Any, rows: list[str], wavelengths: Any,
               meta: dict[str, Any], strict: bool) -> Any:
        columns = self._columns(route)
        width = max(columns.values()) + 1
        table = np.full((len(rows), width), np.nan)
        for i, row in enumerate(rows):
            cells = row.split(",")
            if len(cells) < width:
                raise InputError(f"Datum row {i + 1} has {len(cells)} values where the data views "
                                 f"name {width}", source=path, location=member)
            try:
                table[i] = [float(c) for c in cells[:width]]
            except ValueError:
                raise InputError(f"Datum row {i + 1} holds a value that is not a number: {row!r}",
                                 source=path, location=member) from None
        scan = next((e for e in route if _local(e.tag) == "ScanInformation"), None)
        if scan is not None:
            meta["scan_axis"] = scan.get("VisibleName") or scan.get("ScanName") or ""
            step = _value(_find(scan, "Increment"))
            time = _value(_find(scan, "TimePerStep"))
            if step:
                meta["step_deg"] = abs(step)
            if time:
                meta["time_per_step_s"] = time
        if "AbsorptionFactor" in columns:
            factors = table[:, columns["AbsorptionFactor"]]
            if (factors != 1).any():
                meta["absorption_factor"] = factors.tolist()
        meta["intensity"] = "counts per step (as stored)"
        x, y = table[:, columns["TwoTheta"]], table[:, columns["counts"]]
        return build_pattern(path, x, y, None, lines=np.arange(1, len(rows) + 1),
                             wavelengths=wavelengths, metadata=meta, strict=strict,
                             row_label="datum")

    @staticmethod
    def _columns(route: Any) -> dict[str, int]:
        """Column index of 2θ, the counts and the named fixed views, from the data views."""
        columns: dict[str, int] = {}
        counts: int | None = None
        for view in (e for e in route.iter() if _local(e.tag) == "RawDataView"):
            try:
                start = int(view.get("Start", ""))
            except ValueError:
                continue
            kind = next((v for k, v in view.attrib.items() if _local(k) == "type"), "")
            if view.get("LogicName"):
                columns[view.get("LogicName")] = start
            fields = [f for f in view.iter() if _local(f.tag) == "FieldDefinitions"]
            for offset, field in enumerate(fields):
                name = field.get("FieldName") or field.get("AxisId") or ""
                if _flat(name) in _TWO_THETA:
                    columns["TwoTheta"] = start + offset
            if "Recorded" in kind and counts is None:
                counts = start
        if "TwoTheta" not in columns or counts is None:
            # DIFFRAC's usual row: measured time, absorber factor, 2θ, θ, counts
            columns.setdefault("TwoTheta", 2)
            counts = 4 if counts is None else counts
        columns["counts"] = counts
        return columns


class BrukerRawReader:
    """Bruker binary .raw, versions 3 (RAW1.01) and 4 (RAW4.00): one pattern per range."""

    name = "bruker-raw"
    extensions = (".raw",)
    techniques = frozenset({"xrd"})
    description = "Bruker binary .raw (RAW1.01 = v3, RAW4.00 = v4)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith((b"RAW1.0", b"RAW4.00", b"RAW2")) or \
            (head.startswith(b"RAW ") and b"\x00" in head[:256])

    def read(self, path: Path, **options: Any) -> list[Any]:
        """One ``Pattern`` per range; option ``strict``."""
        opts = check_options(self.name, options, strict=False)
        path = Path(path)
        data = read_bytes(path)
        if data.startswith(b"RAW1.0"):
            ranges, header = _Raw3(path, data).read()
        elif data.startswith(b"RAW4.00"):
            ranges, header = _Raw4(path, data).read()
        else:
            raise InputError(f"Bruker RAW version {data[:4].decode('latin-1').strip() or '?'} "
                             "is not read; only RAW1.01 (v3) and RAW4.00 (v4) are: export the "
                             "scan again from DIFFRAC, or as .xy", source=path)
        if not ranges:
            raise InputError("the file holds no measured range", source=path)
        patterns = []
        for k, (x, y, meta) in enumerate(ranges):
            meta = {"format": self.name, "file": path.name, "range": k, **header, **meta,
                    "intensity": "counts per step (as stored)"}
            wavelengths = meta.pop("_wavelengths", ())
            patterns.append(build_pattern(path, x, y, None, wavelengths=wavelengths, metadata=meta,
                                          strict=opts["strict"], row_label="point"))
        return patterns


class _Binary:
    """Bounds-checked reads: a file cut short is an InputError naming the file, not struct.error."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path, self.data = path, data

    def unpack(self, fmt: str, at: int, what: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        if at < 0 or at + size > len(self.data):
            raise InputError(f"the file ends inside {what} (needs bytes {at}–{at + size}, holds "
                             f"{len(self.data)}): truncated", source=self.path)
        return struct.unpack_from(fmt, self.data, at)

    def text(self, at: int, length: int) -> str:
        return self.data[at:at + length].split(b"\x00")[0].decode("latin-1").strip()

    def intensities(self, at: int, n: int, stride: int, what: str) -> np.ndarray:
        if stride < 4 or n < 1:
            raise InputError(f"{what}: {n} points of {stride} bytes cannot hold float32 "
                             "intensities", source=self.path)
        self.unpack(f"{stride}s", at + (n - 1) * stride, what)  # the last datum must fit
        block = np.frombuffer(self.data, dtype=np.uint8, count=n * stride, offset=at)
        return block.reshape(n, stride)[:, :4].copy().view("<f4").ravel().astype(float)

    def wavelengths(self, alpha1: float, alpha2: float, ratio: float) -> tuple[tuple[float, float], ...]:
        if not 0.05 <= alpha1 <= 5:
            return ()
        if 0.05 <= alpha2 <= 5 and 0 < ratio <= 1 and alpha2 != alpha1:
            return ((alpha1, 1.0), (alpha2, ratio))
        return ((alpha1, 1.0),)


class _Raw3(_Binary):
    def read(self) -> tuple[list[tuple[np.ndarray, np.ndarray, dict[str, Any]]], dict[str, Any]]:
        (count,) = self.unpack("<I", 12, "the file header")
        alpha1, alpha2, _, ratio = self.unpack("<4d", 624, "the file header")
        header: dict[str, Any] = {"version": "RAW1.01 (v3)",
                                  "_wavelengths": self.wavelengths(alpha1, alpha2, ratio)}
        for key, at, length in (("start_time", 16, 20), ("sample", 326, 60), ("anode", 608, 4)):
            text = self.text(at, length) if key != "start_time" else \
                f"{self.text(16, 10)} {self.text(26, 10)}".strip()
            if text:
                header[key] = text
        ranges, at = [], 712
        for k in range(count):
            where = f"the header of range {k + 1}"
            size, n = self.unpack("<II", at, where)
            (start,) = self.unpack("<d", at + 16, where)
            (step,) = self.unpack("<d", at + 176, where)
            (time,) = self.unpack("<f", at + 192, where)
            record, extra = self.unpack("<II", at + 252, where)
            if size < 260 or not np.isfinite(step) or step <= 0:
                raise InputError(f"range {k + 1} has an implausible header (size {size}, step "
                                 f"{step:g}): not a RAW1.01 layout read here", source=self.path)
            data_at = at + size + extra
            y = self.intensities(data_at, n, record, f"the data of range {k + 1}")
            meta: dict[str, Any] = {"step_deg": step}
            if 0 < time < 1e6:
                meta["time_per_step_s"] = float(time)
            ranges.append((start + step * np.arange(n), y, meta))
            at = data_at + n * record
        return ranges, header


class _Raw4(_Binary):
    def read(self) -> tuple[list[tuple[np.ndarray, np.ndarray, dict[str, Any]]], dict[str, Any]]:
        self.unpack("<I", 57, "the file header")
        header: dict[str, Any] = {"version": "RAW4.00 (v4)", "_wavelengths": ()}
        stamp = f"{self.text(12, 12)} {self.text(24, 10)}".strip()
        if stamp:
            header["start_time"] = stamp
        ranges, at = [], 61
        while at + 4 <= len(self.data):
            (kind,) = self.unpack("<I", at, "a record")
            if kind in (0, 160):
                if not any(self.data[at:]):
                    break  # zero padding after the last range
                x, y, meta, at = self._range(at, len(ranges) + 1)
                ranges.append((x, y, meta))
                continue
            (length,) = self.unpack("<I", at + 4, f"the record at byte {at}")
            if length < 8:
                raise InputError(f"a record at byte {at} declares {length} bytes: not a RAW4.00 "
                                 "layout read here", source=self.path)
            self.unpack(f"{length}s", at, f"the record at byte {at}")
            if kind == 10 and length > 36:
                name, value = self.text(at + 12, 24).upper(), self.text(at + 36, length - 36)
                if name == "SAMPLEID" and value:
                    header["sample"] = value
                elif name == "USER" and value:
                    header["operator"] = value
            elif kind == 30 and length >= 120:
                alpha1, alpha2, _, ratio = self.unpack("<4d", at + 80, "the tube record")
                header["_wavelengths"] = self.wavelengths(alpha1, alpha2, ratio)
                if self.text(at + 116, 4):
                    header["anode"] = self.text(at + 116, 4)
            at += length
        return ranges, header

    def _range(self, at: int, k: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any], int]:
        where = f"the header of range {k}"
        self.unpack("160s", at, where)
        scan_type = self.text(at + 32, 24)
        start, step = self.unpack("<dd", at + 72, where)
        (n,) = self.unpack("<I", at + 88, where)
        (time_ms,) = self.unpack("<f", at + 92, where)
        datum, drives_size = self.unpack("<II", at + 136, where)
        if not (np.isfinite(start) and np.isfinite(step) and step > 0):
            raise InputError(f"range {k} steps by {step:g} from {start:g}: not a scan read here",
                             source=self.path)
        drives = self._drives(at + 160, drives_size, k)
        self._check_two_theta(scan_type, drives, start, k)
        data_at = at + 160 + drives_size
        y = self.intensities(data_at, n, datum, f"the data of range {k}")
        meta: dict[str, Any] = {"step_deg": step, "scan_axis": scan_type}
        if 0 < time_ms < 1e9:
            meta["time_per_step_s"] = float(time_ms) / 1000.0
        return start + step * np.arange(n), y, meta, data_at + n * datum

    def _drives(self, at: int, size: int, k: int) -> dict[str, float]:
        drives, end = {}, at + size
        self.unpack(f"{size}s", at, f"the drive records of range {k}")
        while at < end:
            kind, length = self.unpack("<II", at, f"the drive records of range {k}")
            if length < 8 or at + length > end:
                raise InputError(f"the drive records of range {k} overrun their declared size",
                                 source=self.path)
            if kind == 50 and length >= 64:
                drives[self.text(at + 12, 24)] = self.unpack("<d", at + 56, "a drive record")[0]
            at += length
        return drives

    def _check_two_theta(self, scan_type: str, drives: dict[str, float], start: float, k: int) -> None:
        two_theta = next((v for name, v in drives.items() if _flat(name) in _TWO_THETA), None)
        if two_theta is not None:
            if abs(two_theta - start) > 1e-6:
                raise InputError(f"range {k} ({scan_type!r}) starts at {start:g} but 2θ at "
                                 f"{two_theta:g}: it does not step 2θ, not a powder scan",
                                 source=self.path)
            return
        flat = _flat(scan_type)
        if any(flat == a or flat.startswith(a + "scan") for a in _OTHER_AXES) or "rocking" in flat:
            raise InputError(f"range {k} is a {scan_type!r} scan, not a 2θ scan", source=self.path)
