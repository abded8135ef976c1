"""VersaStudio .par project files."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum

from ssbkit.core.errors import InputError
from ssbkit.io.versastudio import VersaStudioReader
from ssbkit.testing import shared_data

PAR = VersaStudioReader()
DEFINITION = ("Definition=Segment #, Point #, E(V), I(A), Elapsed Time(s), ADC Sync Input(V), "
              "Current Range, Status, E Applied(V), Frequency(Hz), E Real, E Imag, I Real, "
              "I Imag, Z Real, Z Imag, ActionId, AC Amplitude")


def _write(path, spectrum, *, with_segment=True):
    lines = ["<Application>", "Name=VersaStudio", "Version=2.60", "</Application>", "",
             "<Instrument>", "Type=VersaSTAT4", "Model=-400", "</Instrument>", "",
             "<Experiment>", "TimeAcquired=9:40:30 AM", "DateAcquired=Friday, January 5, 2024",
             "</Experiment>", "", "<Action1>", "Working Electrode Area (cm2)=0.785",
             "Potential (V),Versus=vs OC", "Potential (V),Value=0", "Name=Potentiostatic EIS",
             "</Action1>", ""]
    if with_segment:
        lines += ["<Segment1>", "Type=2", DEFINITION]
        for k, (f, z) in enumerate(zip(spectrum.frequency, spectrum.impedance, strict=True)):
            lines.append(f"0,{k},0,0,{k + 1.5},0,5,53,0,{float(f)!r},0,0,0,0,"
                         f"{float(z.real)!r},{float(z.imag)!r},21,0.01")
        lines.append("</Segment1>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.shared_data
def test_real_file_by_hand():
    (s,) = PAR.read(shared_data("eis", "impedance.py", "exampleDataVersaStudio.par"))
    # Segment1 rows 0 and 60: Frequency(Hz), Z Real, Z Imag
    assert len(s) == 61
    assert s.frequency[0] == 100000 and s.impedance[0] == 55.31571 + 4.575431j
    assert s.frequency[-1] == 0.02154435 and s.impedance[-1] == 1516.313 - 122.8279j
    assert s.metadata["technique"] == "Potentiostatic EIS" and s.metadata["area_cm2"] == 1.0
    assert s.metadata["instrument"] == "VersaStudio VersaSTAT4 -400"


def test_round_trip(tmp_path):
    truth = rc_spectrum(23)
    (s,) = PAR.read(_write(tmp_path / "rc.par", truth))
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-12)
    assert s.metadata["area_cm2"] == 0.785 and s.metadata["dc_potential_vs"] == "vs OC"
    assert s.metadata["time_s"] == [1.5, 23.5]


def test_project_without_impedance_segment(tmp_path):
    with pytest.raises(InputError, match="no segment with frequency"):
        PAR.read(_write(tmp_path / "empty.par", rc_spectrum(3), with_segment=False))
