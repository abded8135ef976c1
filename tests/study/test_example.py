"""The bundled example study: written in instrument formats, read by ssbkit's readers, and the
studies' numbers come back from its raw files through the technique functions themselves."""

import dataclasses
import hashlib
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.core.units import BOLTZMANN_EV
from ssbkit.study.example import PAPER, grid_conductivity, write_example_study

EES, NATCOMM = "EES Batteries 2026", "Nat. Commun. 2021"


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return write_example_study(tmp_path_factory.mktemp("example") / "study")


@pytest.fixture(scope="module")
def manifest(study) -> dict:
    return tomllib.loads((study / "study.toml").read_text(encoding="utf-8"))


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".ssbkit" not in p.parts}


# -- recovering the headline from the raw files, with the technique functions ------------------

def _conductivity(folder: Path, m: dict, pellet_id: str) -> dict[str, float]:
    from ssbkit.eis.arrhenius import arrhenius_from_conductivities
    from ssbkit.eis.conductivity import PelletGeometry, conductivity_from_fit
    from ssbkit.eis.fit import fit_circuits
    from ssbkit.io import read_spectra

    pellet = next(p for p in m["pellets"] if p["id"] == pellet_id)
    files = [x for x in m["measurements"] if x.get("pellet") == pellet_id and x["technique"] == "eis"]
    spectra = [read_spectra(folder / x["file"])[-1] for x in files]
    circuit = pellet.get("settings", {}).get("circuit", "R0-CPE1")  # the conductivity kind's default
    geometry = PelletGeometry.from_diameter(pellet["diameter_mm"], pellet["thickness_mm"])
    results = [conductivity_from_fit(fit, geometry, temperature_K=x["temperature_C"] + 273.15)
               for fit, x in zip(fit_circuits(spectra, circuit), files, strict=True)]
    at_25 = next(r for r, x in zip(results, files, strict=True) if x["temperature_C"] == 25)
    line = arrhenius_from_conductivities(results)
    return {"sigma_25C": at_25.conductivity.to("mS/cm").value, "ea": line.activation_energy.value}


def _cell(m: dict, measurement: dict) -> dict:
    return next(c for c in m["cells"] if c["id"] == measurement["cell"])


def _cycling(folder: Path, m: dict, measurement: dict) -> dict[str, float]:
    from ssbkit.cycling import summarize_cycles
    from ssbkit.io import read_cycling

    summary = summarize_cycles(read_cycling(folder / measurement["file"]), convention="charge-first",
                               active_mass_mg=_cell(m, measurement)["active_mass_mg"])
    cycles = summary.cycles
    complete = np.flatnonzero(cycles["complete"])
    return {"first_cycle_ce": cycles["ce"][complete[0]],
            "peak_capacity": cycles["specific_discharge"][complete].max(), "peak_cycle": summary.peak_cycle,
            "retention_vs_peak": summary.final_retention_vs_peak_pct,
            "polarisation_first": cycles["polarisation"][complete[0]],
            "polarisation_last": cycles["polarisation"][complete[-1]]}


def _rate(folder: Path, m: dict, measurement: dict) -> dict[str, float]:
    from ssbkit.cycling import rate_capability
    from ssbkit.io import read_cycling

    cell = _cell(m, measurement)
    result = rate_capability(read_cycling(folder / measurement["file"]),
                             specific_capacity_mah_g=cell["theoretical_capacity_mAh_g"],
                             active_mass_mg=cell["active_mass_mg"])
    out: dict[str, float] = {}
    for c_rate, capacity in zip(result.blocks["c_rate"], result.blocks["specific_capacity"], strict=True):
        out.setdefault(f"capacity_{c_rate:g}C", capacity)  # unrounded: the currents must be exact
    return out


def _pressure(folder: Path, m: dict, measurement: dict) -> dict[str, float]:
    from ssbkit.io import read_cycling, read_pressure
    from ssbkit.pressure.analysis import analyze_pressure

    cycling = next(x for x in m["measurements"] if x["id"] == measurement["cycling"])
    result = analyze_pressure(read_pressure(folder / measurement["file"]),
                              read_cycling(folder / cycling["file"]))
    return {"growth_per_cycle": result.growth_per_cycle.value}


def _exsy(folder: Path, m: dict, measurement: dict) -> dict[str, float]:
    from ssbkit.nmr.buildup import fit_buildup_series, read_buildup_table

    result = fit_buildup_series(read_buildup_table(folder / measurement["file"]), model="sphere",
                                length_um=m["settings"]["exsy"]["length_um"])
    return {"ea": result.Ea.value}


