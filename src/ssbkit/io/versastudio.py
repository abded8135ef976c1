"""Princeton Applied Research VersaStudio project files (.par).

A .par file is a list of ``<Section> key=value … </Section>`` blocks. Measured data sit in
``<SegmentN>`` blocks: a ``Definition=`` line names the comma-separated columns (``Frequency
(Hz)``, ``Z Real``, ``Z Imag``, ``Elapsed Time(s)``, ``E(V)``, ``I(A)`` …) and the rows
follow. Each segment with impedance columns gives one spectrum per sweep; ``Z Imag`` is
already Z'' in ssbkit's sign. Metadata come from ``<Instrument>``, ``<Experiment>`` and the
``<ActionN>`` blocks (area, DC potential and its reference).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ssbkit.core.errors import InputError, UnsupportedFormatError
from ssbkit.io._build import check_options, containers_from_columns
from ssbkit.io._columns import map_columns
from ssbkit.io._text import decode, detect_decimal, parse_table, read_text, split_fields, split_lines

__all__ = ["VersaStudioReader"]


def _sections(lines: list[str]) -> list[tuple[str, int, int]]:
    """(name, first line after the opening tag, index of the closing tag) for each block."""
    out, open_name, start = [], None, 0
    for i, line in enumerate(lines):
        text = line.strip()
        if open_name is None:
            match = re.fullmatch(r"<([A-Za-z]\w*)>", text)
            if match:
                open_name, start = match[1], i + 1
        elif text == f"</{open_name}>":
            out.append((open_name, start, i))
            open_name = None
    if open_name is not None:
        out.append((open_name, start, len(lines)))
    return out


class VersaStudioReader:
    """VersaStudio .par files: impedance segments as spectra."""

    name = "versastudio-par"
    extensions = (".par",)
    techniques = frozenset({"eis"})
    description = "Princeton Applied Research VersaStudio project (.par), EIS segments"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = decode(head[:8192]).lstrip("\ufeff")
        return text.startswith("<Application>") and ("VersaStudio" in text or "<Action" in text)

    def read(self, path: Path, **options: Any) -> list[Any]:
        """Options: ``strict``, ``split_sweeps``."""
        opts = check_options(self.name, options, strict=False, split_sweeps=True)
        path = Path(path)
        lines = split_lines(read_text(path).lstrip("\ufeff"))
        sections = _sections(lines)
        if not any(name == "Application" for name, _, _ in sections):
            raise UnsupportedFormatError("not a VersaStudio .par file", source=path)
        metadata = {"format": self.name, "file": path.name, **_metadata(lines, sections)}
        out: list[Any] = []
        for name, start, stop in sections:
            if not name.startswith("Segment"):
                continue
            definition = next((i for i in range(start, stop) if lines[i].startswith("Definition=")),
                              None)
            if definition is None:
                raise InputError(f"<{name}> has no Definition= line", source=path,
                                 location=f"line {start}")
            names = split_fields(lines[definition][len("Definition="):], ",")
            columns = map_columns(names, source=path, location=f"line {definition + 1}")
            if not columns.has_impedance():
                continue
            first = next((ln for ln in lines[definition + 1:stop] if ln.strip()), None)
            if first is None:
                continue
            table = parse_table(lines, definition + 1, stop=stop, names=names, sep=",",
                                decimal=detect_decimal(split_fields(first, ","), ","),
                                source=path, numeric=sorted(columns.index.values()),
                                allow_extra=True)
            out += containers_from_columns(path, table.values, table.lines, columns,
                                           metadata={**metadata, "segment": name},
                                           split=opts["split_sweeps"], strict=opts["strict"],
                                           dc_records=False)
        if not out:
            raise InputError("no segment with frequency, Z Real and Z Imag columns", source=path)
        return out


def _metadata(lines: list[str], sections: list[tuple[str, int, int]]) -> dict[str, Any]:
    values: dict[str, dict[str, str]] = {}
    for name, start, stop in sections:
        if name.startswith("Segment"):
            continue
        block = values.setdefault(name, {})
        for line in lines[start:stop]:
            key, sep, value = line.partition("=")
            if sep:
                block.setdefault(key.strip(), value.strip())
    meta: dict[str, Any] = {}
    instrument = values.get("Instrument", {})
    if instrument.get("Type"):
        meta["instrument"] = " ".join(v for v in ("VersaStudio", instrument.get("Type"),
                                                  instrument.get("Model")) if v)
    experiment = values.get("Experiment", {})
    when = " ".join(v for v in (experiment.get("DateAcquired"), experiment.get("TimeAcquired"))
                    if v)
    if when:
        meta["start_time"] = when
    for name, block in values.items():
        if not name.startswith("Action"):
            continue
        if "Working Electrode Area (cm2)" in block and "area_cm2" not in meta:
            try:
                meta["area_cm2"] = float(block["Working Electrode Area (cm2)"])
            except ValueError:
                pass
        if "EIS" in block.get("Name", "") and "technique" not in meta:
            meta["technique"] = block["Name"]
            try:
                meta["dc_potential_V"] = float(block.get("Potential (V),Value", ""))
                meta["dc_potential_vs"] = block.get("Potential (V),Versus", "")
            except ValueError:
                pass
    return meta
