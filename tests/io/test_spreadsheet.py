"""Spreadsheets: .xlsx and .ods, one impedance table per sheet."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from eis_writers import rc_spectrum, write_xlsx

from ssbkit.core.errors import InputError
from ssbkit.io.spreadsheet import SpreadsheetReader
from ssbkit.testing import shared_data

SHEETS = SpreadsheetReader()


def _write_ods(path, header, values):
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    rows = ["<table:table-row>" + "".join(
        f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
        for h in header) + '<table:table-cell table:number-columns-repeated="1021"/>'
        "</table:table-row>"]
    for row in values:
        rows.append("<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="float" office:value="{float(v)!r}">'
            f"<text:p>{float(v)}</text:p></table:table-cell>" for v in row) + "</table:table-row>")
    rows.append('<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
                'table:number-columns-repeated="1024"/></table:table-row>')
    content = (f"<office:document-content {ns}><office:body><office:spreadsheet>"
               f'<table:table table:name="eis">{"".join(rows)}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    return path


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["data.xlsx", "data.ods"])
def test_four_header_variants_agree(name):
    spectra = SHEETS.read(shared_data("eis", "pyimpspec", name))
    assert [s.metadata["sheet"] for s in spectra] == [f"header-variant-{k}" for k in range(1, 5)]
    # f/Z'/Z''; freq/Zre/-Zim; frequency/real/imaginary; frequency/|Z|/-phase
    for s in spectra:
        assert len(s) == 29 and s.frequency[0] == 1e4
        assert s.impedance[0] == pytest.approx(109.00918219439 - 26.5556798765152j, rel=1e-12)


def test_xlsx_round_trip_and_non_impedance_sheets_are_skipped(tmp_path):
    truth = rc_spectrum(12)
    rows = np.column_stack([truth.frequency, truth.impedance.real, -truth.impedance.imag])
    path = write_xlsx(tmp_path / "x.xlsx", {"notes": (["sample", "mass"], np.ones((2, 2))),
                                             "eis": (["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm"], rows)})
    (s,) = SHEETS.read(path)
    assert s.metadata["sheet"] == "eis" and s.metadata["first_row"] == 2
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-15)


def test_ods_round_trip_with_repeated_blank_cells_and_rows(tmp_path):
    truth = rc_spectrum(12)
    rows = np.column_stack([truth.frequency, truth.impedance.real, truth.impedance.imag])
    (s,) = SHEETS.read(_write_ods(tmp_path / "x.ods", ["f", "Z'", "Z''"], rows))
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-15)


def test_workbook_without_impedance_lists_its_sheets(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"notes": (["sample", "mass"], np.ones((2, 2)))})
    with pytest.raises(InputError, match="no sheet holds impedance columns; sheets: 'notes': "
                                         "sample, mass"):
        SHEETS.read(path)


def test_text_in_a_cell_names_sheet_and_row(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"eis": (["f", "Z'", "Z''"], np.ones((3, 3)))})
    with zipfile.ZipFile(path) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files["xl/worksheets/sheet1.xml"] = files["xl/worksheets/sheet1.xml"].replace(
        b'<c r="B3"><v>1.0</v></c>', b'<c r="B3" t="inlineStr"><is><t>oops</t></is></c>')
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(InputError, match="sheet 'eis', row 3: column \"Z'\": 'oops' is not a"):
        SHEETS.read(path)


def test_truncated_workbook(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"eis": (["f", "Z'", "Z''"], np.ones((3, 3)))})
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 200])
    with pytest.raises(InputError, match="damaged or truncated"):
        SHEETS.read(path)
