"""Estimate, Result and Provenance (ssbkit.core.results): the shapes every analysis returns."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest

import ssbkit
from ssbkit.core import citations
from ssbkit.core.errors import FitError, InputError, SSBKitError, UnitError
from ssbkit.core.results import (
    Estimate,
    Provenance,
    Result,
    hash_file,
    hash_value,
    make_provenance,
    to_json_safe,
)
from ssbkit.testing import assert_single_json_document

# --- Estimate ---------------------------------------------------------------------------


def test_estimate_to_dict():
    assert Estimate(13.3, 0.2, "mS/cm").to_dict() == {"value": 13.3, "stderr": 0.2,
                                                      "unit": "mS/cm"}


def test_estimate_unknown_stderr_is_nan_and_null_in_json():
    e = Estimate(0.28, unit="eV")
    assert math.isnan(e.stderr)
    assert e.to_dict() == {"value": 0.28, "stderr": None, "unit": "eV"}
    json.dumps(e.to_dict(), allow_nan=False)  # strict JSON: no NaN token


def test_estimate_non_finite_value_is_null():
    assert Estimate(math.inf, math.nan, "g").to_dict()["value"] is None


def test_estimate_values_are_plain_floats():
    e = Estimate(np.float32(1.5), np.int64(2), "g")
    assert type(e.value) is float and type(e.stderr) is float


def test_estimate_is_frozen():
    e = Estimate(1.0, unit="g")
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.value = 2.0  # type: ignore[misc]


def test_estimate_to_scales_value_and_stderr():
    e = Estimate(13.3, 0.2, "mS/cm").to("S/m")  # 1 mS/cm = 0.1 S/m
    assert e.unit == "S/m"
    assert e.value == pytest.approx(1.33, rel=1e-12)
    assert e.stderr == pytest.approx(0.02, rel=1e-12)


def test_estimate_to_temperature_shifts_value_but_not_stderr():
    # An uncertainty is a difference: the °C -> K offset must not touch it.
    e = Estimate(25.0, 0.5, "°C").to("K")
    assert e.value == pytest.approx(298.15, abs=1e-12)
    assert e.stderr == pytest.approx(0.5, abs=1e-12)


def test_estimate_to_keeps_unknown_stderr_unknown():
    assert math.isnan(Estimate(0.28, unit="eV").to("kJ/mol").stderr)


def test_estimate_to_another_dimension_fails():
    with pytest.raises(UnitError):
        Estimate(1.0, 0.1, "mAh").to("g")


@pytest.mark.parametrize(
    ("value", "stderr", "expected"),
    [(13.3, 0.2, 0.2 / 13.3), (-4.0, 1.0, 0.25), (0.0, 1.0, math.nan), (2.0, math.nan, math.nan)],
)
def test_relative_stderr(value, stderr, expected):
    got = Estimate(value, stderr, "g").relative_stderr
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("estimate", "text"),
    [
        (Estimate(13.3, 0.2, "mS/cm"), "13.3 ± 0.2 mS/cm"),
        (Estimate(0.28, unit="eV"), "0.28 eV"),
        (Estimate(0.5, 0.01, "1"), "0.5 ± 0.01"),  # dimensionless: no unit
        (Estimate(3.0), "3"),
    ],
)
def test_estimate_str(estimate, text):
    assert str(estimate) == text


# --- a Result subclass, as a technique would write one ----------------------------------


@dataclass(frozen=True)
class FitDetail:
    """A nested plain dataclass, with numpy values inside."""

    iterations: np.int64
    chi_square: np.float64
    residuals: np.ndarray
    unknown: float = math.nan


@dataclass(frozen=True, kw_only=True)
class PelletConductivity(Result):
    conductivity: Estimate
    temperature: float = field(metadata={"unit": "K"})
    n_points: int
    electrode: str
    converged_flag: bool = True
    frequencies: np.ndarray = field(default_factory=lambda: np.array([1e6, 1e3, 1.0]))
    detail: FitDetail | None = None


def _result(**overrides):
    values = dict(
        conductivity=Estimate(0.0133, 0.0002, "S/cm"),
        temperature=298.15,
        n_points=61,
        electrode="In",
        detail=FitDetail(
            iterations=np.int64(12),
            chi_square=np.float64(1.25e-4),
            residuals=np.array([0.1, np.nan, -np.inf, 0.3], dtype=np.float32),
        ),
    )
    values.update(overrides)
    return PelletConductivity(**values)


def test_result_subclass_is_frozen_and_keyword_only():
    r = _result()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.success = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        PelletConductivity(True, "", None)  # type: ignore[misc]


def test_result_defaults():
    r = _result()
    assert r.success is True and r.message == "" and r.provenance is None


def test_to_dict_is_strict_json_with_numpy_nan_and_nested_dataclasses():
    data = _result().to_dict()
    text = json.dumps(data, allow_nan=False)  # raises on NaN / inf / numpy types
    back = json.loads(text)
    assert back["conductivity"] == {"value": 0.0133, "stderr": 0.0002, "unit": "S/cm"}
    assert back["temperature"] == 298.15
    assert back["n_points"] == 61 and back["converged_flag"] is True
    assert back["frequencies"] == [1e6, 1e3, 1.0]
    assert back["detail"]["iterations"] == 12
    assert back["detail"]["chi_square"] == pytest.approx(1.25e-4)
    # float32 values come back as floats; NaN and -inf become null
    assert back["detail"]["residuals"][1:3] == [None, None]
    assert back["detail"]["residuals"][0] == pytest.approx(0.1, rel=1e-6)
    assert back["detail"]["unknown"] is None
    assert back["success"] is True and back["provenance"] is None


def test_to_json_matches_to_dict():
    r = _result()
    assert json.loads(r.to_json()) == json.loads(json.dumps(r.to_dict(), allow_nan=False))


def test_to_dict_with_nan_scalar_field():
    data = _result(temperature=math.nan).to_dict()
    assert data["temperature"] is None
    json.dumps(data, allow_nan=False)


def test_to_json_safe_numpy_scalars_and_arrays():
    assert to_json_safe(np.float64(np.nan)) is None
    assert to_json_safe(np.bool_(True)) is True
    assert to_json_safe(np.arange(4).reshape(2, 2)) == [[0, 1], [2, 3]]
    assert to_json_safe({1: (np.float32(0.5), {"x"})}) == {"1": [0.5, ["x"]]}


class _Spectrum:
    """Not a dataclass: only its to_dict() says how it serialises, with NaN for gaps."""

    def to_dict(self):
        return {"z": [1.0, float("nan")], "fit": np.float64(np.nan), "inner": _Gap()}


class _Gap:
    def to_dict(self):
        return {"value": math.inf}


def test_to_json_safe_recurses_into_to_dict():
    # Regression: the dict from to_dict() went out as is, NaN and all.
    assert to_json_safe(_Spectrum()) == {"z": [1.0, None], "fit": None,
                                         "inner": {"value": None}}


def test_nested_to_dict_nan_is_null_in_a_result():
    @dataclass(frozen=True, kw_only=True)
    class Holder(Result):
        spectrum: object

    data = assert_single_json_document(Holder(spectrum=_Spectrum()).to_json())
    assert data["spectrum"] == {"z": [1.0, None], "fit": None, "inner": {"value": None}}


def test_to_json_safe_refuses_unknown_objects():
    with pytest.raises(TypeError, match="object"):
        to_json_safe(object())


def test_to_frame_has_unit_labelled_columns():
    frame = _result().to_frame()
    assert len(frame) == 1
    columns = set(frame.columns)
    assert {"conductivity [S/cm]", "conductivity stderr [S/cm]", "temperature [K]",
            "n_points", "electrode", "converged_flag", "success", "message"} <= columns
    # arrays and nested objects do not belong in a one-row table of scalars
    assert not any(c.startswith(("frequencies", "detail", "provenance")) for c in columns)
    row = frame.iloc[0]
    assert row["conductivity [S/cm]"] == 0.0133
    assert row["conductivity stderr [S/cm]"] == 0.0002
    assert row["temperature [K]"] == 298.15
    assert row["electrode"] == "In"


def test_report_lists_fields_and_status():
    text = _result().report()
    first = text.splitlines()[0]
    assert first == "PelletConductivity [ok]"
    assert "conductivity: 0.0133 ± 0.0002 S/cm" in text
    assert "temperature: 298.15 K" in text
    assert "n_points: 61" in text
    assert str(_result()) == text


def test_report_of_a_failed_result_says_so():
    text = _result(success=False, message="did not converge in 200 iterations").report()
    assert text.splitlines()[0] == (
        "PelletConductivity [FAILED]: did not converge in 200 iterations"
    )


def test_raise_for_status_passes_a_success_through():
    r = _result()
    assert r.raise_for_status() is r


def test_raise_for_status_raises_fit_error_with_the_message():
    r = _result(success=False, message="singular Jacobian")
    with pytest.raises(FitError, match="singular Jacobian") as info:
        r.raise_for_status()
    assert isinstance(info.value, SSBKitError)


def test_raise_for_status_without_message_names_the_result():
    with pytest.raises(FitError, match="PelletConductivity"):
        _result(success=False).raise_for_status()


# --- provenance -------------------------------------------------------------------------


@pytest.fixture
def test_citation(monkeypatch):
    """A citation registered for one test only (the registry is restored afterwards)."""
    monkeypatch.setattr(citations, "_REGISTRY", dict(citations._REGISTRY))
    return citations.register("testpaper2026", "T. Tester, A test paper, J. Tests 1 (2026) 1.",
                              "10.0000/test")


def test_provenance_records_version_settings_files_and_citations(tmp_path, test_citation):
    data = tmp_path / "spectrum.csv"
    content = b"freq,zre,zim\n1e6,10,-1\n"
    data.write_bytes(content)

    p = make_provenance(
        "ssbkit.tests.fit",
        settings={"weights": "modulus", "max_iter": 200},
        inputs={"temperature_k": 298.15},
        files={"spectrum": data},
        citations=["testpaper2026"],
    )
    # The version is the installed distribution's, read independently through its metadata.
    assert p.ssbkit_version == ssbkit.__version__ == importlib.metadata.version("ssbkit")
    assert p.function == "ssbkit.tests.fit"
    assert p.settings == {"weights": "modulus", "max_iter": 200}
    assert p.inputs["spectrum"] == "sha256:" + hashlib.sha256(content).hexdigest()
    assert p.inputs["arguments"].startswith("sha256:")
    assert p.citations == ("ssbkit", "testpaper2026")


def test_provenance_citations_are_not_repeated(test_citation):
    p = make_provenance("f", citations=["testpaper2026", "ssbkit", "testpaper2026"])
    assert p.citations == ("ssbkit", "testpaper2026")


def test_result_carries_provenance_into_dict_and_report(test_citation):
    r = _result(provenance=make_provenance("f", inputs={"a": 1}, citations=["testpaper2026"]))
    data = json.loads(r.to_json())
    prov = data["provenance"]
    assert prov["ssbkit_version"] == ssbkit.__version__
    assert prov["inputs"]["arguments"] == hash_value({"a": 1})
    assert [c["key"] for c in prov["citations"]] == ["ssbkit", "testpaper2026"]
    assert prov["citations"][1]["doi"] == "10.0000/test"
    report = r.report()
    assert "cite:" in report and "T. Tester, A test paper" in report


@dataclass(frozen=True, kw_only=True)
class ScalarResult(Result):
    value: Estimate


def test_provenance_does_not_change_equality():
    # Two results with the same numbers are equal whatever their provenance (it holds
    # hashes and versions, not the answer).
    one = ScalarResult(value=Estimate(1.0, unit="g"), provenance=make_provenance("a"))
    two = ScalarResult(value=Estimate(1.0, unit="g"), provenance=make_provenance("b"))
    assert one == two
    assert one != ScalarResult(value=Estimate(2.0, unit="g"), provenance=make_provenance("a"))


def test_provenance_to_dict_settings_are_json_safe():
    p = Provenance("f", "0", settings={"grid": np.array([1.0, np.nan])})
    assert p.to_dict()["settings"] == {"grid": [1.0, None]}


def test_hash_file_matches_hashlib_on_a_multi_block_file(tmp_path):
    # 2.5 MiB: more than one of the 1 MiB blocks hash_file reads at a time.
    content = np.random.default_rng(7).bytes(5 * 512 * 1024)
    path = tmp_path / "pattern.xy"
    path.write_bytes(content)
    assert hash_file(path) == "sha256:" + hashlib.sha256(content).hexdigest()
    assert hash_file(str(path)) == hash_file(path)


def test_hash_file_of_a_missing_file_names_it(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputError) as info:
        hash_file(missing)
    assert str(missing) in str(info.value)


def test_hash_value_ignores_dict_key_order():
    a = {"target": "Li6PS5Cl", "precursors": ["Li2S", "P2S5", "LiCl"], "opts": {"x": 1, "y": 2}}
    b = {"opts": {"y": 2, "x": 1}, "precursors": ["Li2S", "P2S5", "LiCl"], "target": "Li6PS5Cl"}
    assert list(a) != list(b)
    assert hash_value(a) == hash_value(b)


def test_hash_value_changes_with_content():
    base = {"precursors": ["Li2S", "P2S5"], "batch_mass_g": 2.0}
    assert hash_value(base) != hash_value({**base, "batch_mass_g": 2.5})
    # list order is meaningful (unlike dict key order)
    assert hash_value(base) != hash_value({**base, "precursors": ["P2S5", "Li2S"]})


def test_hash_value_format():
    digest = hash_value({"a": 1})
    assert digest.startswith("sha256:")
    assert len(digest) == len("sha256:") + 64
    int(digest.removeprefix("sha256:"), 16)


def test_hash_value_of_a_set_is_the_same_in_every_interpreter():
    code = (
        "from ssbkit.core.results import hash_value;"
        "print(hash_value({'elements': {'Li', 'P', 'S', 'Cl', 'Br', 'I', 'O'}}))"
    )
    digests = set()
    for seed in ("1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1
