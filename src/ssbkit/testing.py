"""Assertions and helpers for tests of ssbkit and of code built on it.

Public, like ``numpy.testing`` and ``xarray.testing``: notebooks and downstream packages
can check their results with the same tools ssbkit's own tests use.

- ``shared_data(*parts)`` finds a third-party sample file in ``../shared/data`` (or
  ``$SSBKIT_SHARED_DATA``); where it is absent the test is skipped with the reason, except
  when ``SSBKIT_REQUIRE_SHARED_DATA=1`` (CI), where that is a failure.
- ``assert_estimate_close`` compares an ``Estimate`` with an expected number and unit.
- ``assert_element_balance`` checks that a recipe's precursors supply the target exactly.
- ``assert_single_json_document`` checks that a command's stdout is one JSON document.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from ssbkit.core.results import Estimate

__all__ = [
    "assert_element_balance",
    "assert_estimate_close",
    "assert_single_json_document",
    "shared_data",
    "shared_data_root",
]


def shared_data_root() -> Path | None:
    """The ``shared/data`` folder beside the checkout, or ``$SSBKIT_SHARED_DATA``; None if absent."""
    env = os.environ.get("SSBKIT_SHARED_DATA")
    if env:  # an explicit folder wins, even when it is missing: no silent fallback
        return Path(env) if Path(env).is_dir() else None
    candidates = []
    here = Path(__file__).resolve()
    candidates += [Path.cwd().parent / "shared" / "data"]
    candidates += [parent.parent / "shared" / "data" for parent in here.parents]
    return next((c for c in candidates if c.is_dir()), None)


def shared_data(*parts: str) -> Path:
    """Path of a file under ``shared/data``; skips the test (fails it in CI) when absent."""
    import pytest

    root = shared_data_root()
    path = None if root is None else root.joinpath(*parts)
    if path is None or not path.exists():
        where = "/".join(parts)
        reason = f"shared data file {where!r} not found (set SSBKIT_SHARED_DATA to ../shared/data)"
        if os.environ.get("SSBKIT_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(reason + " and SSBKIT_REQUIRE_SHARED_DATA=1")
        pytest.skip(reason)
    return path


def assert_estimate_close(
    actual: Estimate,
    expected: float,
    *,
    unit: str | None = None,
    rtol: float = 1e-7,
    atol: float = 0.0,
) -> None:
    """Assert ``actual.value`` is within ``atol + rtol·|expected|`` of ``expected`` (same unit)."""
    if not isinstance(actual, Estimate):
        raise AssertionError(f"expected an Estimate, got {type(actual).__name__}")
    if unit is not None and actual.unit != unit:
        raise AssertionError(f"unit {actual.unit!r} != expected {unit!r}")
    if not math.isclose(actual.value, expected, rel_tol=rtol, abs_tol=atol):
        raise AssertionError(
            f"{actual.value!r} {actual.unit} != {expected!r} (rtol={rtol:g}, atol={atol:g})"
        )


def assert_element_balance(recipe: Any, *, rtol: float = 1e-9) -> None:
    """Assert that the precursors of ``recipe`` supply its target and by-products exactly."""
    from ssbkit.core.formula import parse_formula

    def atoms(lines: Any) -> dict[str, float]:
        total: dict[str, float] = {}
        for line in lines:
            for element, n in parse_formula(line.formula).composition.items():
                total[element] = total.get(element, 0.0) + line.coefficient * n
        return total

    supplied = atoms(recipe.precursors)
    wanted = dict(parse_formula(recipe.target).composition)
    for element, n in atoms(getattr(recipe, "byproducts", ())).items():
        wanted[element] = wanted.get(element, 0.0) + n
    for element in sorted({*wanted, *supplied}):
        want, got = wanted.get(element, 0.0), supplied.get(element, 0.0)
        if not math.isclose(got, want, rel_tol=rtol, abs_tol=rtol):
            raise AssertionError(f"{element}: precursors supply {got!r}, target and "
                                 f"by-products need {want!r}")

    def mass(lines: Any) -> float:
        return sum(line.coefficient * parse_formula(line.formula).molar_mass for line in lines)

    released = mass(getattr(recipe, "byproducts", ()))
    if not math.isclose(mass(recipe.precursors),
                        parse_formula(recipe.target).molar_mass + released, rel_tol=1e-9):
        raise AssertionError("precursor molar masses do not add up to the target's "
                             "and the by-products'")


def assert_single_json_document(text: str) -> Any:
    """Parse ``text`` as exactly one strict JSON document (no NaN) and return it."""
    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"stdout is not one JSON document: {exc}") from None
