"""The cycling, rate and pressure analyses of a study: synthetic cells with known capacities,
CE, retention, rate capacities and pressure growth (written as cycler files and read back),
the bundled example files, one real cycler file, and the result and figure contracts."""

import json
from pathlib import Path

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.core.units import convert
from ssbkit.cycling import simulate_cycling, simulate_rate_test, summarize_cycles
from ssbkit.io import read_cycling
from ssbkit.pressure.simulate import simulate_pressure
from ssbkit.study.cell_analyses import KINDS, cell_active_mass
from ssbkit.study.kinds import RESULT_KEYS, AnalysisTask, FigureSpec, TaskInput
from ssbkit.testing import shared_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "data"
KIND = {kind.name: kind for kind in KINDS}
FADE_200 = (1 - 0.9622) / (200 - 62)  # the study's 96.22 % of the peak (cycle 62) at cycle 200


def write_bdf(record, path):
    record.to_frame().to_csv(path, index=False, float_format="%.10g")
    return path


def source(path, name=None, measurement="m1"):
    return TaskInput(measurement=measurement, path=str(path), name=name or f"raw/{Path(path).name}",
                     sha256="sha256:" + "0" * 64)


def task(kind, path, *, context=None, settings=None, extra=None, name=None):
    return AnalysisTask(id=f"{kind}:m1", kind=kind, target="C1", inputs=(source(path, name),),
                        settings={**KIND[kind].defaults, **(settings or {})},
                        context=context or {}, extra=extra or {})


def run(kind, path, **options):
    result = KIND[kind].run(task(kind, path, **options))
    assert tuple(result) == RESULT_KEYS
    return result


def value(result, key):
    return result["summary"][key]["value"]


