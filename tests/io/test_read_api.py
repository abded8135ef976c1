"""The io package: registered readers, read_spectra/read_chronoamperometry, cross-format checks."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum, write_mpt_ca

from ssbkit.core.errors import InputError
from ssbkit.io import list_readers, read_chronoamperometry, read_spectra
from ssbkit.testing import shared_data

BUILT_IN = {"biologic-mpt", "biologic-mpr", "gamry-dta", "zplot", "versastudio-par", "chi-txt",
            "neisys-txt", "squidstat-csv", "ivium", "palmsens-pssession", "autolab-dfr", "p00",
            "elchemea-i2b", "spreadsheet", "table"}


def test_every_built_in_reader_is_registered_with_its_attributes():
    readers = list_readers()
    assert BUILT_IN <= set(readers)
    for name in BUILT_IN:
        cls = readers[name]
        assert cls.name == name and cls.description
        assert isinstance(cls.techniques, frozenset) and "eis" in cls.techniques
        assert all(e.startswith(".") and e == e.lower() for e in cls.extensions)


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_sniff_never_raises(name, tmp_path):
    reader = list_readers()[name]()
    rng = np.random.default_rng(7)
    heads = [b"", b"\x00" * 64, rng.bytes(4096), "é".encode("utf-16") * 100,
             b"EXPLAIN\nTAG", b"EC-Lab ASCII FILE\n", b"PK\x03\x04" + rng.bytes(100),
             b"VERSION8.0\n", b'"ZPlotW Data File', b"<Application>\n"]
    for head in heads:
        assert reader.sniff(tmp_path / "x.bin", head) in (True, False)


@pytest.mark.shared_data
def test_the_same_spectrum_in_twelve_formats_reads_the_same():
    # pyimpspec stores one control spectrum in every format it parses; each format's
    # printed precision bounds the agreement.
    (reference,) = read_spectra(shared_data("eis", "pyimpspec", "data-comma.csv"))
    precision = {"data.mpt": 1e-7, "case-multiple-spectra.mpt": 1e-7, "data.dta": 1e-12,
                 "data.z": 1e-6, "data.P00": 2e-3, "data.dfr": 1e-12, "data.i2b": 1e-12,
                 "data.idf": 1e-5, "data.ids": 1e-5, "data.pssession": 1e-12,
                 "data.xlsx": 1e-12, "data.ods": 1e-12}
    for name, rtol in precision.items():
        spectra = read_spectra(shared_data("eis", "pyimpspec", name))
        for s in spectra:
            np.testing.assert_allclose(s.frequency, reference.frequency, rtol=max(rtol, 1e-6),
                                       err_msg=name)
            np.testing.assert_allclose(s.impedance, reference.impedance, rtol=rtol, err_msg=name)


@pytest.mark.shared_data
def test_read_chronoamperometry_refuses_a_file_of_spectra():
    path = shared_data("eis", "impedance.py", "exampleData.csv")
    with pytest.raises(InputError, match="holds no chronoamperometry record \\(found 1 Spectrum\\)"):
        read_chronoamperometry(path)


def test_read_spectra_refuses_a_file_of_dc_records(tmp_path):
    path = write_mpt_ca(tmp_path / "ca.mpt", np.arange(4.0), np.ones(4), np.ones(4))
    with pytest.raises(InputError, match="holds no impedance spectrum") as info:
        read_spectra(path)
    assert str(path) in str(info.value)


def test_format_option_skips_sniffing(tmp_path):
    truth = rc_spectrum(9)
    path = tmp_path / "data.weird"
    rows = np.column_stack([truth.frequency, truth.impedance.real, truth.impedance.imag])
    path.write_text("\n".join(",".join(f"{v:.12g}" for v in row) for row in rows) + "\n")
    (s,) = read_spectra(path, format="table")
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-10)


def test_a_technique_limits_the_readers_and_lets_the_usual_one_explain(tmp_path):
    from ssbkit.core.errors import InputError
    from ssbkit.core.registry import find_reader, read

    one_column = tmp_path / "scan.xy"
    one_column.write_text("10.00\n10.02\n10.04\n")
    # no XRD reader recognises it, but the one that reads .xy files is asked, for its own error
    assert find_reader(one_column, technique="xrd").name == "xrd-xy"
    with pytest.raises(InputError, match="no intensities"):
        read(one_column, technique="xrd")
    impedance = tmp_path / "z.csv"
    impedance.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1000,10,1\n100,12,3\n10,15,5\n")
    with pytest.raises(InputError, match="no installed nmr reader"):
        find_reader(impedance, technique="nmr")