def recover(folder: Path, only: set[str] | None = None) -> list[tuple[str, float, float]]:
    """(quantity, paper, value from the files) for each headline entry (of ``only`` analyses)."""
    m = tomllib.loads((folder / "study.toml").read_text(encoding="utf-8"))
    by_id = {x["id"]: x for x in m["measurements"]}
    done: dict[str, dict[str, float]] = {}
    rows = []
    for h in m["headline"]:
        if only is not None and h["analysis"] not in only:
            continue
        kind, target = h["analysis"].split(":", 1)
        if h["analysis"] not in done:
            if kind == "conductivity":
                done[h["analysis"]] = _conductivity(folder, m, target)
            else:
                compute = {"cycling": _cycling, "rate": _rate, "pressure": _pressure, "exsy": _exsy}[kind]
                done[h["analysis"]] = compute(folder, m, by_id[target])
        rows.append((h["quantity"], h["paper"], float(done[h["analysis"]][h["field"]])))
    return rows


def _off(rows: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    return [(q, paper, got) for q, paper, got in rows if not abs(got - paper) <= 0.05 * abs(paper)]


# -- the folder and its manifest -----------------------------------------------------------------

def test_the_study_is_written_with_a_simulated_manifest_and_its_files(study, manifest):
    assert manifest["study"]["simulated"] is True
    assert "simulated by ssbkit's own forward models" in manifest["study"]["description"]
    assert EES in manifest["study"]["description"] and NATCOMM in manifest["study"]["description"]
    grid = [s for s in manifest["samples"] if s["material"] == "LPSCB"]
    assert {(s["milling"]["frb_percent"], s["milling"]["bmr"]) for s in grid} == {
        (f, b) for f in (5, 10, 20) for b in (20, 40, 80)}
    for sample in grid:
        assert {"jar_ml", "jar_material", "ball_material", "ball_diameter_mm", "speed_rpm",
                "time_h"} <= set(sample["milling"]) and sample["milling"]["jar_ml"] == 50
        assert set(sample["sintering"]) == {"temperature_C", "time_h", "ramp_C_per_min"}
    pellets = {p["id"]: p for p in manifest["pellets"]}
    assert len(pellets) == 12 and {p["diameter_mm"] for p in pellets.values()} == {10}
    assert len({p["thickness_mm"] for p in pellets.values()}) > 3  # they differ a little
    assert all(0.8 <= p["thickness_mm"] <= 1.05 and p["pressing_pressure_MPa"] == 375
               for p in pellets.values())
    eis = [x for x in manifest["measurements"] if x["technique"] == "eis" and "pellet" in x]
    for pellet in pellets:
        assert len([x for x in eis if x["pellet"] == pellet]) == 5
    cells = {c["id"]: c for c in manifest["cells"]}
    assert set(cells) == {"C-conventional", "C-high"}
    for cell in cells.values():
        assert math.isclose(cell["composite_mass_mg"] * cell["active_fraction"], cell["active_mass_mg"])
        assert math.isclose(cell["loading_mg_cm2"] * cell["area_cm2"], cell["active_mass_mg"])
    techniques = {x["technique"] for x in manifest["measurements"]}
    assert techniques == {"eis", "dcpol", "xrd", "cycling", "pressure", "exsy"}
    for x in manifest["measurements"]:
        assert (study / x["file"]).is_file(), x["file"]
    exsy = [x for x in manifest["measurements"] if x["technique"] == "exsy"]
    assert sorted(x["conditions"]["interface"] for x in exsy) == ["LPSC–LiI", "Li2S–LPSC", "Li2S–LiI"]
    insitu = next(x for x in manifest["measurements"] if "soc_percent" in x)
    assert insitu["soc_percent"] == list(range(0, 101, 10)) and insitu["cell"] == "C-conventional"


def test_the_headline_quotes_at_least_15_of_the_studies_numbers(manifest):
    headline = manifest["headline"]
    assert len(headline) >= 15
    assert {h["source"] for h in headline} == {EES, NATCOMM}
    by_field = {(h["analysis"], h["field"]): h["paper"] for h in headline}
    # the studies' numbers, typed here from the issues, not taken from the module
    assert by_field[("conductivity:P-F10-B80", "sigma_25C")] == 13.3
    assert by_field[("conductivity:P-F10-B80", "ea")] == 0.28
    assert [by_field[("rate:rate-C-conventional", f"capacity_{r}C")] for r in ("0.1", "0.5", "1")] == [
        483, 413, 264]
    assert by_field[("cycling:cyc-C-conventional", "retention_vs_peak")] == 96.22
    assert by_field[("cycling:cyc-C-high", "retention_vs_peak")] == 67.2
    assert by_field[("pressure:pressure-C-conventional", "growth_per_cycle")] == 2.1
    assert by_field[("pressure:pressure-C-high", "growth_per_cycle")] == 3.6
    assert sorted(v for (a, f), v in by_field.items() if a.startswith("exsy:")) == [0.107, 0.117, 0.142]
    assert sorted(v for (a, f), v in by_field.items() if a.startswith("conductivity:P-Li")) == [
        0.107, 0.212, 0.235]


def test_the_manifest_loads_and_names_analyses_that_exist(study):
    from ssbkit.study.kinds import analysis_kinds
    from ssbkit.study.manifest import load_manifest

    loaded = load_manifest(study)
    assert loaded.study.simulated is True
    assert len(loaded.measurements) == 79 and len(loaded.headline) == 20
    kinds = analysis_kinds()
    ids = {x.id for x in loaded.measurements} | {p.id for p in loaded.pellets}
    for h in loaded.headline:
        kind, target = h.analysis.split(":", 1)
        assert kind in kinds and target in ids
    # only the Nat. Commun. pellets change the conductivity defaults (their bulk arcs are resolved)
    assert loaded.settings["conductivity"]["circuit"] == "R0-CPE1"
    assert {p.id for p in loaded.pellets if p.settings} == {"P-Li2S", "P-LiI", "P-Li2S-LiI"}


def test_the_manifest_states_the_exsy_length_the_build_ups_were_simulated_with(study, manifest):
    """Regression: the study's exsy analysis took 1 µm when the manifest gave no length (D scales
    with L²); the example now says it, and D(298 K) comes back from the files with it."""
    from ssbkit.nmr.buildup import fit_buildup_series, read_buildup_table

    length = manifest["settings"]["exsy"]["length_um"]
    assert length == 1.0
    text = (study / "study.toml").read_text(encoding="utf-8")
    table = text[text.index("[settings.exsy]"):text.index("length_um =")]
    assert "particle radius" in table and "#" in table
    for interface, d_298 in PAPER.exsy_d298_cm2_s.items():
        measurement = next(x for x in manifest["measurements"]
                           if x["technique"] == "exsy" and x["conditions"]["interface"] == interface)
        series = fit_buildup_series(read_buildup_table(study / measurement["file"]), model="sphere",
                                    length_um=length)
        assert float(series.arrhenius.predict(298.15)) == pytest.approx(d_298, rel=0.05), interface


def test_every_file_is_read_by_its_instrument_reader(study, manifest):
    from ssbkit.core.registry import find_reader
    from ssbkit.io import read_chronoamperometry, read_cycling, read_pattern, read_pressure, read_spectra
    from ssbkit.nmr.buildup import read_buildup_table

    readers = {"eis": "squidstat-csv", "dcpol": "squidstat-csv", "cycling": "neware-csv",
               "pressure": "pressure-log", "xrd": "xrd-xy"}
    for x in manifest["measurements"]:
        path = study / x["file"]
        technique = x["technique"]
        if technique in readers:
            found = find_reader(path, technique="xrd" if technique == "xrd" else None)
            assert found.name == readers[technique], x["file"]
        if technique == "eis":
            spectra = read_spectra(path)
            assert len(spectra) == (11 if "cell" in x else 1)
            assert all(len(s) == (89 if "cell" in x else 61) for s in spectra)
        elif technique == "dcpol":
            records = read_chronoamperometry(path)
            levels = sorted({round(float(np.median(r.voltage)), 3) for r in records})
            assert levels == [0.1, 0.2, 0.3, 0.4, 0.5]
        elif technique == "cycling":
            record = read_cycling(path)
            # the mass the export's specific capacities imply is the cell's
            assert record.metadata["active_mass_mg"] == pytest.approx(_cell(manifest, x)["active_mass_mg"],
                                                                      rel=1e-4)
        elif technique == "pressure":
            assert len(read_pressure(path)) > 100
        elif technique == "xrd":
            pattern = read_pattern(path)
            assert pattern.two_theta[0] == 10.0 and pattern.two_theta[-1] == pytest.approx(79.98)
        else:
            table = read_buildup_table(path)
            assert sorted(set(table["temperature [K]"])) == [293.0, 313.0, 333.0, 353.0, 373.0]
            assert table.groupby("temperature [K]").size().tolist() == [16] * 5


def test_the_files_hold_what_the_physics_says(study, manifest):
    """Closed forms against the files: R = L/(σA) at 7 MHz with Z'' < 0 (Squidstat's −Z'' read
    back), and the conventional cell's discharge capacity cycle by cycle."""
    from ssbkit.cycling import summarize_cycles
    from ssbkit.io import read_cycling, read_spectra

    pellet = next(p for p in manifest["pellets"] if p["id"] == "P-F10-B80")
    (spectrum,) = read_spectra(study / "raw/eis/P-F10-B80_25C.csv")
    r_bulk = pellet["thickness_mm"] / 10 / (13.3e-3 * math.pi * 0.5**2)
    assert spectrum.frequency[0] == pytest.approx(7e6)
    assert spectrum.impedance[0].real == pytest.approx(r_bulk, rel=0.02)
    assert (spectrum.impedance.imag < 0).mean() > 0.9
    # Li2S at 105 °C, σ = σ25·(298.15/T)·exp(−Ea/k_B·(1/T − 1/298.15)): the bulk arc's apex is
    # −Z'' = R/2 (ideal R‖C; 9 points a decade sample it within 1 %)
    li2s = next(p for p in manifest["pellets"] if p["id"] == "P-Li2S")
    kelvin = 378.15
    sigma = 1e-8 * 298.15 / kelvin * math.exp(-0.235 / BOLTZMANN_EV * (1 / kelvin - 1 / 298.15))
    (hot,) = read_spectra(study / "raw/eis/P-Li2S_105C.csv")
    r_li2s = li2s["thickness_mm"] / 10 / (sigma * math.pi * 0.5**2)
    assert float(-hot.impedance.imag.min()) == pytest.approx(r_li2s / 2, rel=0.03)
    # life curve: linear from 93 % at cycle 1 to 470.6 mAh/g at 62, then −(1 − 0.9622)/138 per cycle
    summary = summarize_cycles(read_cycling(study / "raw/cycling/C-conventional_0.5C.csv"),
                               active_mass_mg=4.2)
    n = np.arange(1, 201)
    life = np.where(n <= 62, 0.93 + 0.07 * (n - 1) / 61, 1 - (1 - 0.9622) / 138 * (n - 62))
    np.testing.assert_allclose(summary.cycles["specific_discharge"], 470.6 * life, atol=2e-3)
    ce = summary.cycles["ce"]
    assert ce[0] == pytest.approx(112.0, abs=1e-3) and np.allclose(ce[1:], 99.99, atol=1e-3)


# -- the key test: the studies' numbers from the raw files ----------------------------------------

def test_the_headline_numbers_come_back_from_the_raw_files_within_5_percent(study):
    rows = recover(study)
    assert len(rows) == 20
    assert _off(rows) == []
    got = {q: value for q, _, value in rows}
    # tighter where nothing noisy stands between the truth and the file
    assert got["specific capacity at 0.1 C"] == pytest.approx(483, abs=0.01)
    assert got["cycle of the peak capacity"] == 62
    assert got["retention after 200 cycles (vs peak)"] == pytest.approx(96.22, abs=0.01)
    assert got["first-cycle Coulombic efficiency"] == pytest.approx(112, abs=0.01)


def test_the_same_seed_gives_byte_identical_files_and_overwrite_keeps_the_database(study, tmp_path):
    again = tmp_path / "again"
    (again / "raw").mkdir(parents=True)
    (again / "raw" / "stale.csv").write_text("left from an older example\n")
    (again / ".ssbkit").mkdir()
    (again / ".ssbkit" / "lab.sqlite").write_bytes(b"a database")
    with pytest.raises(InputError, match="not empty") as info:
        write_example_study(again)
    assert str(again) in str(info.value)
    write_example_study(again, overwrite=True)
    assert _hashes(again) == _hashes(study)
    assert (again / ".ssbkit" / "lab.sqlite").read_bytes() == b"a database"
    assert not list(tmp_path.glob(".again.*"))  # no staging folder left behind


def test_another_seed_changes_the_noise_and_still_gives_the_papers_numbers(study, tmp_path):
    other = write_example_study(tmp_path / "other", seed=7)
    mine, theirs = _hashes(study), _hashes(other)
    assert mine.keys() == theirs.keys()
    assert mine["raw/exsy/Li2S-LPSC_buildup.csv"] != theirs["raw/exsy/Li2S-LPSC_buildup.csv"]
    assert mine["raw/eis/P-F10-B80_25C.csv"] != theirs["raw/eis/P-F10-B80_25C.csv"]
    assert _off(recover(other)) == []


def test_a_tampered_activation_energy_fails_the_5_percent_check(tmp_path):
    from ssbkit.study import example

    params = dataclasses.replace(PAPER, ea_best_eV=0.35)
    folder = example._write(tmp_path / "tampered", 2026, params)
    rows = recover(folder, only={"conductivity:P-F10-B80"})
    off = _off(rows)
    assert [q for q, _, _ in off] == ["Ea, FRB 10 %, BMR 80:1"]
    assert off[0][1] == 0.28 and off[0][2] == pytest.approx(0.35, abs=0.005)  # the headline quotes the paper


def test_the_grid_trend_peaks_at_the_studys_best_powder():
    best = grid_conductivity(10, 80)
    assert best == pytest.approx((13.3e-3, 0.28))
    for frb in (5, 10, 20):
        for bmr in (20, 40, 80):
            sigma, ea = grid_conductivity(frb, bmr)
            assert sigma <= best[0] and ea >= best[1]
            if (frb, bmr) != (10, 80):
                assert sigma < 0.9 * best[0]
    # the chosen formula, by hand: FRB 5 %, BMR 20:1
    shape = math.exp(-math.log(0.5) ** 2 / (2 * 0.8**2)) * 0.25**0.3
    assert grid_conductivity(5, 20)[0] == pytest.approx(13.3e-3 * shape)
    assert grid_conductivity(5, 20)[1] == pytest.approx(0.28 - 0.03 * math.log(shape))


def test_polarisation_growth_moves_the_voltages_and_the_energy_counters_together():
    from ssbkit.cycling import simulate_cycling, summarize_cycles
    from ssbkit.study.example import _grow_polarisation, _thin_rests

    record = simulate_cycling(n_cycles=5, capacity_mah=2.0, points_per_step=30, rng=1)
    before = summarize_cycles(record)
    after = summarize_cycles(_thin_rests(_grow_polarisation(record, 0.04), 30))
    np.testing.assert_allclose(after.cycles["polarisation"] - before.cycles["polarisation"],
                               [0.0, 0.01, 0.02, 0.03, 0.04], atol=1e-9)
    np.testing.assert_allclose(after.cycles["discharge"], before.cycles["discharge"], rtol=1e-12)
    # energy counters follow: energy / capacity is the mean voltage, shifted by half the increment
    moved = (after.cycles["charge_energy"] - before.cycles["charge_energy"]) / after.cycles["charge"]
    np.testing.assert_allclose(moved, [0.0, 0.005, 0.01, 0.015, 0.02], atol=1e-9)


def test_bad_arguments_are_refused_naming_them(tmp_path):
    for seed in (-1, True, 1.5, "7"):
        with pytest.raises(InputError, match="seed"):
            write_example_study(tmp_path / "s", seed=seed)
    afile = tmp_path / "a-file"
    afile.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        write_example_study(afile)


def test_the_xrd_scans_give_back_the_structure_the_milling_dose_set(study):
    """Rietveld on two scans: the lattice parameter, size and LiCl fraction of the chosen dose
    trend come back, and the least-milled powder has the larger cell, crystallites and LiCl share."""
    from ssbkit.io import read_pattern
    from ssbkit.study.example import _milling_dose_kj_g, grid_structure
    from ssbkit.xrd.refine import refine

    refined = {}
    for sample, (frb, bmr) in {"S-F20-B20": (20, 20), "S-F10-B80": (10, 80)}.items():
        truth = grid_structure(_milling_dose_kj_g(frb, bmr))
        result = refine(read_pattern(study / f"raw/xrd/{sample}.xy"),
                        ["Li5.5PS4.5Cl0.8Br0.7", "LiCl", "Li2S"], wavelength="CuKa")
        assert result.success, result.message
        main, licl = result.phases[0], result.phases[1]
        assert main.a.value == pytest.approx(truth["a"], abs=5e-4)
        assert main.size.value == pytest.approx(truth["size_nm"], rel=0.1)
        assert licl.weight_fraction.value == pytest.approx(truth["LiCl_wt_pct"], abs=0.5)
        refined[sample] = (main.a.value, main.size.value, licl.weight_fraction.value)
    low, high = refined["S-F20-B20"], refined["S-F10-B80"]
    assert all(x > y for x, y in zip(low, high, strict=True))
