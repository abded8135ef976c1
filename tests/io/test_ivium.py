"""Ivium .idf/.ids data sets."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum

from ssbkit.core.errors import InputError
from ssbkit.io.ivium import IviumReader
from ssbkit.testing import shared_data

IVIUM = IviumReader()


def _write(path, spectra, npoints_claimed=None):
    parts = [b"\x00" * 16 + b"H\x00\x00\x00\r\nPeaks=false\r\nCorrosion=false\r\nSolarcell=false\r\n"]
    for s in spectra:
        rows = "".join(f"{z.real:.5E}  {z.imag:.5E}\t{f:.5E} \r\n"
                       for f, z in zip(s.frequency, s.impedance, strict=True))
        count = len(s) if npoints_claimed is None else npoints_claimed
        parts.append((f"Method=Impedance\r\nTechnique=Constant E\r\nTitle=pellet\r\n"
                      f"starttime=05.01.2024 10:00:00\r\nprimary_data    \r\n3         \r\n"
                      f"{count}        \r\n{rows}").encode("latin-1"))
    path.write_bytes(b"".join(parts))
    return path


@pytest.mark.shared_data
def test_idf_and_ids_by_hand():
    (s,) = IVIUM.read(shared_data("eis", "pyimpspec", "data.idf"))
    # first primary_data row: 1.09009E+02  -2.65557E+01	1.00000E+04
    assert len(s) == 29 and s.frequency[0] == 1e4 and s.impedance[0] == 109.009 - 26.5557j
    assert s.metadata["title"] == "Test" and s.metadata["technique"] == "Constant E"
    first, second = IVIUM.read(shared_data("eis", "pyimpspec", "data.ids"))
    assert (first.metadata["data_set"], second.metadata["data_set"]) == (0, 1)
    np.testing.assert_array_equal(first.impedance, second.impedance)


def test_round_trip_of_a_sequence(tmp_path):
    truth = [rc_spectrum(9), rc_spectrum(9, r1=80.0)]
    spectra = IVIUM.read(_write(tmp_path / "seq.ids", truth))
    for s, t in zip(spectra, truth, strict=True):
        np.testing.assert_allclose(s.impedance, t.impedance, rtol=1e-5)
    assert spectra[0].metadata["start_time"] == "05.01.2024 10:00:00"


def test_fewer_rows_than_announced_is_truncated(tmp_path):
    with pytest.raises(InputError, match="announces 12 points.*truncated"):
        IVIUM.read(_write(tmp_path / "cut.idf", [rc_spectrum(9)], npoints_claimed=12))
