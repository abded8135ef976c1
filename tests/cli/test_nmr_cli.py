"""``ssbkit nmr``: JSON shapes against the truth the examples were made with, real Bruker files,
figures, and one-line errors.

Truth (examples/make_nmr_data.py): the 6Li fid holds lines at 2.31 / 1.29 / −4.56 ppm with
30 / 50 / 20 % of the lithium, zero phase, on 73.5999 MHz with a 5000 Hz window and the carrier
at 0 ppm; the build-up series is the sphere model (radius 1 µm) with D(298 K) = 1e-9 cm²/s and
Ea = 0.107 eV; the volume table is a three-site exchange with populations 0.3 / 0.5 / 0.2,
k(Li2S→LiI) = 2, k(LiI→LPSC) = 5, k(Li2S→LPSC) = 0.2 s⁻¹ and T1 = 20 / 5 / 10 s.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ssbkit.cli import cli
from ssbkit.testing import assert_single_json_document, shared_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data" / "nmr"
FID = EXAMPLES / "li6_mixture" / "1"
BUILDUP = EXAMPLES / "exsy_buildup.csv"
VOLUMES = EXAMPLES / "exsy_volumes.csv"
PEAKS = ("--peaks", "2.31,1.29,-4.56", "--names", "Li2S,LPSC,LiI")
SHIFTS = {"Li2S": 2.31, "LPSC": 1.29, "LiI": -4.56}
FRACTIONS = {"Li2S": 0.30, "LPSC": 0.50, "LiI": 0.20}
KB_EV = 8.617333262e-5


def invoke(*args):
    return CliRunner().invoke(cli, ["nmr", *map(str, args)], prog_name="ssbkit")


def ok_json(*args):
    result = invoke(*args, "--json")
    assert result.exit_code == 0, (result.stdout[-500:], result.stderr)
    assert result.stderr == ""
    return assert_single_json_document(result.stdout)


def one_line_error(result):
    assert result.exit_code == 1, (result.exit_code, result.stdout[-500:], result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def assert_estimate(doc, unit):
    assert set(doc) == {"value", "stderr", "unit"} and doc["unit"] == unit, doc
    assert math.isfinite(doc["value"]) and doc["stderr"] > 0, doc


# ---------------------------------------------------------------------------- nmr read

def test_read_gives_the_ppm_axis_the_acquisition_defines():
    data = ok_json("read", FID, "--phase", "none")
    assert data["ndim"] == 1 and data["shape"] == [8192]
    ppm, intensity = np.array(data["ppm"][0]), np.array(data["intensity"])
    assert ppm.shape == intensity.shape == (8192,)
    # carrier at 0 ppm, 5000 Hz over 73.5999 MHz, zero-filled to 8192 points, high ppm first
    width = 5000.0 / 73.5999
    assert ppm[0] == pytest.approx(width / 2, abs=width / 8192)
    assert np.allclose(np.diff(ppm), -width / 8192, rtol=1e-9)
    # the tallest line is LPSC (0.5 over 60 Hz beats Li2S's 0.3 over 45 Hz)
    assert ppm[np.argmax(intensity)] == pytest.approx(1.29, abs=0.05)


def test_read_writes_the_csv_and_the_figure(tmp_path):
    pytest.importorskip("matplotlib")
    table, figure = tmp_path / "li6.csv", tmp_path / "li6.png"
    result = invoke("read", FID, "--csv", table, "--plot", figure)
    assert result.exit_code == 0, result.stderr
    lines = table.read_text().splitlines()
    assert lines[0] == "chemical shift [ppm],intensity [a.u.]" and len(lines) == 8193
    assert figure.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["li6.csv", "li6.png"]  # no temporary left
    # regression: the table kept the 0600 mode of its mkstemp temporary file
    plain = tmp_path / "plain"
    plain.write_text("")
    assert table.stat().st_mode == plain.stat().st_mode


def test_a_figure_that_fails_leaves_no_table(tmp_path, monkeypatch):
    """Both outputs or neither: the table is renamed into place only after the figure is saved."""
    import ssbkit.nmr.plot

    def broken(spectrum):
        raise RuntimeError("plotting bug")

    monkeypatch.setattr(ssbkit.nmr.plot, "plot_spectrum", broken)
    result = invoke("read", FID, "--csv", tmp_path / "li6.csv", "--plot", tmp_path / "li6.png")
    assert result.exit_code == 1 and "plotting bug" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_read_topspin_1d_puts_the_maximum_where_topspin_does():
    folder = shared_data("nmr", "spectrochempy_bruker", "topspin_1d", "1")
    ours = ok_json("read", folder)
    topspin = ok_json("read", folder, "--processed")
    assert ours["ndim"] == topspin["ndim"] == 1
    ppm, ref_ppm = np.array(ours["ppm"][0]), np.array(topspin["ppm"][0])
    # the same spectral window (the acqus SW), whatever the zero filling; acqus divides SW_h by
    # the transmitter frequency SFO1, the axis by the reference frequency (a few ppm apart)
    sw_ppm = float(re.search(r"##\$SW= ([\d.eE+-]+)", (folder / "acqus").read_text())[1])
    assert ppm[0] - ppm[-1] == pytest.approx(sw_ppm * (1 - 1 / ppm.size), rel=2e-5)
    assert ppm[0] == pytest.approx(ref_ppm[0], abs=0.01)
    peak = ppm[np.argmax(ours["intensity"])]
    assert peak == pytest.approx(ref_ppm[np.argmax(topspin["intensity"])], abs=0.05)


def test_read_topspin_2d_gives_one_ppm_axis_per_dimension():
    folder = shared_data("nmr", "spectrochempy_bruker", "topspin_2d", "1")
    data = ok_json("read", folder)
    assert data["ndim"] == 2
    rows, cols = data["shape"]
    assert [len(a) for a in data["ppm"]] == [rows, cols]
    assert len(data["intensity"]) == rows and len(data["intensity"][0]) == cols
    # each axis spans its own acquisition file's SW [ppm] (SW_h/SFO, the axis divides by the
    # reference frequency: a few ppm apart)
    for axis, name in zip(data["ppm"], ("acqu2s", "acqus"), strict=True):
        sw_ppm = float(re.search(r"##\$SW= ([\d.eE+-]+)", (folder / name).read_text())[1])
        assert axis[0] - axis[-1] == pytest.approx(sw_ppm * (1 - 1 / len(axis)), rel=2e-5)


# ---------------------------------------------------------------------------- nmr deconvolve

def test_deconvolve_recovers_the_fractions_of_the_example():
    data = ok_json("deconvolve", FID, *PEAKS, "--phase", "none")
    assert data["success"] is True
    lines = {line["name"]: line for line in data["lines"]}
    assert set(lines) == set(FRACTIONS)
    for name, line in lines.items():
        assert_estimate(line["area"], line["area"]["unit"])
        assert_estimate(line["fraction"], "1")
        assert line["position"]["value"] == pytest.approx(SHIFTS[name], abs=0.01)
        assert line["fraction"]["value"] == pytest.approx(FRACTIONS[name], abs=0.01)
    assert sum(line["fraction"]["value"] for line in lines.values()) == pytest.approx(1.0, abs=1e-9)


def test_deconvolve_with_the_default_autophase_recovers_the_fractions():
    """Regression: autophase set p0 = 6.8° on this zero-phase fid (fractions 0.18/0.60/0.22)."""
    data = ok_json("deconvolve", FID, *PEAKS)
    for line in data["lines"]:
        assert line["fraction"]["value"] == pytest.approx(FRACTIONS[line["name"]], abs=0.01)


def test_two_lines_for_three_sites_are_flagged():
    """Negative control: with the LPSC line left out the residual stands far above the noise,
    and the result says so; with all three it is at the noise."""
    two = ok_json("deconvolve", FID, "--peaks", "2.31,-4.56", "--phase", "none")
    three = ok_json("deconvolve", FID, *PEAKS, "--phase", "none")
    assert two["residual_to_noise"] > 2.0 and "missing" in two["message"]
    assert three["residual_to_noise"] < 1.3


def test_deconvolve_writes_its_figure(tmp_path):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "fit.png"
    result = invoke("deconvolve", FID, *PEAKS, "--phase", "none", "--plot", figure)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Deconvolution [ok]")
    assert figure.read_bytes().startswith(b"\x89PNG")


# ---------------------------------------------------------------------------- nmr exsy-fit

def d_truth(temperature_K):
    return 1e-9 * math.exp(-0.107 / KB_EV * (1 / temperature_K - 1 / 298.0))


def test_exsy_fit_gives_d_per_temperature_and_the_arrhenius_ea():
    data = ok_json("exsy-fit", BUILDUP, "--model", "sphere", "--length-um", "1")
    assert data["success"] is True and data["model"] == "sphere"
    fits = data["fits"]
    # the issue names the key 'temperature'; the result writes 'temperature_K' (reported, not hacked)
    assert [f["temperature_K"] for f in fits] == [293.0, 313.0, 333.0, 353.0, 373.0]
    for fit in fits:
        assert_estimate(fit["D"], "cm²/s")
        truth = d_truth(fit["temperature_K"])
        assert abs(fit["D"]["value"] - truth) < max(3 * fit["D"]["stderr"], 0.05 * truth)
        assert fit["plateau"]["value"] == pytest.approx(0.5, abs=0.02)
    ea = data["Ea"]
    assert_estimate(ea, "eV")
    assert abs(ea["value"] - 0.107) < 2 * ea["stderr"] and ea["stderr"] < 0.01


def test_the_sphere_radius_scales_d_as_its_square_and_leaves_ea():
    """Analytic: the model depends on D t / R² only, so doubling R quadruples every D."""
    one = ok_json("exsy-fit", BUILDUP, "--length-um", "1")
    two = ok_json("exsy-fit", BUILDUP, "--length-um", "2")
    for a, b in zip(one["fits"], two["fits"], strict=True):
        assert b["D"]["value"] == pytest.approx(4 * a["D"]["value"], rel=1e-4)
    assert two["Ea"]["value"] == pytest.approx(one["Ea"]["value"], abs=1e-5)


def test_exsy_fit_global_arrhenius_and_figure(tmp_path):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "buildup.png"
    data = ok_json("exsy-fit", BUILDUP, "--length-um", "1", "--arrhenius", "--plot", figure)
    assert data["global_fit"] is not None
    assert abs(data["Ea"]["value"] - 0.107) < max(2 * data["Ea"]["stderr"], 0.01)
    assert figure.read_bytes().startswith(b"\x89PNG")


# ---------------------------------------------------------------------------- nmr exchange-fit

RATES = {("Li2S", "LiI"): 2.0, ("LiI", "LPSC"): 5.0, ("Li2S", "LPSC"): 0.2}
POPULATIONS = {"Li2S": 0.3, "LPSC": 0.5, "LiI": 0.2}


def true_rate(a, b):
    if (a, b) in RATES:
        return RATES[a, b]
    return RATES[b, a] * POPULATIONS[b] / POPULATIONS[a]  # detailed balance


def check_rates(data, populations):
    rates = data["rates"]
    pairs = {(a, b) for a in POPULATIONS for b in POPULATIONS if a != b}
    assert {(r["from"], r["to"]) for r in rates} == pairs
    by_pair = {(r["from"], r["to"]): r["k"] for r in rates}
    for (a, b), k in by_pair.items():
        assert_estimate(k, "1/s")
        assert k["value"] * populations[a] == pytest.approx(by_pair[b, a]["value"] * populations[b], rel=1e-6)
        truth = true_rate(a, b)
        assert abs(k["value"] - truth) < 3 * k["stderr"]
        if truth >= 1.0:  # the fast pairs are well determined
            assert k["value"] == pytest.approx(truth, rel=0.15)


def test_exchange_fit_with_the_populations_and_t1_recovers_the_rates():
    data = ok_json("exchange-fit", VOLUMES, "--populations", "Li2S=0.3,LPSC=0.5,LiI=0.2",
                   "--t1-s", "Li2S=20,LPSC=5,LiI=10")
    assert data["success"] is True and data["sites"] == ["Li2S", "LPSC", "LiI"]
    check_rates(data, POPULATIONS)


def test_exchange_fit_without_populations_takes_them_from_the_shortest_mixing_time():
    data = ok_json("exchange-fit", VOLUMES, "--t1-s", "fit")
    populations = dict(zip(data["sites"], data["populations"], strict=True))
    for site, p in POPULATIONS.items():
        assert populations[site] == pytest.approx(p, abs=0.01)
    check_rates(data, populations)


def test_exchange_fit_without_relaxation_misses_the_example():
    """Negative control: the example relaxes (T1 = 5–20 s over 10 s of mixing); fitting it as
    if it did not leaves residuals an order of magnitude above the 0.5 % noise."""
    relaxed = ok_json("exchange-fit", VOLUMES, "--t1-s", "Li2S=20,LPSC=5,LiI=10")
    plain = ok_json("exchange-fit", VOLUMES, "--t1-s", "none")
    fitted = ok_json("exchange-fit", VOLUMES)  # the default fits one T1 per site
    assert relaxed["relative_rms"] < 0.01 < 0.05 < plain["relative_rms"]
    assert fitted["relative_rms"] < 0.01 and fitted["R1_fitted"] is True
    truth = {("Li2S", "LiI"): 2.0, ("LiI", "LPSC"): 5.0}
    for rate in fitted["rates"]:
        if (rate["from"], rate["to"]) in truth:
            assert abs(rate["k"]["value"] / truth[(rate["from"], rate["to"])] - 1) < 0.1


# ---------------------------------------------------------------------------- errors

@pytest.fixture
def bad(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(text)
        return path
    return write


def test_a_folder_without_acqus_is_named(tmp_path):
    folder = tmp_path / "1"
    folder.mkdir()
    (folder / "fid").write_bytes((FID / "fid").read_bytes())
    line = one_line_error(invoke("read", folder))
    assert "acqus" in line and str(folder) in line


def test_a_folder_that_is_not_bruker_is_named(tmp_path):
    (tmp_path / "notes.txt").write_text("not nmr\n")
    line = one_line_error(invoke("deconvolve", tmp_path, "--peaks", "1"))
    assert "not a Bruker NMR folder" in line and str(tmp_path) in line
    assert "no such file" in one_line_error(invoke("read", tmp_path / "absent"))


@pytest.mark.parametrize(("text", "words"), [
    ("intensity,temperature [K]\n0.1,293\n0.2,293\n0.3,293\n", "mixing-time"),
    ("mixing_time [s],intensity\n0.1,0.2\n", "single mixing time"),
    ("mixing_time [s],intensity\n0.1,0.2\n0.2,nan\n0.3,0.4\n", "row 2"),
    ("mixing_time [s],intensity\n0.1,-0.5\n0.2,-0.7\n0.3,-0.9\n0.5,-1\n", "out of range"),
])
def test_bad_buildup_tables_are_one_line_naming_the_table(bad, text, words):
    table = bad("buildup.csv", text)
    line = one_line_error(invoke("exsy-fit", table, "--length-um", "1", "--json"))
    assert str(table) in line and words in line


def test_an_exchange_table_without_to_is_named(bad):
    table = bad("volumes.csv", "mixing_time [s],from,volume\n0.1,A,1\n0.1,B,1\n")
    line = one_line_error(invoke("exchange-fit", table, "--populations", "A=0.5,B=0.5"))
    assert str(table) in line and "'to'" in line
    # and so without --populations, where the populations come from the table
    assert "'to'" in one_line_error(invoke("exchange-fit", table))


@pytest.mark.parametrize(("args", "option"), [
    (("deconvolve", FID, "--peaks", "a,b"), "--peaks"),
    (("deconvolve", FID, "--phase", "garbage"), "--phase"),
    (("read", FID, "--phase", "10"), "--phase"),
    (("deconvolve", FID, "--region", "5"), "--region"),
    (("deconvolve", FID, "--peaks", "1,2", "--names", "a,b,c"), "--names"),
    (("deconvolve", FID, "--baseline", "-2"), "--baseline"),
    (("exsy-fit", BUILDUP, "--model", "sphere"), "--length-um"),
    (("exsy-fit", BUILDUP, "--length-um", "-1"), "--length-um"),
    (("exsy-fit", BUILDUP, "--model", "first-order", "--length-um", "1"), "--length-um"),
    (("exsy-fit", BUILDUP, "--length-um", "1", "--plateau", "abc"), "--plateau"),
    (("exchange-fit", VOLUMES, "--populations", "Li2S"), "--populations"),
    (("exchange-fit", VOLUMES, "--populations", "Li2S=0.3"), "--populations"),
    (("exchange-fit", VOLUMES, "--t1-s", "1,2"), "--t1-s"),
    (("exchange-fit", VOLUMES, "--t1-s", "-3"), "--t1-s"),
    (("exchange-fit", VOLUMES, "--pairs", "Li2S-Foo"), "--pairs"),
    (("exchange-fit", VOLUMES, "--pairs", "Li2S"), "--pairs"),
])
def test_a_bad_option_is_one_line_naming_it(args, option):
    line = one_line_error(invoke(*args))
    assert line.startswith(f"error: {option}: "), line


def test_figure_and_table_paths_are_refused_before_any_work(tmp_path):
    for args in (("--plot", tmp_path / "fig.bmp"), ("--plot", tmp_path / "no" / "fig.png"),
                 ("--csv", tmp_path / "no" / "li6.csv")):
        line = one_line_error(invoke("read", FID, *args))
        assert line.startswith(f"error: {args[0]}: ")
    # the data error comes after the output check, and nothing is left behind
    line = one_line_error(invoke("exsy-fit", BUILDUP, "--plot", tmp_path / "fig.gif"))
    assert line.startswith("error: --plot: ")
    assert list(tmp_path.iterdir()) == []


def test_a_failing_command_leaves_no_output_file(tmp_path):
    figure, table = tmp_path / "fig.png", tmp_path / "li6.csv"
    one_line_error(invoke("read", tmp_path / "absent", "--csv", table, "--plot", figure))
    one_line_error(invoke("exsy-fit", BUILDUP, "--plot", figure))  # no --length-um
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ("read", FID, "--bogus"),
    ("exsy-fit", BUILDUP, "--model", "nonsense", "--length-um", "1"),
    ("deconvolve", FID, "--shape", "square"),
    ("exsy-fit",),
])
def test_usage_errors_exit_2(args):
    result = invoke(*args)
    assert result.exit_code == 2 and result.stdout == ""


def test_no_warning_escapes_a_command():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok_json("exsy-fit", BUILDUP, "--length-um", "1")
    assert [str(w.message) for w in caught] == []
