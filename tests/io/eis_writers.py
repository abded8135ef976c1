"""Writers of synthetic instrument files in each vendor's layout, for round-trip tests.

Each writer lays a known spectrum (from ``ssbkit.eis.simulate_spectrum``) or DC record out
the way the instrument software does, including its sign convention (BioLogic, PalmSens
and the .dfr write −Z''), so that reading the file back must give the spectrum again.
The layouts follow the real files in ``../shared/data/eis``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ssbkit.eis import Spectrum, simulate_spectrum


def rc_spectrum(n: int = 31, *, r0: float = 12.0, r1: float = 150.0, c1: float = 2e-6,
                f_max: float = 1e5, f_min: float = 0.1) -> Spectrum:
    """R0 + R1‖C1, noise-free: Z'' < 0 everywhere, |Z| falls with frequency."""
    return simulate_spectrum("R0-p(R1,C1)", {"R0": r0, "R1": r1, "C1": c1},
                             np.logspace(np.log10(f_max), np.log10(f_min), n))


def _e(value: float, decimal: str = ".") -> str:
    return f"{value:.7E}".replace(".", decimal)


def write_mpt(path: Path, spectra: Sequence[Spectrum], *, decimal: str = ".",
              cycles: Sequence[int] | None = None,
              technique: str = "Potentio Electrochemical Impedance Spectroscopy") -> Path:
    """EC-Lab text export of one or more sweeps (columns as EC-Lab 11 writes them)."""
    header = ["EC-Lab ASCII FILE", "Nb header lines : {n}", "", technique, "",
              "Run on channel : 1 (SN 1234)", "Acquisition started on : 01/02/2024 10:00:00",
              "Device : SP-300 (SN 1234)", f"Electrode surface area : {_e(0.785, decimal)} cm²",
              "Mode                Single sine", f"E (V)               {_e(0.0, decimal)}",
              "vs.                 Eoc", ""]
    columns = ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "|Z|/Ohm", "Phase(Z)/deg", "time/s",
               "<Ewe>/V", "<I>/mA", "cycle number", "I Range"]
    rows, t = [], 0.0
    for k, s in enumerate(spectra):
        cycle = cycles[k] if cycles is not None else k + 1
        for f, z in zip(s.frequency, s.impedance, strict=True):
            t += 1.0 / f + 0.5
            rows.append("\t".join([_e(f, decimal), _e(z.real, decimal), _e(-z.imag, decimal),
                                   _e(abs(z), decimal), _e(np.degrees(np.angle(z)), decimal),
                                   _e(t, decimal), _e(1e-4, decimal), _e(-2e-3, decimal),
                                   _e(cycle, decimal), "11"]))
    n = len(header) + 1
    header[1] = header[1].format(n=n)
    text = "\n".join(header + ["\t".join(columns) + "\t"] + rows) + "\n"
    path.write_bytes(text.encode("latin-1"))
    return path


def write_mpt_ca(path: Path, time: np.ndarray, current_mA: np.ndarray, voltage: np.ndarray,
                 *, average_current: bool = False) -> Path:
    """EC-Lab chronoamperometry export (mode, ox/red, … Ns, time/s, Ewe/V, I/mA …)."""
    header = ["EC-Lab ASCII FILE", "Nb header lines : {n}", "",
              "Chronoamperometry / Chronocoulometry", "", "Run on channel : 2 (SN 1234)",
              "Acquisition started on : 03/04/2024 09:30:00", "Device : VSP-300 (SN 99)",
              "Electrode surface area : 1.000 cm²", "Ei (V)              0.100", ""]
    current_name = "<I>/mA" if average_current else "I/mA"
    columns = ["mode", "ox/red", "error", "control changes", "Ns changes", "counter inc.", "Ns",
               "time/s", "control/V", "Ewe/V", current_name, "dq/mA.h", "(Q-Qo)/mA.h",
               "cycle number"]
    rows = ["\t".join(["2", "1", "0", "0", "0", "0", "0", f"{t:.15E}", "1.0000000E-001",
                       _e(v), _e(i), "0.000000000000000E+000", "0.000000000000000E+000",
                       "0.000000000000000E+000"])
            for t, v, i in zip(time, voltage, current_mA, strict=True)]
    header[1] = header[1].format(n=len(header) + 1)
    path.write_bytes(("\n".join(header + ["\t".join(columns) + "\t"] + rows) + "\n")
                     .encode("latin-1"))
    return path


def write_dta(path: Path, spectrum: Spectrum, *, decimal: str = ".", aborted_after: int | None = None,
              tag: str = "EISPOT") -> Path:
    """Gamry EISPOT file with an OCV table and the ZCURVE table."""
    def n(value: float) -> str:
        return f"{value:.6g}".replace(".", decimal)

    lines = ["EXPLAIN", f"TAG\t{tag}", "TITLE\tLABEL\tPotentiostatic EIS\tTest &Identifier",
             "DATE\tLABEL\t1/2/2024\tDate", "TIME\tLABEL\t10:00:00\tTime",
             "NOTES\tNOTES\t1\t&Notes...", "\tpellet 1", "PSTAT\tPSTAT\tREF600-1\tPotentiostat",
             f"VDC\tPOTEN\t{n(0.0)}\tT\tDC &Voltage (V)",
             f"AREA\tQUANT\t{n(0.785)}\t&Area (cm^2)", "OCVCURVE\tTABLE\t2",
             "\tPt\tT\tVf\tVm\tAch\tOver\tTemp", "\t#\ts\tV vs. Ref.\tV\tV\tbits\tdeg C",
             f"\t0\t{n(0.25)}\t{n(0.01)}\t{n(0.01)}\t0\t...........\t-327.67",
             f"\t1\t{n(0.5)}\t{n(0.01)}\t{n(0.01)}\t0\t...........\t-327.67",
             f"EOC\tQUANT\t{n(0.01)}\tOpen Circuit (V)", "ZCURVE\tTABLE",
             "\tPt\tTime\tFreq\tZreal\tZimag\tZsig\tZmod\tZphz\tIdc\tVdc\tIERange",
             "\t#\ts\tHz\tohm\tohm\tV\tohm\t°\tA\tV\t#"]
    count = len(spectrum) if aborted_after is None else aborted_after
    for k in range(count):
        f, z = spectrum.frequency[k], spectrum.impedance[k]
        lines.append("\t".join(["", str(k), str(2 * k + 1), n(f), n(z.real), n(z.imag), "1",
                                n(abs(z)), n(np.degrees(np.angle(z))), n(1e-9), n(0.01), "7"]))
    if aborted_after is not None:
        lines.append("EXPERIMENTABORTED\tTOGGLE\tT\tExperiment Aborted")
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return path


def write_dta_chronoa(path: Path, time: np.ndarray, voltage: np.ndarray,
                      current_A: np.ndarray) -> Path:
    """Gamry CHRONOA file: setup objects, then the CURVE table (T, Vf, Im …)."""
    lines = ["EXPLAIN", "TAG\tCHRONOA", "TITLE\tLABEL\tChronoamperometry Scan\tTest &Identifier",
             "DATE\tLABEL\t2/3/2024\tDate", "TIME\tLABEL\t11:00:00\tTime",
             "PSTAT\tPSTAT\tREF600-1\tPotentiostat",
             "VSTEP1\tPOTEN\t1.00000E-001\tF\tStep 1 &E (V)",
             "TSTEP1\tQUANT\t3.60000E+003\tStep 1 &Time (s)",
             "SAMPLETIME\tQUANT\t1.00000E+000\tSample &Period (s)",
             "AREA\tQUANT\t1.00000E+000\tSample &Area (cm^2)",
             f"CURVE\tTABLE\t{len(time)}",
             "\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver\tTemp",
             "\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits\tdeg C"]
    for k, (t, v, i) in enumerate(zip(time, voltage, current_A, strict=True)):
        lines.append("\t".join(["", str(k), f"{t:g}", f"{v:.6E}", f"{i:.6E}", "0", f"{v:.6E}",
                                "0", "8", "...........", "-327.67"]))
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return path


def write_z(path: Path, spectrum: Spectrum, *, declared: int | None = None) -> Path:
    """ZPlot ``ZPLOT2 ASCII`` file with its comment block."""
    declared = len(spectrum) if declared is None else declared
    lines = ["ZPLOT2 ASCII", "  Measured Data, ZPlot:       3.2c",
             "  Experiment Type:            Sweep Frequency, Control Voltage",
             "  Date:                       01-02-2024", "  Time:                       10:00:00",
             "  Begin Experiment:           0", "    Potential-DC:             0",
             "  End Experiment:             0", f"  Data Points:                {declared}",
             "  Freq(Hz)\tAmpl\tBias\tTime(Sec)\tZ'(a)\tZ''(b)\tGD\tErr\tRange", "End Comments"]
    for k, (f, z) in enumerate(zip(spectrum.frequency, spectrum.impedance, strict=True)):
        lines.append(f"{f:.6E}\t1.0000E-02\t0.0000E+00\t{k + 1:.6E}\t{z.real:.6E}\t{z.imag:.6E}"
                     "\t0.0000E+00\t0\t3")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_squidstat(path: Path, repeats: Sequence[Spectrum], *, dc_points: int = 5,
                    imag_header: str = '"-Z"" (Ohms)"') -> Path:
    """Squidstat CSV: an OCV/potentiostatic DC step, then an EIS step looped ``len(repeats)``
    times (Repeats 1, 2, …), as the Squidstat software writes a sequence."""
    header = ["Timestamp", "Elapsed Time (s)", "Step Name", "Step number", "Repeats",
              "Working Electrode (V)", "Current (A)", "Frequency (Hz)", "|Z| (Ohms)",
              "Phase (deg)", "Z' (Ohms)", imag_header, "Cumulative Charge (mAh)"]
    rows, t = [",".join(header)], 0.0
    for k in range(dc_points):
        t += 1.0
        rows.append(f"2024-01-02 10:00:{k:02d},{t:.3f},Constant Potential,1,1,0.100000,"
                    f"{1e-6 / (1 + t):.6E},,,,,,0")
    for r, s in enumerate(repeats, start=1):
        for f, z in zip(s.frequency, s.impedance, strict=True):
            t += 1.0
            rows.append(f"2024-01-02 10:01:00,{t:.3f},EIS,2,{r},0.100000,1.0E-9,{f:.8E},"
                        f"{abs(z):.8E},{np.degrees(np.angle(z)):.8E},{z.real:.8E},{-z.imag:.8E},0")
    path.write_text("\n".join(rows) + "\n")
    return path


def write_pssession(path: Path, spectrum: Spectrum) -> Path:
    """PalmSens session: UTF-16 JSON, ZIm stored as −Z'' (quantity label "-Z''")."""
    def array(kind: str, quantity: str, data: np.ndarray) -> dict:
        return {"Type": "PalmSens.Data.DataArray", "Description": kind,
                "Unit": {"Type": f"PalmSens.Units.{kind}", "S": "", "Q": quantity},
                "DataValues": [{"V": float(v)} for v in data]}

    session = {"Type": "PalmSens.DataFiles.SessionFile", "CoreVersion": "5.9",
               "Measurements": [{"Title": "synthetic", "TimeStamp": 638283044195322907,
                                 "DeviceUsed": 9, "DeviceSerial": "ES1",
                                 "DataSet": {"Type": "PalmSens.Data.DataSetEIS", "Values": [
                                     array("Hertz", "Frequency", spectrum.frequency),
                                     array("ZRe", "Z'", spectrum.impedance.real),
                                     array("ZIm", "-Z''", -spectrum.impedance.imag)]}}]}
    path.write_bytes(json.dumps(session).encode("utf-16"))
    return path


def write_dfr(path: Path, spectrum: Spectrum) -> Path:
    """Autolab FRA .dfr: VERSION8.0, count, a line, then nine values per point (−Z'')."""
    lines = ["VERSION8.0", f" {len(spectrum)}", " 1"]
    for f, z in zip(spectrum.frequency, spectrum.impedance, strict=True):
        lines += [f" {float(f)!r}", f" {float(z.real)!r}", f" {float(-z.imag)!r}"] + [" 0.0"] * 6
    lines += [" 0.0", " 1.0", "13.07.2022 22:32:00"]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_xlsx(path: Path, sheets: dict[str, tuple[list[str], np.ndarray]]) -> Path:
    """A minimal .xlsx: one sheet per entry, header row of shared strings, numeric rows."""
    strings: list[str] = []
    sheet_xml = []
    for header, values in sheets.values():
        cells = []
        for j, name in enumerate(header):
            strings.append(name)
            cells.append(f'<c r="{chr(65 + j)}1" t="s"><v>{len(strings) - 1}</v></c>')
        rows = [f'<row r="1">{"".join(cells)}</row>']
        for i, row in enumerate(values, start=2):
            rows.append(f'<row r="{i}">' + "".join(
                f'<c r="{chr(65 + j)}{i}"><v>{float(v)!r}</v></c>' for j, v in enumerate(row)) + "</row>")
        sheet_xml.append('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                         f'main"><sheetData>{"".join(rows)}</sheetData></worksheet>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    workbook = (f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>' + "".join(
        f'<sheet name="{name}" sheetId="{k + 1}" r:id="rId{k + 1}"/>'
        for k, name in enumerate(sheets)) + "</sheets></workbook>")
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{k + 1}" Target="worksheets/sheet{k + 1}.xml" '
                      f'Type="{rel}/worksheet"/>' for k in range(len(sheets)))
            + "</Relationships>")
    shared = (f'<sst xmlns="{main}">' + "".join(f"<si><t>{s.replace('&', '&amp;')}</t></si>"
                                                 for s in strings) + "</sst>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        archive.writestr("xl/sharedStrings.xml", shared)
        for k, xml in enumerate(sheet_xml):
            archive.writestr(f"xl/worksheets/sheet{k + 1}.xml", xml)
    return path
