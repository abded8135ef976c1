"""PressureLog: the container's checks and the force-to-pressure conversion."""

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.pressure import PressureLog


def test_force_on_an_area_is_pressure():
    # 1 kN on 1 cm² = 1000 N / 1e-4 m² = 1e7 Pa = 10 MPa; a 10 mm pellet is π/4 cm²
    log = PressureLog.from_force([0, 60], [1.0, np.pi / 4], area_cm2=np.pi / 4)
    np.testing.assert_allclose(log.pressure, [40 / np.pi, 10.0], rtol=1e-12)
    np.testing.assert_array_equal(log.force, [1.0, np.pi / 4])
    assert log.metadata["area_cm2"] == pytest.approx(np.pi / 4)
    assert list(log.to_frame().columns) == ["unix time [s]", "pressure [MPa]", "force [kN]"]


def test_arrays_are_read_only_copies():
    time, pressure = np.array([0.0, 60.0]), np.array([5.0, 5.1])
    log = PressureLog(time, pressure, source="x")
    pressure[0] = 99.0
    assert log.pressure[0] == 5.0
    with pytest.raises(ValueError):
        log.pressure[0] = 1.0
    assert len(log) == 2 and log.duration_s == 60.0 and log.force is None


@pytest.mark.parametrize(("time", "pressure", "text"), [
    ([0, 60, 120], [5.0, float("nan"), 5.0], "pressure is not a finite number at sample 1"),
    ([0, float("inf")], [5.0, 5.0], "unix time is not a finite number"),
    ([0, 120, 60], [5.0, 5.0, 5.0], "goes backwards at sample 2"),
    ([0, 60], [5.0], "1 pressures for 2 times"),
    ([], [], "no samples"),
    ([[0, 1]], [[5, 5]], "one-dimensional"),
    (["a", "b"], [1, 2], "must be numbers"),
])
def test_bad_samples_are_refused_with_the_source(time, pressure, text):
    with pytest.raises(InputError, match=text) as info:
        PressureLog(time, pressure, source="stack.csv")
    assert info.value.source == "stack.csv"


def test_force_needs_a_positive_area():
    with pytest.raises(InputError) as info:
        PressureLog.from_force([0], [1.0], area_cm2=0)
    assert info.value.source == "area_cm2"
