"""NEISYS exports of the EISFitpython temperature series, temperature from the file name."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum

from ssbkit.io import read_spectra
from ssbkit.io.neisys import NeisysReader
from ssbkit.testing import shared_data

NEISYS = NeisysReader()


def _write(path, spectrum):
    lines = [path.stem + " ", "Fixed value(s) :  AC Volt  [Vrms]=3.5000e-02  ",
             "   Freq.[Hz]   \tZs'[ohm]  \tZs''[ohm]"]
    lines += [f" {f:.5e}\t {z.real:.5e}\t{z.imag:.5e}"
              for f, z in zip(spectrum.frequency, spectrum.impedance, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.shared_data
def test_140_degree_file_by_hand():
    (s,) = NEISYS.read(shared_data("eis", "EISFitpython", "Example-3-4", "s04147-140deg.txt"))
    # lines 4 and 45: 1.00000e+06 2.21423e+04 -5.43115e+04 … 3.00000e-02 3.27266e+06 -1.40853e+06
    assert len(s) == 42 and s.metadata["first_line"] == 4 and s.metadata["last_line"] == 45
    assert s.impedance[0] == 2.21423e4 - 5.43115e4j and s.impedance[-1] == 3.27266e6 - 1.40853e6j
    assert s.frequency[0] == 1e6 and s.frequency[-1] == 0.03
    assert s.metadata["temperature_K"] == 413.15
    assert s.metadata["temperature_source"] == "file name"
    assert s.metadata["ac_amplitude_Vrms"] == 0.035


@pytest.mark.shared_data
@pytest.mark.parametrize("celsius", range(140, 201, 10))
def test_the_series_carries_its_temperatures(celsius):
    (s,) = read_spectra(shared_data("eis", "EISFitpython", "Example-3-4",
                                    f"s04147-{celsius}deg.txt"))
    assert s.metadata["temperature_K"] == pytest.approx(celsius + 273.15, abs=1e-9)
    assert (s.impedance.imag < 0).all()  # a solid electrolyte: capacitive everywhere


def test_round_trip_and_celsius_suffix(tmp_path):
    truth = rc_spectrum(21)
    (s,) = NEISYS.read(_write(tmp_path / "pellet-25C.txt", truth))
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-5)
    assert s.metadata["temperature_K"] == 298.15


def test_name_without_temperature_and_explicit_argument(tmp_path):
    path = _write(tmp_path / "pellet.txt", rc_spectrum(5))
    (s,) = NEISYS.read(path)
    assert "temperature_K" not in s.metadata
    (s,) = NEISYS.read(path, temperature_K=300.0)
    assert s.metadata["temperature_K"] == 300.0 and s.metadata["temperature_source"] == "argument"
