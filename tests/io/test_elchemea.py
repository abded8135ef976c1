"""Elchemea Analytical .i2b files."""

from __future__ import annotations

import numpy as np
import pytest
from eis_writers import rc_spectrum

from ssbkit.core.errors import InputError
from ssbkit.io.elchemea import ElchemeaReader
from ssbkit.testing import shared_data

I2B = ElchemeaReader()


def _write(path, spectrum, count=None):
    lines = ["cell 3", "600 C", "", f"{len(spectrum) if count is None else count}"]
    lines += [f"{float(f)!r} {float(z.real)!r} {float(z.imag)!r}"
              for f, z in zip(spectrum.frequency, spectrum.impedance, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.shared_data
def test_real_file_by_hand():
    (s,) = I2B.read(shared_data("eis", "pyimpspec", "data.i2b"))
    assert len(s) == 29 and s.impedance[0] == 109.00918219439028 - 26.55567987651522j
    assert s.metadata["comment"].startswith("Some metadata")


def test_round_trip_and_sniff_needs_the_extension(tmp_path):
    truth = rc_spectrum(10)
    path = _write(tmp_path / "x.i2b", truth)
    (s,) = I2B.read(path)
    np.testing.assert_allclose(s.impedance, truth.impedance, rtol=1e-15)
    other = _write(tmp_path / "x.txt", truth)
    assert I2B.sniff(path, path.read_bytes()) and not I2B.sniff(other, other.read_bytes())


def test_count_mismatch(tmp_path):
    with pytest.raises(InputError, match="announces 11 points but holds 10"):
        I2B.read(_write(tmp_path / "x.i2b", rc_spectrum(10), count=11))
