"""PalmSens .pssession (UTF-16 JSON)."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum, write_pssession

from ssbkit.core.errors import InputError
from ssbkit.io.palmsens import PalmSensReader
from ssbkit.testing import shared_data

PS = PalmSensReader()


@pytest.mark.shared_data
def test_real_session_by_hand():
    (s,) = PS.read(shared_data("eis", "pyimpspec", "data.pssession"))
    # ZIm is labelled "-Z''" and holds +26.5556798765152 at 10 kHz
    assert len(s) == 29 and s.frequency[0] == 1e4
    assert s.impedance[0] == 109.00918219439 - 26.5556798765152j
    assert s.metadata["title"] == "Test data"
    assert s.metadata["start_time"] == "2023-08-22T12:33:39"


def test_round_trip(tmp_path):
    truth = rc_spectrum(12)
    (s,) = PS.read(write_pssession(tmp_path / "x.pssession", truth))
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-12)


def test_truncated_session(tmp_path):
    path = write_pssession(tmp_path / "cut.pssession", rc_spectrum(12))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="JSON is broken"):
        PS.read(path)
