"""Eco Chemie / Autolab FRA .dfr files."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum, write_dfr

from ssbkit.core.errors import InputError
from ssbkit.io.autolab import AutolabDfrReader
from ssbkit.testing import shared_data

DFR = AutolabDfrReader()


@pytest.mark.shared_data
def test_real_file_by_hand():
    (s,) = DFR.read(shared_data("eis", "pyimpspec", "data.dfr"))
    # lines 4-6: 10000.0, 109.00918219439028, 26.55567987651522 (= -Z'')
    assert len(s) == 29 and s.frequency[0] == 1e4
    assert s.impedance[0] == 109.00918219439028 - 26.55567987651522j


def test_round_trip(tmp_path):
    truth = rc_spectrum(14)
    (s,) = DFR.read(write_dfr(tmp_path / "x.dfr", truth))
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-15)


def test_truncated_file(tmp_path):
    path = write_dfr(tmp_path / "x.dfr", rc_spectrum(14))
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:50]) + "\n")
    with pytest.raises(InputError, match="truncated"):
        DFR.read(path)
