"""Build-up models (ssbkit.nmr.models).

Truth: the analytic limits of each series (√t at short times with the shape's own S/V,
one exponential at long times, f(0) = 0, f(∞) = A), the sphere against an independent
numerical solution of the radial diffusion equation (method of lines, solve_ivp), the
cube against a product of independently summed slabs, and the Gaussian escape probability
against a seeded Monte-Carlo random walk.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ssbkit import InputError
from ssbkit.nmr.models import (
    MODELS,
    UM2_TO_CM2,
    cube_shape,
    gaussian_shape,
    get_model,
    slab_shape,
    sphere_shape,
)


def long_sphere_series(x, terms=4000):
    n = np.arange(1, terms + 1, dtype=float)[:, None]
    return 1 - 6 / math.pi**2 * np.sum(np.exp(-n * n * math.pi**2 * np.atleast_1d(x)) / (n * n), axis=0)


def long_slab_series(x, terms=4000):
    m = 2 * np.arange(terms, dtype=float)[:, None] + 1
    return 1 - np.sum(8 / (m * m * math.pi**2) * np.exp(-m * m * math.pi**2 * np.atleast_1d(x)), axis=0)


# -- limits ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sphere", "cube", "gaussian", "first-order"])
def test_every_bounded_model_starts_at_zero_and_ends_at_the_plateau(name):
    m = MODELS[name]
    rate = {m.rate_parameter: 1e-10 if m.needs_length else 2.0}
    length = 1.0 if m.needs_length else None
    f = m(np.array([0.0, 1e9]), A=0.37, length_um=length, **rate)
    assert f[0] == 0.0
    # the Gaussian's tail closes as u³ (u = L/√(4Dt) ≈ 1.6e-4 here), the series' exponentially
    assert f[1] == pytest.approx(0.37, rel=1e-9)


def test_sqrt_law_starts_at_zero_and_grows_as_root_t():
    m = MODELS["sqrt"]
    f = m(np.array([0.0, 1.0, 4.0]), A=1.0, length_um=2.0, D=1e-10)
    assert f[0] == 0.0 and f[2] / f[1] == pytest.approx(2.0, rel=1e-12)
    # (2/√π)(S/V)√(Dt) with S/V = 3/L, L = 2 µm = 2e-4 cm
    assert f[1] == pytest.approx(2 / math.sqrt(math.pi) * 3 / 2e-4 * math.sqrt(1e-10), rel=1e-12)


@pytest.mark.parametrize("x", [1e-10, 1e-8, 1e-6])
def test_sphere_and_cube_follow_the_root_t_law_with_their_surface_to_volume(x):
    # g ≈ (2/√π)(S/V)√(Dt): S/V = 3/r for the sphere, 6/L for the cube (x = Dt/L²)
    assert sphere_shape(x) == pytest.approx(2 / math.sqrt(math.pi) * 3 * math.sqrt(x), rel=5 * math.sqrt(x))
    assert cube_shape(x) == pytest.approx(2 / math.sqrt(math.pi) * 6 * math.sqrt(x), rel=10 * math.sqrt(x))


# x where the next mode is < 1e-10 of the slowest and 1 − g still far above rounding
@pytest.mark.parametrize("x", [0.8, 1.0, 1.5])
def test_sphere_at_long_times_decays_as_its_slowest_mode(x):
    assert 1 - sphere_shape(x) == pytest.approx(6 / math.pi**2 * math.exp(-math.pi**2 * x), rel=1e-8)


@pytest.mark.parametrize("x", [0.3, 0.4, 0.5])
def test_cube_at_long_times_decays_as_its_slowest_mode(x):
    assert 1 - cube_shape(x) == pytest.approx((8 / math.pi**2) ** 3 * math.exp(-3 * math.pi**2 * x),
                                              rel=1e-8)


def test_short_time_series_meet_the_long_series_where_they_hand_over():
    x = np.array([1e-4, 1e-3, 0.01, 0.05, 0.0999, 0.1, 0.1001, 0.3])
    np.testing.assert_allclose(sphere_shape(x), long_sphere_series(x), rtol=0, atol=2e-13)
    np.testing.assert_allclose(slab_shape(x), long_slab_series(x), rtol=0, atol=2e-13)


def test_cube_is_three_independent_slabs():
    x = np.logspace(-5, 0, 23)
    np.testing.assert_allclose(1 - cube_shape(x), (1 - long_slab_series(x)) ** 3, rtol=0, atol=1e-12)


def test_first_order_is_the_exponential():
    t = np.linspace(0, 3, 7)
    np.testing.assert_allclose(MODELS["first-order"](t, k=1.5, A=0.2), 0.2 * (1 - np.exp(-1.5 * t)),
                               rtol=1e-14)


# -- independent numerical solutions -----------------------------------------------------------

def released_fraction_by_method_of_lines(x_values, cells=300):
    """Sphere of radius 1, D = 1, c = 1 inside at t = 0, c = 0 outside (well mixed): finite volumes."""
    from scipy.integrate import solve_ivp
    from scipy.sparse import csr_matrix

    faces = np.linspace(0.0, 1.0, cells + 1)
    centres = 0.5 * (faces[1:] + faces[:-1])
    volume = (faces[1:] ** 3 - faces[:-1] ** 3) / 3
    h = faces[1] - faces[0]
    matrix = np.zeros((cells, cells))
    for i in range(cells):
        outer = faces[i + 1] ** 2
        if i + 1 < cells:
            matrix[i, i] -= outer / h
            matrix[i, i + 1] += outer / h
            matrix[i + 1, i + 1] -= outer / h
            matrix[i + 1, i] += outer / h
        else:  # half a cell to the surface, where c = 0
            matrix[i, i] -= outer / (faces[-1] - centres[-1])
    matrix = csr_matrix(matrix / volume[:, None])  # tridiagonal: sparse keeps BDF's solves cheap
    sol = solve_ivp(lambda t, c: matrix @ c, (0, max(x_values)), np.ones(cells), method="BDF",
                    jac=matrix, t_eval=x_values, rtol=1e-10, atol=1e-12)
    held = (volume[:, None] * sol.y).sum(axis=0) / volume.sum()
    return 1 - held


def test_sphere_series_against_the_radial_diffusion_equation_solved_numerically():
    x = np.array([0.005, 0.02, 0.05, 0.1, 0.2, 0.5])
    np.testing.assert_allclose(sphere_shape(x), released_fraction_by_method_of_lines(x), rtol=0, atol=2e-3)


def test_gaussian_escape_probability_against_a_random_walk():
    rng = np.random.default_rng(20240611)
    walkers, steps = 100_000, 40
    d_cm2_s, t_s, length_um = 2e-10, 3.0, 0.6
    step_sigma_cm = math.sqrt(2 * d_cm2_s * t_s / steps)  # per axis, so ⟨r²⟩ = 6Dt at the end
    position = np.zeros((walkers, 3))
    for _ in range(steps):
        position += rng.normal(0.0, step_sigma_cm, size=(walkers, 3))
    moved = np.linalg.norm(position, axis=1) > length_um * 1e-4
    p = MODELS["gaussian"](np.array([t_s]), D=d_cm2_s, A=1.0, length_um=length_um)[0]
    assert 0.2 < p < 0.8  # a test of the shape, not of a tail
    assert moved.mean() == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / walkers))


def test_gaussian_shape_in_closed_form():
    from scipy.special import erfc

    u = 0.7
    assert gaussian_shape(1 / (4 * u * u)) == pytest.approx(erfc(u) + 2 * u / math.sqrt(math.pi)
                                                            * math.exp(-u * u), rel=1e-14)


# -- declarations and guesses ----------------------------------------------------------------

def test_models_declare_their_parameters_and_units():
    assert set(MODELS) == {"sphere", "cube", "gaussian", "sqrt", "first-order"}
    for m in MODELS.values():
        assert m.equation and m.description
        assert m.units[m.rate_parameter] == ("1/s" if m.name == "first-order" else "cm²/s")
        assert m.needs_length == (m.name != "first-order")
    assert UM2_TO_CM2 == 1e-8


@pytest.mark.parametrize("name", ["sphere", "cube", "gaussian", "first-order", "sqrt"])
def test_guess_lands_near_the_truth_on_clean_data(name):
    m = MODELS[name]
    truth = 3e-10 if m.needs_length else 0.8
    t = np.geomspace(0.01, 200 if name != "sqrt" else 0.2, 25)  # to the plateau, or (√t) well before
    y = m(t, A=0.45, length_um=1.0 if m.needs_length else None, **{m.rate_parameter: truth})
    g = m.guess(t, y, length_um=1.0 if m.needs_length else None,
                plateau=0.45 if name == "sqrt" else None)
    assert g[m.rate_parameter] == pytest.approx(truth, rel=0.3 if name != "sqrt" else 1e-9)
    assert g["A"] == pytest.approx(0.45, rel=0.05)


def test_argument_at_inverts_the_shape():
    m = MODELS["sphere"]
    x = m.argument_at(0.5)
    assert float(m.shape(np.array([x]))[0]) == pytest.approx(0.5, rel=1e-12)


def test_bad_model_names_and_arguments_are_input_errors():
    with pytest.raises(InputError, match="unknown model 'ball'.*sphere"):
        get_model("ball")
    assert get_model("Sphere") is MODELS["sphere"]
    with pytest.raises(InputError, match="needs a length"):
        MODELS["cube"](np.array([1.0]), D=1e-10)
    with pytest.raises(InputError, match="takes its rate as D"):
        MODELS["sphere"](np.array([1.0]), k=1.0, length_um=1.0)
    with pytest.raises(InputError, match="length_um"):
        MODELS["sphere"](np.array([1.0]), D=1e-10, length_um=-1.0)