def truth(record):
    return record.metadata["truth"]["cycles"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cells")
    records = {
        # the LTS cells start with a charge and discharge more than that first charge:
        # first_charge_extra < 0 makes the first charge 1/1.12 of its discharge
        "ce112": simulate_cycling(n_cycles=4, active_mass_mg=6.0, specific_capacity_mah_g=470.6,
                                  first_charge_extra=1 / 1.12 - 1, points_per_step=20),
        "long": simulate_cycling(n_cycles=200, active_mass_mg=10.0, specific_capacity_mah_g=470.6,
                                 peak_cycle=62, fade_per_cycle=FADE_200, points_per_step=6,
                                 rest_s=0.0),
        "fading": simulate_cycling(n_cycles=45, capacity_mah=2.0, fade_per_cycle=0.006,
                                   points_per_step=4, rest_s=0.0),
        "rate": simulate_rate_test(rates=(0.1, 0.5, 1.0, 0.1), cycles_per_rate=3,
                                   active_mass_mg=4.2, specific_capacity_mah_g=483.0,
                                   fade_per_cycle=0.01, points_per_step=10),
        "pressure_cell": simulate_cycling(n_cycles=6, active_mass_mg=5.0, c_rates=0.5, peak_cycle=1,
                                          initial_capacity_fraction=1.0, points_per_step=20,
                                          rest_s=600.0),
    }
    paths = {name: write_bdf(record, folder / f"{name}.bdf.csv") for name, record in records.items()}
    # a log 45 s behind the cycler, 3 % of 8 MPa growth per cycle, no noise
    log = simulate_pressure(records["pressure_cell"], p0_mpa=8.0, growth_per_cycle=0.03,
                            breathing_mpa=0.3, noise_mpa=0.0, interval_s=60.0, margin_s=600.0,
                            clock_offset_s=45.0)
    stamps = [np.datetime_as_string(np.datetime64(int(round(t)), "s")) for t in log.unix_time]
    lines = ["timestamp,pressure [MPa]"] + [f"{s},{p:.6f}" for s, p in zip(stamps, log.pressure,
                                                                          strict=True)]
    paths["pressure_log"] = folder / "stack.csv"
    paths["pressure_log"].write_text("\n".join(lines) + "\n")
    return records, paths


@pytest.fixture(scope="module")
def long_result(files):
    return run("cycling", files[1]["long"], context={"active_mass_mg": 10.0})


# -- cycling: synthetic truth -------------------------------------------------------------------

def test_first_cycle_ce_of_112_percent_is_made_and_recovered(files):
    records, paths = files
    cycles = truth(records["ce112"])
    assert cycles["discharge_mah"][0] / cycles["charge_mah"][0] == pytest.approx(1.12, rel=1e-12)
    result = run("cycling", paths["ce112"], context={"active_mass_mg": 6.0})
    assert result["success"] and result["message"] == ""
    assert value(result, "first_cycle_ce") == pytest.approx(112.0, rel=1e-7)
    assert result["summary"]["first_cycle_ce"]["unit"] == "%"
    assert value(result, "first_discharge_capacity") == pytest.approx(cycles["discharge_mah_g"][0],
                                                                      rel=1e-7)
    assert value(result, "first_charge_capacity") == pytest.approx(470.6 / 1.12, rel=1e-7)


def test_peak_at_cycle_62_and_retention_at_cycle_200(files, long_result):
    records, _ = files
    cycles = truth(records["long"])
    s = long_result["summary"]
    assert value(long_result, "peak_cycle") == 62 and value(long_result, "final_cycle") == 200
    assert s["peak_capacity"] == {"value": pytest.approx(470.6, rel=1e-7), "stderr": None,
                                  "unit": "mAh/g"}
    # closed form: 1 − fade·(200 − 62)
    assert value(long_result, "retention_vs_peak") == pytest.approx(96.22, rel=1e-7)
    assert value(long_result, "first_cycle_ce") == pytest.approx(100 / 1.12, rel=1e-7)
    assert value(long_result, "first_discharge_capacity") == pytest.approx(0.95 * 470.6, rel=1e-7)
    assert value(long_result, "cycles_to_80") is None
    for key, j in (("polarisation_first", 0), ("polarisation_last", 199)):
        expected = cycles["mean_charge_v"][j] - cycles["mean_discharge_v"][j]
        assert value(long_result, key) == pytest.approx(expected, rel=1e-6)
    assert len(long_result["tables"]["cycles"]) == 200
    assert long_result["series"]["capacity"]["cycle"] == list(range(1, 201))


def test_cycles_to_80_and_90_percent_of_the_peak(files):
    # peak at cycle 1, 0.6 % of it lost per cycle: 80.2 % at cycle 34, 79.6 % at 35; 90.4 % at 17
    result = run("cycling", files[1]["fading"])
    assert value(result, "cycles_to_80") == 35 and value(result, "cycles_to_90") == 18
    assert value(result, "peak_cycle") == 1


def test_dqdv_cycles_default_to_first_tenth_and_last(long_result):
    drawn = {c["cycle"] for c in long_result["series"]["dqdv"]["curves"]}
    assert drawn == {1, 21, 200}
    assert long_result["provenance"]["settings"]["dqdv_cycles"] == [1, 21, 200]


def test_voltage_profiles_end_at_each_half_cycles_capacity(files, long_result):
    cycles = truth(files[0]["long"])
    for curve in long_result["series"]["profiles"]["curves"]:
        key = "charge_mah_g" if curve["direction"] == "charge" else "discharge_mah_g"
        assert curve["capacity"][0] == 0.0
        assert curve["capacity"][-1] == pytest.approx(cycles[key][curve["cycle"] - 1], rel=1e-6)
        assert len(curve["capacity"]) <= 400


def test_chosen_dqdv_cycles_and_a_cycle_not_there(files):
    path = files[1]["ce112"]
    result = run("cycling", path, settings={"dqdv_cycles": [2, 3]})
    assert {c["cycle"] for c in result["series"]["dqdv"]["curves"]} == {2, 3}
    with pytest.raises(InputError, match=r"\[settings.cycling\] dqdv_cycles: no cycle 9") as info:
        run("cycling", path, settings={"dqdv_cycles": [9]})
    assert info.value.source == "raw/ce112.bdf.csv"


def test_li_in_reference_moves_the_dqdv_peaks_by_062_v(files):
    path = files[1]["ce112"]
    plain = run("cycling", path)["tables"]["dqdv_peaks"]
    shifted = run("cycling", path, settings={"reference": "Li-In"})["tables"]["dqdv_peaks"]
    assert len(plain) == len(shifted) > 0
    moved = [b["potential [V]"] - a["potential [V]"] for a, b in zip(plain, shifted, strict=True)]
    np.testing.assert_allclose(moved, 0.62, atol=1e-9)


@pytest.mark.parametrize("context", [{"active_mass_mg": 6.0},
                                     {"composite_mass_mg": 10.0, "active_fraction": 0.6},
                                     {"loading_mg_cm2": 7.5, "area_cm2": 0.8}])
def test_the_three_ways_of_giving_the_mass(files, context):
    assert cell_active_mass(context)[0] == pytest.approx(6.0)
    result = run("cycling", files[1]["ce112"], context=context)
    assert value(result, "peak_capacity") == pytest.approx(470.6, rel=1e-7)


def test_without_a_mass_there_are_no_specific_keys_negative_control(files):
    records, paths = files
    result = run("cycling", paths["ce112"], context={"composite_mass_mg": 10.0, "area_cm2": 0.8})
    assert result["success"]
    for key in ("first_discharge_capacity", "peak_capacity", "first_charge_capacity"):
        assert key not in result["summary"]
    assert "composite_mass_mg without active_fraction" in result["message"]
    assert "no specific capacities" in result["message"]
    assert result["summary"]["peak_capacity_mah"]["unit"] == "mAh"
    assert value(result, "peak_capacity_mah") == pytest.approx(
        truth(records["ce112"])["discharge_mah"][0], rel=1e-7)
    assert value(result, "first_cycle_ce") == pytest.approx(112.0, rel=1e-7)
    assert result["series"]["capacity"]["unit"] == "mAh"


def test_a_file_that_is_not_a_cycler_record_names_the_manifest_name(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("these are my notes\nnothing to cycle here\n")
    with pytest.raises(InputError) as info:
        run("cycling", path, name="raw/cycling/notes.csv")
    assert info.value.source == "raw/cycling/notes.csv"
    assert str(tmp_path) not in str(info.value)


def test_bad_settings_name_the_setting(files):
    with pytest.raises(InputError, match=r"\[settings.cycling\] bin_width_mv"):
        run("cycling", files[1]["ce112"], settings={"bin_width_mv": 0})
    with pytest.raises(InputError, match=r"\[settings.rate\] convention"):
        run("rate", files[1]["rate"], settings={"convention": "anode"})


def test_two_runs_give_identical_json(files, long_result):
    again = run("cycling", files[1]["long"], context={"active_mass_mg": 10.0})
    assert json.dumps(again, allow_nan=False) == json.dumps(long_result, allow_nan=False)


def test_results_hold_no_path_of_the_stored_copies(files, long_result):
    _, paths = files
    rate = run("rate", paths["rate"], context={"active_mass_mg": 4.2})
    pressure = KIND["pressure"].run(pressure_task(paths["pressure_log"], paths["pressure_cell"]))
    for result in (long_result, rate, pressure):
        text = json.dumps(result, allow_nan=False)
        assert str(paths["rate"].parent) not in text and "raw/" in text


def test_summary_units_are_ones_ssbkit_converts(long_result):
    for key, entry in long_result["summary"].items():
        assert set(entry) == {"value", "stderr", "unit"}, key
        assert convert(1.0, entry["unit"], entry["unit"]) == 1.0


# -- rate ---------------------------------------------------------------------------------------

def test_rate_capacities_and_recovery(files):
    records, paths = files
    q = np.array(truth(records["rate"])["discharge_mah_g"])
    result = run("rate", paths["rate"], context={"active_mass_mg": 4.2,
                                                 "theoretical_capacity_mAh_g": 483.0})
    assert result["success"]
    keys = [k for k in result["summary"] if k.startswith("capacity_")]
    assert keys == ["capacity_0.1C", "capacity_0.5C", "capacity_1C"]  # first block of each rate
    for key, block in zip(keys, (q[0:3], q[3:6], q[6:9]), strict=True):
        assert value(result, key) == pytest.approx(block.mean(), rel=1e-7)
        assert result["summary"][key]["unit"] == "mAh/g"
    # 1 % of the capacity lost per cycle: cycles 10–12 hold 0.90 of cycles 1–3's 0.99 on average
    assert value(result, "recovery") == pytest.approx(100 * 0.90 / 0.99, rel=1e-7)
    assert [row["rate"] for row in result["tables"]["rate"]] == ["0.1C", "0.5C", "1C", "0.1C"]
    assert result["tables"]["rate"][3]["recovery of block"] == 1


def test_rate_without_a_theoretical_capacity_has_no_rate_keys_negative_control(files):
    result = run("rate", files[1]["rate"], context={"active_mass_mg": 4.2})
    assert not [k for k in result["summary"] if k.startswith("capacity_")]
    assert "theoretical_capacity_mAh_g" in result["message"]
    assert value(result, "recovery") == pytest.approx(100 * 0.90 / 0.99, rel=1e-7)


# -- pressure -----------------------------------------------------------------------------------

def pressure_task(log, cycling, *, settings=None, context=None):
    return AnalysisTask(id="pressure:p1", kind="pressure", target="C1",
                        inputs=(source(log, "raw/stack.csv", "p1"),),
                        settings={**KIND["pressure"].defaults, **(settings or {})},
                        context=context or {}, extra={"cycling": source(cycling, "raw/cell.csv")})


def g_stderr(result):
    return result["summary"]["growth_per_cycle"]["stderr"]


def test_pressure_growth_per_cycle_recovered(files):
    _, paths = files
    result = KIND["pressure"].run(pressure_task(paths["pressure_log"], paths["pressure_cell"],
                                                settings={"offset_s": 45.0}))
    assert tuple(result) == RESULT_KEYS and result["success"]
    assert value(result, "growth_per_cycle") == pytest.approx(3.0, abs=2e-3)
    assert result["summary"]["growth_per_cycle"]["unit"] == "%"
    assert value(result, "initial_pressure") == pytest.approx(8.0, abs=2e-3)
    assert len(result["tables"]["cycles"]) == 6
    # the clock offset is applied: left out, the boundaries fall 45 s off and the fit scatters
    unshifted = KIND["pressure"].run(pressure_task(paths["pressure_log"], paths["pressure_cell"]))
    assert unshifted["summary"]["growth_per_cycle"]["stderr"] > 30 * g_stderr(result)
    trace = result["series"]["pressure"]["pressure"]
    assert len(trace) <= 400 < 26 * 60  # a day of minutes, cut to its envelope
    assert max(trace) == pytest.approx(float(np.loadtxt(paths["pressure_log"], delimiter=",",
                                                        skiprows=1, usecols=1).max()), rel=1e-6)


def test_a_log_that_misses_the_record_names_the_log(files):
    _, paths = files
    with pytest.raises(InputError, match="does not overlap") as info:
        KIND["pressure"].run(pressure_task(paths["pressure_log"], paths["pressure_cell"],
                                           settings={"offset_s": -3 * 86400.0}))
    assert info.value.source == "raw/stack.csv"


def test_a_pressure_log_without_its_cycling_record(files):
    _, paths = files
    bare = AnalysisTask(id="pressure:p1", kind="pressure", target="C1",
                        inputs=(source(paths["pressure_log"], "raw/stack.csv"),))
    with pytest.raises(InputError, match="no cycling record") as info:
        KIND["pressure"].run(bare)
    assert info.value.source == "raw/stack.csv"


# -- the example files and a real one -----------------------------------------------------------

def test_example_cycling_and_rate_files():
    cell = run("cycling", EXAMPLES / "cycling" / "lts_cell.bdf.csv", context={"active_mass_mg": 4.2})
    # made with 470.6 mAh/g at the peak (cycle 20), 0.03 % fade per cycle, first charge +12 %
    assert value(cell, "peak_capacity") == pytest.approx(470.6, rel=1e-6)
    assert value(cell, "peak_cycle") == 20 and value(cell, "final_cycle") == 30
    assert value(cell, "retention_vs_peak") == pytest.approx(100 * (1 - 0.0003 * 10), rel=1e-6)
    assert value(cell, "first_cycle_ce") == pytest.approx(100 / 1.12, rel=1e-6)
    rate = run("rate", EXAMPLES / "cycling" / "lts_rate.bdf.csv",
               context={"active_mass_mg": 4.2, "theoretical_capacity_mAh_g": 483.0})
    assert [round(value(rate, f"capacity_{r}C")) for r in ("0.1", "0.5", "1")] == [483, 413, 264]
    assert value(rate, "recovery") == pytest.approx(100.0, rel=1e-6)


@pytest.mark.parametrize(("log", "cell", "settings", "growth"), [
    ("stack_pressure_normal.csv", "cell_normal.bdf.csv", {}, 2.1),
    ("stack_pressure_high.csv", "cell_high.bdf.csv", {}, 3.6),
    ("stack_force_normal.tsv", "cell_normal.bdf.csv", {"offset_s": 30.0}, 2.1),
])
def test_example_pressure_files(log, cell, settings, growth):
    folder = EXAMPLES / "pressure"
    result = KIND["pressure"].run(pressure_task(folder / log, folder / cell, settings=settings,
                                                context={"area_cm2": 0.785}))
    g = result["summary"]["growth_per_cycle"]
    assert result["success"] and abs(g["value"] - growth) < 3 * g["stderr"]
    assert value(result, "initial_pressure") == pytest.approx(10.0, abs=0.05)


@pytest.mark.shared_data
def test_real_arbin_solid_state_cell_matches_summarize_cycles():
    path = shared_data("cycling", "other", "datalab_arbin_example.bdf.csv")
    result = run("cycling", path, name="raw/arbin_example.bdf.csv")
    assert result["success"] and "no specific capacities" in result["message"]
    expected = summarize_cycles(read_cycling(path)).to_frame()
    rows = result["tables"]["cycles"]
    assert [r["cycle"] for r in rows] == expected["cycle"].tolist()
    for column in ("charge capacity [mAh]", "discharge capacity [mAh]", "coulombic efficiency [%]"):
        assert [r[column] for r in rows] == expected[column].tolist()
    assert value(result, "first_cycle_ce") == expected["coulombic efficiency [%]"].iloc[0]


# -- figures ------------------------------------------------------------------------------------

def test_figures_of_successful_results(files, long_result):
    records, paths = files
    rate = run("rate", paths["rate"], context={"active_mass_mg": 4.2,
                                               "theoretical_capacity_mAh_g": 483.0})
    pressure = KIND["pressure"].run(pressure_task(paths["pressure_log"], paths["pressure_cell"],
                                                  settings={"offset_s": 45.0}))
    drawn = {"cycling": KIND["cycling"].figures(long_result), "rate": KIND["rate"].figures(rate),
             "pressure": KIND["pressure"].figures(pressure)}
    names = {kind: [f.name for f in specs] for kind, specs in drawn.items()}
    assert names == {"cycling": ["capacity", "voltage_profiles", "dqdv"], "rate": ["rate"],
                     "pressure": ["pressure"]}
    for specs in drawn.values():
        for spec in specs:
            assert isinstance(spec, FigureSpec) and spec.figure.axes and len(spec.caption) > 80
    capacity, profiles, dq = drawn["cycling"]
    assert "96.22 %" in capacity.caption and "cycle 62" in capacity.caption
    assert [ax.get_ylabel() for ax in capacity.figure.axes] == ["specific capacity [mAh/g]",
                                                               "coulombic efficiency [%]"]
    assert "cycles 1, 21, 200" in profiles.caption
    assert "Growth 3 % ± " in drawn["pressure"][0].caption
    assert "per cycle of the initial 8 MPa" in drawn["pressure"][0].caption
    assert "0.5C" in drawn["rate"][0].caption


def test_figures_of_a_failed_result_do_not_raise(files, tmp_path):
    # one cycle: growth per cycle needs two complete cycles, so success is False
    records, _ = files
    one = simulate_cycling(n_cycles=1, capacity_mah=1.0, c_rates=0.5, points_per_step=20)
    cell = write_bdf(one, tmp_path / "one.bdf.csv")
    log = simulate_pressure(one, p0_mpa=5.0, growth_per_cycle=0.02, breathing_mpa=0.1,
                            noise_mpa=0.0, interval_s=60.0)
    stamps = [np.datetime_as_string(np.datetime64(int(round(t)), "s")) for t in log.unix_time]
    (tmp_path / "p.csv").write_text("timestamp,pressure [MPa]\n" + "\n".join(
        f"{s},{p:.6f}" for s, p in zip(stamps, log.pressure, strict=True)) + "\n")
    result = KIND["pressure"].run(pressure_task(tmp_path / "p.csv", cell))
    assert result["success"] is False and "needs two" in result["message"]
    assert result["summary"]["growth_per_cycle"]["value"] is None
    assert [f.name for f in KIND["pressure"].figures(result)] == ["pressure"]
    empty = {"success": False, "message": "failed", "summary": {}, "tables": {}, "series": {},
             "provenance": {}}
    for kind in KINDS:
        assert kind.figures({"kind": kind.name, **empty}) == []


def test_kinds_table():
    assert [(k.name, k.technique, k.target, k.grouped) for k in KINDS] == [
        ("cycling", "cycling", "cell", False), ("rate", "cycling", "cell", False),
        ("pressure", "pressure", "cell", False)]
    assert KIND["cycling"].defaults["convention"] == "charge-first"  # the LTS cells charge first
    assert KIND["pressure"].defaults["offset_s"] == 0.0
    assert {"nominal_capacity_mah", "tolerance", "by"} <= set(KIND["rate"].defaults)
