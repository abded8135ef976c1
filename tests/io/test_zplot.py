"""ZPlot/ZView .z in both layouts (and impedance.py's 'Autolab' file, which is the quoted one)."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum, write_z

from ssbkit.core.errors import InputError
from ssbkit.io import read_spectra
from ssbkit.io.zplot import ZPlotReader
from ssbkit.testing import shared_data

Z = ZPlotReader()


@pytest.mark.shared_data
def test_zplot2_file_by_hand_and_declared_points():
    (s,) = Z.read(shared_data("eis", "impedance.py", "exampleDataZPlot.z"))
    # line 124: 3.000000E+05 ... 1.4777E+02 -1.1335E+01; header says 56 points, 21 are there
    assert len(s) == 21 and s.frequency[0] == 3e5 and s.frequency[-1] == 3e3
    assert s.impedance[0] == 147.77 - 11.335j
    assert s.metadata["declared_points"] == 56 and s.metadata["incomplete"] is True
    assert s.metadata["start_time"] == "10-12-2018 11:04:34"


@pytest.mark.shared_data
def test_simulated_circuit_files_are_complete():
    (s,) = Z.read(shared_data("eis", "impedance.py", "Circuit1_EIS_1.z"))
    assert len(s) == 48 and s.metadata["incomplete"] is False
    assert s.frequency[0] == 5e4 and s.frequency[-1] == 1.0
    assert s.impedance[-1] == 75.803 - 0.16244j


@pytest.mark.shared_data
def test_quoted_layout_without_comment_block():
    (s,) = Z.read(shared_data("eis", "impedance.py", "exampleDataZPlot_noComments.z"))
    # line 11: 3.000000E+05, 1.0000E-02, 0.0000E+00, 2.580000E+00, 6.4262E+02, -8.5821E+01
    assert len(s) == 31 and s.impedance[0] == 642.62 - 85.821j
    assert s.metadata["declared_points"] == 79 and s.metadata["incomplete"]
    assert s.metadata["start_time"] == "12-17-2019 16:24:35"


@pytest.mark.shared_data
def test_impedance_py_autolab_file_is_a_z60w_export():
    (s,) = Z.read(shared_data("eis", "impedance.py", "exampleDataAutolab.txt"))
    assert len(s) == 41 and s.metadata["instrument"] == "Z60W"
    # inductive at 10 kHz (Z'' > 0), capacitive at 0.1 Hz: the sign is kept as stored
    assert s.impedance[0] == 0.013785863964281 + 0.007191946305823j
    assert s.impedance[-1] == 0.0345697771923854 - 0.00390292888845954j


def test_round_trip(tmp_path):
    truth = rc_spectrum(33)
    (s,) = read_spectra(write_z(tmp_path / "rc.z", truth))
    np.testing.assert_allclose(s.frequency, truth.frequency, rtol=1e-6)
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-6)
    assert s.metadata["time_s"] == [1.0, 33.0]


def test_missing_end_comments_is_an_input_error(tmp_path):
    path = write_z(tmp_path / "rc.z", rc_spectrum(5))
    path.write_text(path.read_text().replace("End Comments", "Comments"))
    with pytest.raises(InputError, match="no 'End Comments'"):
        Z.read(path)


def test_truncated_last_row(tmp_path):
    path = write_z(tmp_path / "rc.z", rc_spectrum(5))
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(InputError, match="line 16: the last line has fewer values"):
        Z.read(path)
