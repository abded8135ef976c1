"""CH Instruments A.C. Impedance exports."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum

from ssbkit.core.errors import InputError
from ssbkit.io.chinstruments import CHInstrumentsReader
from ssbkit.testing import shared_data

CHI = CHInstrumentsReader()


def _write(path, spectrum):
    lines = ["Feb. 20, 2024   15:55:08", "A.C. Impedance", "File: c:\\data\\x.bin",
             "Data Source:  Experiment", "Instrument Model:  CHI660E", "Header: ", "Note: ", "",
             "Init E (V) = 0.25", "High Frequency (Hz) = 1e+5", "Low Frequency (Hz) = 0.1", "",
             "Freq/Hz, Z'/ohm, Z\"/ohm, Z/ohm, Phase/deg", ""]
    for f, z in zip(spectrum.frequency, spectrum.impedance, strict=True):
        lines.append(f"{f:.6e}, {z.real:.6e}, {z.imag:.6e}, {abs(z):.6e}, "
                     f"{np.degrees(np.angle(z)):.1f}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.shared_data
def test_real_export_by_hand():
    (s,) = CHI.read(shared_data("eis", "impedance.py", "exampleDataCHInstruments.txt"))
    # lines 19 and 91: 9.961e+4, 9.891e+1, -2.748e+0 … 1.000e-1, 5.685e+3, -1.586e+4
    assert len(s) == 73 and s.metadata["first_line"] == 19 and s.metadata["last_line"] == 91
    assert s.impedance[0] == 98.91 - 2.748j and s.impedance[-1] == 5685 - 15860j
    assert s.frequency[0] == 9.961e4 and s.frequency[-1] == 0.1
    assert s.metadata["instrument"] == "CH Instruments CHI660E"
    assert s.metadata["start_time"] == "Feb. 20, 2020   15:55:08"


def test_round_trip(tmp_path):
    truth = rc_spectrum(17)
    (s,) = CHI.read(_write(tmp_path / "chi.txt", truth))
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-6)
    assert s.metadata["dc_potential_V"] == 0.25


def test_other_chi_techniques_are_not_claimed(tmp_path):
    path = _write(tmp_path / "cv.txt", rc_spectrum(5))
    path.write_text(path.read_text().replace("A.C. Impedance", "Cyclic Voltammetry"))
    assert not CHI.sniff(path, path.read_bytes())


def test_missing_column_line(tmp_path):
    path = _write(tmp_path / "x.txt", rc_spectrum(5))
    path.write_text(path.read_text().replace("Freq/Hz,", "Frequency,"))
    with pytest.raises(InputError, match="no 'Freq/Hz"):
        CHI.read(path)
