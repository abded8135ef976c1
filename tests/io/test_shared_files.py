"""Every file in ../shared/data/eis either reads or fails with an InputError naming it.

The expected outcome of each known file (reader, number of spectra and DC records, or the
error) is written out below, from reading the files by eye; a file added to the folder later
still gets the general check (read, or an InputError subclass that names the file).
"""

from __future__ import annotations

import pytest

import ssbkit
from ssbkit.core.errors import InputError, UnsupportedFormatError
from ssbkit.eis import Chronoamperometry, Spectrum
from ssbkit.io import find_reader
from ssbkit.testing import shared_data, shared_data_root

UNSUPPORTED = UnsupportedFormatError
# relative path -> (reader, spectra, DC records) or (error class, text in the message)
EXPECTED: dict[str, tuple] = {
    "README.md": (UNSUPPORTED, "no installed reader"),
    "DRTtools/LICENSE.DRTtools.txt": (UNSUPPORTED, "no installed reader"),
    "DRTtools/data_LIB.csv": ("table", 1, 0),
    "DRTtools/data_ZARC.csv": ("table", 1, 0),
    "EISFitpython/LICENSE.EISFitpython.MIT.txt": (UNSUPPORTED, "no installed reader"),
    **{f"EISFitpython/Example-3-4/s04147-{t}deg.txt": ("neisys-txt", 1, 0)
       for t in range(140, 201, 10)},
    **{f"EISFitpython/Example3_reference_outputs/{name}": (UNSUPPORTED, "no installed reader")
       for name in ("Arrhenius_Analysis_Report.txt", "Batch_EISfit_Report.txt",
                    "Effective_Capacitance_Values.txt", "Example4_Arrhenius_Analysis_Report.txt",
                    "Example4_Single-chi_Report.txt")},
    **{f"impedance.py/Circuit{c}_EIS_{k}.z": ("zplot", 1, 0) for c in (1, 2, 3) for k in (1, 2)},
    "impedance.py/LICENSE.impedance.py.txt": (UNSUPPORTED, "no installed reader"),
    "impedance.py/exampleData.csv": ("table", 1, 0),
    "impedance.py/exampleDataAutolab.txt": ("zplot", 1, 0),
    "impedance.py/exampleDataBioLogic.mpt": ("biologic-mpt", 1, 0),
    "impedance.py/exampleDataBioLogic_MissingFreq.mpt": (InputError, "line 62"),
    "impedance.py/exampleDataCHInstruments.txt": ("chi-txt", 1, 0),
    "impedance.py/exampleDataGamry.DTA": ("gamry-dta", 1, 0),
    "impedance.py/exampleDataGamryABORT.DTA": ("gamry-dta", 1, 0),
    "impedance.py/exampleDataParstat.txt": ("table", 1, 1),
    "impedance.py/exampleDataPowersuite.txt": ("table", 1, 0),
    "impedance.py/exampleDataVersaStudio.par": ("versastudio-par", 1, 0),
    "impedance.py/exampleDataZPlot.z": ("zplot", 1, 0),
    "impedance.py/exampleDataZPlot_noComments.z": ("zplot", 1, 0),
    "pyDRTtools/LICENSE.pyDRTtools.txt": (UNSUPPORTED, "no installed reader"),
    "pyDRTtools/data_1.csv": ("table", 1, 0),
    **{f"pyDRTtools/text_files/{name}": ("table", 1, 0)
       for name in ("LIB_data.txt", "LIB_data_2.txt", "negami_data.txt", "zarc_data.txt")},
    **{f"pyDRTtools/tutorial_data/{name}.csv": ("table", 1, 0)
       for name in ("1ZARC", "2XZARCequal", *(f"2ZARC{k}" for k in range(6)))},
    "pyDRTtools/tutorial_data/gamma_data.csv": (InputError, "'tau', 'gamma'"),
    "pyDRTtools/tutorial_data/gamma_data1.csv": (InputError, "'tau', 'gamma'"),
    "pyDRTtools/tutorial_results/1ZARC_DRT-RR.csv": (InputError, "three columns"),
    **{f"pyDRTtools/tutorial_results/2ZARC_DRT-RR_{k}.csv": (InputError, "three columns")
       for k in range(6)},
    "pyDRTtools/tutorial_results/1ZARC_Z-RR.csv": ("table", 1, 0),
    **{f"pyDRTtools/tutorial_results/2ZARC_Z-RR_{k}.csv": ("table", 1, 0) for k in range(6)},
    "pyimpspec/LICENSE.pyimpspec.GPL-3.0.txt": (UNSUPPORTED, "no installed reader"),
    "pyimpspec/case-multiple-spectra.mpt": ("biologic-mpt", 3, 0),
    "pyimpspec/data-comma.csv": ("table", 1, 0),
    "pyimpspec/data.P00": ("p00", 1, 0),
    "pyimpspec/data.dfr": ("autolab-dfr", 1, 0),
    "pyimpspec/data.dta": ("gamry-dta", 1, 0),
    "pyimpspec/data.i2b": ("elchemea-i2b", 1, 0),
    "pyimpspec/data.idf": ("ivium", 1, 0),
    "pyimpspec/data.ids": ("ivium", 2, 0),
    "pyimpspec/data.mpt": ("biologic-mpt", 1, 0),
    "pyimpspec/data.ods": ("spreadsheet", 4, 0),
    "pyimpspec/data.pssession": ("palmsens-pssession", 1, 0),
    "pyimpspec/data.xlsx": ("spreadsheet", 4, 0),
    "pyimpspec/data.z": ("zplot", 1, 0),
    "pyimpspec/drift-corrected-data.dta": ("gamry-dta", 1, 0),
}


def _files() -> list[str]:
    root = shared_data_root()
    folder = None if root is None else root / "eis"
    if folder is None or not folder.is_dir():
        return sorted(EXPECTED)  # each test then skips (or fails in CI) through shared_data
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.shared_data
@pytest.mark.parametrize("relative", _files())
def test_every_shared_eis_file_reads_or_fails_naming_itself(relative):
    path = shared_data("eis", *relative.split("/"))
    expected = EXPECTED.get(relative)
    try:
        containers = ssbkit.read(path)
    except InputError as exc:
        assert str(path) in str(exc), f"the error does not name the file: {exc}"
        if expected is None:
            return
        assert isinstance(expected[0], type), f"{relative} should read, but: {exc}"
        assert isinstance(exc, expected[0]) and expected[1] in str(exc), str(exc)
        return
    assert containers, "a reader returned nothing without an error"
    if expected is None:
        return
    assert not isinstance(expected[0], type), f"{relative} should fail with {expected[0]}"
    reader, n_spectra, n_records = expected
    assert find_reader(path).name == reader
    assert sum(isinstance(c, Spectrum) for c in containers) == n_spectra
    assert sum(isinstance(c, Chronoamperometry) for c in containers) == n_records
    assert all(c.metadata["format"] == reader and c.metadata["file"] == path.name
               for c in containers)


def test_the_expectation_table_lists_only_existing_files():
    root = shared_data_root()
    if root is None or not (root / "eis").is_dir():
        shared_data("eis", "README.md")  # skips, or fails in CI
    missing = [name for name in EXPECTED if not (root / "eis" / name).is_file()]
    assert not missing, f"listed but absent: {missing}"
