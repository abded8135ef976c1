""".P00 impedance text files."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum

from ssbkit.core.errors import InputError
from ssbkit.io.p00 import P00Reader
from ssbkit.testing import shared_data

P00 = P00Reader()


def _write(path, spectrum, count=None):
    lines = ["Procedure : pellet", "01.01.2024 10:00:00 i(init)= 1nA - i(end)= 1nA",
             "Description", "t =  60.0 s",
             " f/Hz       \t Z'/Ohm     \t -Z''/Ohm   \t time/s    \t Edc/V     \t Idc/A     \t",
             f" {len(spectrum) if count is None else count} "]
    lines += [f" {f:.5e}\t {z.real:.5e}\t {-z.imag:.5e}\t 1.0e+00\t 0.0e+00\t 0.0e+00\t"
              for f, z in zip(spectrum.frequency, spectrum.impedance, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.shared_data
def test_real_file_by_hand():
    (s,) = P00.read(shared_data("eis", "pyimpspec", "data.P00"))
    # line 7: 10.000e+03  10.900e+01  26.556e+00 (-Z'')
    assert len(s) == 29 and s.frequency[0] == 1e4 and s.impedance[0] == 109.0 - 26.556j
    assert s.metadata["title"] == "Some title"


def test_round_trip(tmp_path):
    truth = rc_spectrum(10)
    (s,) = P00.read(_write(tmp_path / "x.P00", truth))
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-5)


def test_count_mismatch(tmp_path):
    with pytest.raises(InputError, match="announces 12 points but holds 10: truncated"):
        P00.read(_write(tmp_path / "x.P00", rc_spectrum(10), count=12))
