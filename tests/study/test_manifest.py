"""The study manifest: a full manifest read back field by field, every check with the line
and the field it names, the TOML line locator, and the template."""

import json
import pickle
import re
import tomllib
from pathlib import Path

import pytest

from ssbkit.core.errors import InputError
from ssbkit.study._toml_lines import TomlLines
from ssbkit.study.manifest import SCHEMA, Measurement, Pellet, load_manifest
from ssbkit.study.template import TEMPLATE, write_template

FULL = Path(__file__).with_name("manifest_full.toml")

# Stand-ins for the analysis kinds' defaults (the real ones live with the analyses).
DEFAULTS = {
    "conductivity": {"circuit": "R0-CPE1", "form": "sigmaT"},
    "electronic": {"tail_fraction": 0.1},
    "drt": {"lam": "mgcv", "regions": {"bulk": [1e-7, 1e-5]}},
    "cycling": {"convention": "charge-first"},
    "rate": {"convention": "charge-first", "tolerance": 0.1},
    "pressure": {"offset_s": 0.0},
    "xrd": {"phases": ["argyrodite"], "mode": "rietveld"},
    "exsy": {"model": "sphere"},
}


def write_study(folder: Path, text: str) -> Path:
    """Write ``text`` as folder/study.toml and an empty file for each measurement it names."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.toml").write_text(text, encoding="utf-8")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return folder
    for entry in document.get("measurements", []):
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            raw = folder / entry["file"]
            raw.parent.mkdir(parents=True, exist_ok=True)
            raw.write_text("data\n")
    return folder


def line_of(text: str, content: str, *, occurrence: int = 1) -> int:
    """1-based number of the line whose stripped text is ``content`` (its n-th occurrence)."""
    hits = [i for i, line in enumerate(text.split("\n"), start=1) if line.strip() == content]
    return hits[occurrence - 1]


@pytest.fixture
def full(tmp_path):
    text = FULL.read_text(encoding="utf-8")
    folder = write_study(tmp_path / "study", text)
    return load_manifest(folder, settings_defaults=DEFAULTS), text, folder


# -- a full manifest, read back ---------------------------------------------------------------
def test_full_manifest_round_trip(full):
    m, text, folder = full
    assert m.path == (folder / "study.toml").resolve() and m.root == folder.resolve()
    assert (m.study.name, m.study.simulated, m.study.database) == ("Ball-milled argyrodite", True, None)
    assert [len(t) for t in (m.materials, m.samples, m.pellets, m.cells, m.measurements, m.headline)] == [
        2, 2, 1, 1, 8, 2]
    lpscb, lts = m.materials
    assert lpscb.precursors == ("Li2S", "P2S5", "LiCl", "LiBr") and lts.role == "cathode"
    sample = m.samples[0]
    assert sample.milling == {"jar_ml": 50, "jar_material": "ZrO2", "ball_material": "ZrO2",
                              "ball_diameter_mm": 5, "frb_percent": 10, "bmr": 80, "speed_rpm": 500,
                              "time_h": 10}
    assert sample.sintering == {"temperature_C": 550, "time_h": 5, "ramp_C_per_min": 5}
    assert sample.description.startswith("A multi-line description")
    pellet = m.pellets[0]
    assert (pellet.diameter_mm, pellet.thickness_mm, pellet.mass_mg, pellet.pressing_pressure_MPa) == (
        10, 0.85, 150, 375)
    assert pellet.area_cm2 == pytest.approx(0.785398, rel=1e-6)  # π (0.5 cm)²
    assert pellet.settings == {"circuit": "R0-CPE1"}
    cell = m.cells[0]
    assert (cell.electrolyte, cell.cathode_active, cell.composite_ratio, cell.active_fraction,
            cell.theoretical_capacity_mAh_g) == ("S-F10-B80", "LTS", "60:30:10", 0.6, 339)
    # each entity's line is its header's, counted here from the text itself
    assert [s.line for s in m.samples] == [line_of(text, "[[samples]]", occurrence=k) for k in (1, 2)]
    # the first "[[pellets]]" line is inside a sample's multi-line description
    assert pellet.line == line_of(text, "[[pellets]]", occurrence=2)
    assert m.measurements[7].line == line_of(text, "[[measurements]]", occurrence=8)
    assert m.headline[1].line == line_of(text, "[[headline]]", occurrence=2)


def test_measurements_resolve_files_owners_and_conditions(full):
    m, _, folder = full
    eis = m.by_id("eis-P-F10-B80-25C")
    assert isinstance(eis, Measurement)
    assert eis.file == (folder / "raw/eis/P-F10-B80_25C.csv").resolve() and eis.file.is_absolute()
    assert (eis.technique, eis.owner_kind, eis.owner, eis.temperature_C) == ("eis", "pellet", "P-F10-B80", 25)
    # every other field, the TOML date as ISO text and the free-form table merged in
    assert dict(eis.conditions) == {"temperature_C": 25, "date": "2026-03-01", "instrument": "Squidstat Plus",
                                    "atmosphere": "Ar", "humidity_ppm": 0.1}
    assert eis.fields["technique"] == "EIS" and eis.fields["date"] == "2026-03-01"
    insitu = m.by_id("eis-C-conventional")
    assert insitu.conditions["soc_percent"] == (0, 10, 20) and insitu.temperature_C is None
    assert [x.analysis_id for x in m.measurements] == [
        "conductivity:P-F10-B80", "conductivity:P-F10-B80", "electronic:P-F10-B80", "xrd:xrd-S-F10-B80",
        "cycling:cyc-C-conventional", "rate:rate-C-conventional", "pressure:pressure-C-conventional",
        "drt:eis-C-conventional"]
    assert m.cycling_record("pressure-C-conventional").id == "cyc-C-conventional"
    assert [x.id for x in m.measurements_of("P-F10-B80")] == [
        "eis-P-F10-B80-25C", "eis-P-F10-B80-60C", "dcpol-P-F10-B80"]


def test_settings_are_the_defaults_with_the_manifest_over_them_for_every_kind(full):
    m, _, _ = full
    assert set(m.settings) == set(DEFAULTS)
    assert m.settings["conductivity"] == {"circuit": "R0-CPE1-CPE2", "form": "sigmaT"}
    assert m.settings["xrd"] == {"phases": ("argyrodite", "LiCl"), "mode": "rietveld"}
    assert m.settings["drt"] == DEFAULTS["drt"]


def test_headline_unit_is_normalised_and_its_id_is_the_quantity(full):
    m, _, _ = full
    first, second = m.headline
    assert (first.id, first.paper, first.unit, first.analysis, first.field, first.source) == (
        "σ(25 °C), FRB 10 %, BMR 80:1", 13.3, "mS/cm", "conductivity:P-F10-B80", "sigma_25C",
        "EES Batteries 2026")
    assert second.unit == "%" and second.fields["unit"] == "percent"


def test_context_nests_what_an_entity_refers_to(full):
    m, _, _ = full
    pellet = m.context("P-F10-B80")
    assert pellet["thickness_mm"] == 0.85 and pellet["settings"] == {"circuit": "R0-CPE1"}
    assert pellet["sample"]["milling"]["bmr"] == 80
    assert pellet["material"]["composition"] == "Li5.5PS4.5Cl0.8Br0.7"
    cell = m.context("C-conventional")
    assert cell["electrolyte"]["id"] == "S-F10-B80" and cell["material"]["id"] == "LPSCB"
    assert cell["cathode_material"]["composition"] == "Li2TiS3"
    assert m.context("S-LTS")["material"]["role"] == "Cathode"
    assert m.context("xrd-S-F10-B80")["owner"]["material"]["id"] == "LPSCB"
    # a plain, JSON-safe copy: changing it changes nothing in the manifest
    assert type(pellet["sample"]["milling"]) is dict
    pellet["sample"]["milling"]["bmr"] = 1
    assert m.context("P-F10-B80")["sample"]["milling"]["bmr"] == 80
    assert json.loads(json.dumps(m.context("eis-P-F10-B80-25C")))["conditions"]["atmosphere"] == "Ar"


def test_records_are_read_only_json_safe_and_pickle(full):
    m, _, _ = full
    pellet = m.by_id("P-F10-B80")
    assert isinstance(pellet, Pellet)
    with pytest.raises(TypeError, match="read-only"):
        pellet.fields["thickness_mm"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError, match="read-only"):
        m.settings["conductivity"].update(circuit="R0")  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        pellet.thickness_mm = 1.0  # type: ignore[misc]
    assert json.loads(json.dumps(m.samples[0].fields))["milling"]["bmr"] == 80
    again = pickle.loads(pickle.dumps(m))
    assert again == m and again.by_id("C-conventional") == m.by_id("C-conventional")


def test_by_id_refuses_an_unknown_id_with_a_suggestion(full):
    m, _, _ = full
    with pytest.raises(InputError, match=r"no material.*'P-F10-B8'.*did you mean 'P-F10-B80'"):
        m.by_id("P-F10-B8")


def test_the_manifest_file_may_be_given_instead_of_its_folder(full, tmp_path):
    _, _, folder = full
    by_file = load_manifest(folder / "study.toml", settings_defaults=DEFAULTS)
    assert by_file.study.name == "Ball-milled argyrodite"
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty/study.toml: no study manifest.*ssbkit study init"):
        load_manifest(tmp_path / "empty", settings_defaults=DEFAULTS)


def test_without_defaults_the_analysis_kinds_give_them(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import ssbkit.study.kinds as kinds

    fake = {"conductivity": SimpleNamespace(defaults={"circuit": "R0-CPE1"})}
    monkeypatch.setattr(kinds, "analysis_kinds", lambda: fake)
    folder = write_study(tmp_path, '[study]\nname = "x"\n[settings.conductivity]\ncircuit = "R0-CPE2"\n')
    assert load_manifest(folder).settings == {"conductivity": {"circuit": "R0-CPE2"}}
    with pytest.raises(InputError, match="settings_defaults: must map each analysis kind"):
        load_manifest(folder, settings_defaults={"conductivity": 3})


# -- every check names the line and the field ---------------------------------------------------
BASE = """\
[study]
name = "checks"
[[materials]]
id = "LPSCB"
composition = "Li5.5PS4.5Cl0.8Br0.7"
[[samples]]
id = "S1"
material = "LPSCB"
[[pellets]]
id = "P1"
sample = "S1"
diameter_mm = 10
thickness_mm = 0.85
[[cells]]
id = "C1"
electrolyte = "S1"
[[measurements]]
id = "eis-P1"
file = "raw/eis-P1.csv"
technique = "eis"
pellet = "P1"
[[measurements]]
id = "cyc-C1"
file = "raw/cyc-C1.txt"
technique = "cycling"
cell = "C1"
"""

# (name, text to append to BASE or (old, new) to replace in it, the line the error must name
# (the marked line: "# <-"; else the last line appended), text the message must contain)
CASES = [
    # the three examples
    ("missing file", ('file = "raw/eis-P1.csv"', 'file = "raw/missing.csv"  # <-'), None,
     r"measurements\[0\] 'eis-P1': file 'raw/missing.csv' does not exist"),
    ("unknown technique", ('technique = "eis"', 'technique = "impedance"  # <-'), None,
     r"measurements\[0\] 'eis-P1': technique: must be one of eis, dcpol, xrd, cycling, pressure, exsy; "
     r"got 'impedance'"),
    ("pellet without thickness", ("[[pellets]]\nid = \"P1\"\nsample = \"S1\"\ndiameter_mm = 10\n"
                                  "thickness_mm = 0.85\n",
                                  "[[pellets]]  # <-\nid = \"P1\"\nsample = \"S1\"\ndiameter_mm = 10\n"),
     None, r"pellets\[0\] 'P1': missing required field 'thickness_mm' \(pellet thickness \[mm\], > 0\)"),
    # TOML, tables, required fields, types and signs
    ("TOML syntax", "[[pellets]]\nid = \"P2\"\nsample = = \"S1\"  # <-\n", None, r"not valid TOML: .*line"),
    ("unknown table", "[[measurments]]  # <-\nid = \"x\"\n", None,
     r"unknown table 'measurments' \(did you mean 'measurements'\?\)"),
    ("no study", ('[study]\nname = "checks"\n', ""), 1, r"no \[study\] table"),
    ("study without name", ('name = "checks"', 'description = "x"'), 1,
     r"study: missing required field 'name'"),
    ("simulated not a bool", ('name = "checks"', 'name = "checks"\nsimulated = "yes"  # <-'), None,
     r"study: simulated: must be true or false"),
    ("materials as one table", ("[[materials]]", "[materials]  # <-"), None,
     r"materials must be an array of tables, each written \[\[materials\]\]"),
    ("missing id", ('id = "P1"', 'name = "P1"  # <-'), None, r"pellets\[0\]: unknown key 'name'"),
    ("no id at all", "[[pellets]]  # <-\nsample = \"S1\"\n", None,
     r"pellets\[1\]: missing required field 'id'"),
    ("id with spaces", ('id = "P1"', 'id = " P1"  # <-'), None, r"id: must not start or end with spaces"),
    ("typo with a suggestion", ("thickness_mm = 0.85", "thicknes_mm = 0.85  # <-"), None,
     r"pellets\[0\] 'P1': unknown key 'thicknes_mm' \(did you mean 'thickness_mm'\?\)"),
    ("bool is not a number", ("diameter_mm = 10", "diameter_mm = true  # <-"), None,
     r"pellets\[0\] 'P1': diameter_mm: must be a number, got a boolean True"),
    ("quoted number", ("diameter_mm = 10", 'diameter_mm = "10"  # <-'), None,
     r"diameter_mm: must be a number, got a string '10'"),
    ("negative thickness", ("thickness_mm = 0.85", "thickness_mm = -0.85  # <-"), None,
     r"pellets\[0\] 'P1': thickness_mm: must be > 0, got -0.85"),
    ("zero mass", ("thickness_mm = 0.85", "thickness_mm = 0.85\nmass_mg = 0  # <-"), None,
     r"mass_mg: must be > 0, got 0"),
    ("nan", ("thickness_mm = 0.85", "thickness_mm = nan  # <-"), None,
     r"thickness_mm: must be a finite number"),
    ("active fraction above 1", ('electrolyte = "S1"', 'electrolyte = "S1"\nactive_fraction = 1.5  # <-'),
     None, r"cells\[0\] 'C1': active_fraction: must be in \(0, 1\], got 1.5"),
    ("milling typo", ('material = "LPSCB"', 'material = "LPSCB"\n[samples.milling]\nbmr_ratio = 80  # <-'),
     None, r"samples\[0\] 'S1': unknown key 'milling.bmr_ratio' \(did you mean 'milling.bmr'\?\)"),
    ("filling rate of 0 %", ('material = "LPSCB"',
                             'material = "LPSCB"\n[samples.milling]\nfrb_percent = 0  # <-'), None,
     r"milling.frb_percent: must be in \(0, 100\]"),
    ("sintering below absolute zero", ('material = "LPSCB"',
                                       'material = "LPSCB"\nsintering = { temperature_C = -300 }  # <-'),
     None, r"sintering.temperature_C: must be ≥ -273.15 °C \(absolute zero\), got -300"),
    ("milling not a table", ('material = "LPSCB"', 'material = "LPSCB"\nmilling = 10  # <-'), None,
     r"milling: must be a table"),
    ("role not known", ('composition = "Li5.5PS4.5Cl0.8Br0.7"',
                        'composition = "Li5.5PS4.5Cl0.8Br0.7"\nrole = "binder"  # <-'), None,
     r"materials\[0\] 'LPSCB': role: must be one of electrolyte, cathode, anode, additive, mixture"),
    ("formula", ('composition = "Li5.5PS4.5Cl0.8Br0.7"', 'composition = "Li5.5PXq4"  # <-'), None,
     r"materials\[0\] 'LPSCB': composition: not a formula"),
    ("precursor formula", ('composition = "Li5.5PS4.5Cl0.8Br0.7"',
                           'composition = "Li5.5PS4.5Cl0.8Br0.7"\nprecursors = ["Li2S", "P2Q5"]  # <-'),
     None, r"materials\[0\] 'LPSCB': precursors\[1\]: not a formula"),
    ("cathode neither formula nor material", ('electrolyte = "S1"',
                                              'electrolyte = "S1"\ncathode_active = "LTSX"  # <-'), None,
     r"cells\[0\] 'C1': cathode_active: not a formula.*nor is it a \[\[materials\]\] id"),
    ("composite ratio", ('electrolyte = "S1"', 'electrolyte = "S1"\ncomposite_ratio = "60-30-10"  # <-'),
     None,
     r"composite_ratio: must be masses like '60:30:10'"),
    ("active mass above composite", ('electrolyte = "S1"',
                                     'electrolyte = "S1"\ncomposite_mass_mg = 5\nactive_mass_mg = 6  # <-'),
     None, r"active_mass_mg \(6\) exceeds composite_mass_mg \(5\)"),
    ("temperature below absolute zero", ('pellet = "P1"', 'pellet = "P1"\ntemperature_C = -300  # <-'), None,
     r"measurements\[0\] 'eis-P1': temperature_C: must be ≥ -273.15 °C"),
    ("soc not numbers", ('pellet = "P1"', 'pellet = "P1"\nsoc_percent = ["full"]  # <-'), None,
     r"soc_percent\[0\]: must be a number, got a string 'full'"),
    ("conditions nan", ('pellet = "P1"', 'pellet = "P1"\nconditions = { humidity = nan }  # <-'), None,
     r"conditions.humidity: must be a finite number"),
    ("conditions repeat a field", ('pellet = "P1"',
                                   'pellet = "P1"\nconditions = { temperature_C = 30 }  # <-'), None,
     r"conditions: 'temperature_C' is a field of its own"),
    # ids and references
    ("duplicate id across tables", ('id = "C1"', 'id = "P1"  # <-'), None,
     r"cells\[0\] 'P1': duplicate id: pellets\[0\] 'P1' at line 9 has it already"),
    ("sample -> material", ('material = "LPSCB"', 'material = "LPSBC"  # <-'), None,
     r"samples\[0\] 'S1': material 'LPSBC' is not a \[\[materials\]\] id \(did you mean 'LPSCB'\?\)"),
    ("pellet -> sample", ('sample = "S1"', 'sample = "S2"  # <-'), None,
     r"pellets\[0\] 'P1': sample 'S2' is not a \[\[samples\]\] id"),
    ("cell electrolyte -> sample", ('electrolyte = "S1"', 'electrolyte = "P1"  # <-'), None,
     r"cells\[0\] 'C1': electrolyte 'P1' is not a \[\[samples\]\] id"),
    ("measurement -> owner", ('pellet = "P1"', 'pellet = "P9"  # <-'), None,
     r"measurements\[0\] 'eis-P1': pellet 'P9' is not a \[\[pellets\]\] id"),
    ("no owner", ('pellet = "P1"\n', ""), line_of(BASE, "[[measurements]]"),
     r"measurements\[0\] 'eis-P1': no owner: give exactly one of sample, pellet or cell"),
    ("two owners", ('pellet = "P1"', 'pellet = "P1"\ncell = "C1"  # <-'), None,
     r"pellet and cell given: a measurement belongs to exactly one"),
    ("xrd on a pellet", ('technique = "eis"', 'technique = "xrd"'), line_of(BASE, 'pellet = "P1"'),
     r"pellet: a xrd measurement belongs to a sample, not a pellet"),
    ("dcpol on a cell", ('technique = "cycling"', 'technique = "dcpol"'), line_of(BASE, 'cell = "C1"'),
     r"cell: a dcpol measurement belongs to a pellet, not a cell"),
    ("file is a folder", ('file = "raw/eis-P1.csv"', 'file = "raw"  # <-'), None, r"file 'raw' is a folder"),
    ("cycling names an unknown measurement",
     "[[measurements]]\nid = \"p-C1\"\nfile = \"raw/p.csv\"\ntechnique = \"pressure\"\ncell = \"C1\"\n"
     "cycling = \"cyc-C2\"  # <-\n", None, r"cycling 'cyc-C2' is not a \[\[measurements\]\] id"),
    ("cycling names an eis measurement",
     "[[measurements]]\nid = \"p-C1\"\nfile = \"raw/p.csv\"\ntechnique = \"pressure\"\ncell = \"C1\"\n"
     "cycling = \"eis-P1\"  # <-\n", None,
     r"cycling 'eis-P1' is a eis measurement of pellet 'P1', not a cycling record of cell 'C1'"),
    ("cycling on a non-pressure measurement", ('cell = "C1"', 'cell = "C1"\ncycling = "cyc-C1"  # <-'), None,
     r"cycling: only a pressure measurement names a cycling record"),
    ("pressure with two cycling records",
     "[[measurements]]\nid = \"cyc2-C1\"\nfile = \"raw/c2.txt\"\ntechnique = \"cycling\"\ncell = \"C1\"\n"
     "[[measurements]]  # <-\nid = \"p-C1\"\nfile = \"raw/p.csv\"\ntechnique = \"pressure\"\ncell = \"C1\"\n",
     None, r"name its cycling record with cycling = .*cell 'C1' has 2 cycling measurements that are not "
           r"rate tests \('cyc-C1', 'cyc2-C1'\)"),
    # settings
    ("unknown settings kind", "[settings.conductivty]  # <-\ncircuit = \"R0\"\n", None,
     r"unknown analysis kind 'conductivty' in \[settings.conductivty\] \(did you mean 'conductivity'\?\)"),
    ("unknown settings key", "[settings.conductivity]\ncircut = \"R0\"  # <-\n", None,
     r"settings.conductivity: unknown key 'circut' \(did you mean 'circuit'\?\)"),
    ("pellet setting of another kind", ("thickness_mm = 0.85",
                                        "thickness_mm = 0.85\nsettings = { lam = 1 }  # <-"), None,
     r"pellets\[0\] 'P1': settings: unknown key 'lam' \(a pellet takes the settings of conductivity, "
           r"electronic\)"),
    # headline
    ("headline analysis malformed", "[[headline]]\nquantity = \"σ\"\npaper = 13.3\nunit = \"mS/cm\"\n"
     "analysis = \"conductivity-P1\"  # <-\nfield = \"sigma_25C\"\n", None,
     r"headline\[0\]: analysis must be '<kind>:<id>'"),
    ("headline unknown kind", "[[headline]]\nquantity = \"σ\"\npaper = 13.3\nunit = \"mS/cm\"\n"
     "analysis = \"conductiviti:P1\"  # <-\nfield = \"sigma_25C\"\n", None,
     r"unknown kind 'conductiviti' \(did you mean 'conductivity'\?\)"),
    ("headline id that does not exist", "[[headline]]\nquantity = \"σ\"\npaper = 13.3\nunit = \"mS/cm\"\n"
     "analysis = \"conductivity:P2\"  # <-\nfield = \"sigma_25C\"\n", None,
     r"no analysis 'conductivity:P2': 'P2' is not a \[\[pellets\]\] id; known: P1$"),
    ("headline kind the measurement does not feed",
     "[[headline]]\nquantity = \"c\"\npaper = 1\nunit = \"%\"\n"
     "analysis = \"rate:cyc-C1\"  # <-\nfield = \"capacity_1C\"\n", None,
     r"no analysis 'rate:cyc-C1': measurement 'cyc-C1' feeds 'cycling:cyc-C1', not 'rate'"),
    ("headline pellet without its technique", "[[headline]]\nquantity = \"e\"\npaper = 1\nunit = \"S/cm\"\n"
     "analysis = \"electronic:P1\"  # <-\nfield = \"sigma_electronic\"\n", None,
     r"no analysis 'electronic:P1': pellet 'P1' has no dcpol measurement"),
    ("headline unit", "[[headline]]\nquantity = \"σ\"\npaper = 13.3\nunit = \"ms/cm\"  # <-\n"
     "analysis = \"conductivity:P1\"\nfield = \"sigma_25C\"\n", None,
     r"headline\[0\]: unit: unknown unit 'ms/cm' \(did you mean 'mS/cm'\?\)"),
    ("headline without field", "[[headline]]  # <-\nquantity = \"σ\"\npaper = 13.3\nunit = \"mS/cm\"\n"
     "analysis = \"conductivity:P1\"\n", None, r"headline\[0\]: missing required field 'field'"),
]


@pytest.mark.parametrize(("change", "line", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_manifest_names_the_line_and_the_field(tmp_path, change, line, message):
    if isinstance(change, tuple):
        old, new = change
        assert old in BASE
        text = BASE.replace(old, new, 1)
    else:
        text = BASE + change
    if line is None:
        line = next(i for i, row in enumerate(text.split("\n"), start=1) if row.endswith("# <-"))
    (tmp_path / "raw").mkdir()
    for name in ("eis-P1.csv", "cyc-C1.txt", "p.csv", "c2.txt"):
        (tmp_path / "raw" / name).write_text("data\n")
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_manifest(tmp_path, settings_defaults=DEFAULTS)
    text_of_error = str(info.value)
    assert text_of_error.startswith(f"{tmp_path / 'study.toml'}:{line}: "), text_of_error
    assert re.search(message, text_of_error), text_of_error


def test_the_base_of_the_bad_cases_is_itself_valid(tmp_path):
    # the negative control of the table above: without the change, nothing is refused
    folder = write_study(tmp_path, BASE)
    m = load_manifest(folder, settings_defaults=DEFAULTS)
    assert [x.id for x in m.measurements] == ["eis-P1", "cyc-C1"]


def test_a_manifest_that_is_not_utf8_is_named(tmp_path):
    (tmp_path / "study.toml").write_bytes(b'[study]\nname = "\xff"\n')
    with pytest.raises(InputError, match=r"study.toml:2: not UTF-8 text \(byte 17\)"):
        load_manifest(tmp_path, settings_defaults=DEFAULTS)


# -- the line locator ---------------------------------------------------------------------------
def test_locator_follows_headers_dotted_and_quoted_keys():
    text = "\n".join([
        'title = "x"',                                  # 1
        'study.name = "dotted"',                         # 2
        '[[ measurements ]]  # spaced header',           # 3
        'id = "a"',                                      # 4
        '"quoted key" = 1',                              # 5
        "[[measurements]]",                              # 6
        "'literal.key' = 2",                             # 7
        'conditions = { atmosphere = "Ar" }',            # 8
        "[measurements.extra]",                          # 9
        "  deep.er = 3",                                 # 10
        "[[measurements.steps]]",                        # 11
        "n = 1",                                         # 12
        "[[measurements.steps]]",                        # 13
        "n = 2",                                         # 14
    ])
    tomllib.loads(text)
    lines = TomlLines(text)
    assert lines.line("title") == 1 and lines.line("study") == 2 and lines.line("study", "name") == 2
    assert lines.line("measurements") == 3 and lines.line("measurements", 0) == 3
    assert lines.line("measurements", 0, "quoted key") == 5
    assert lines.line("measurements", 1, "literal.key") == 7
    assert lines.line("measurements", 1, "conditions", "atmosphere") == 8  # inside an inline table
    assert lines.line("measurements", 1, "extra") == 9
    assert lines.line("measurements", 1, "extra", "deep", "er") == 10
    assert lines.line("measurements", 1, "steps", 1, "n") == 14
    assert lines.line("measurements", 1, "missing") == 6 and lines.line("nothing") == 1
    assert ("measurements", 0, "id") in lines and ("measurements", 2) not in lines


def test_locator_is_not_fooled_by_strings_comments_and_multiline_values():
    text = "\n".join([
        "[study]",                                         # 1
        'a = """',                                         # 2
        "[[pellets]]",                                     # 3 inside a multi-line string
        'id = "fake" \\"""',                               # 4 an escaped quote, still inside
        '"""',                                             # 5
        "b = '''",                                         # 6
        "x = [1] '' # ''' ",                               # 7 the literal string ends here
        "c = [",                                           # 8
        '  "]", # ] [[pellets]]',                          # 9
        "  [2, 3],",                                       # 10
        "]",                                               # 11
        'd = "#[ = \\" ]"  # e = 1',                        # 12
        "# [[pellets]] commented out",                     # 13
        "e\u2028= 1".replace("\u2028", " "),               # 14
        'f = "line\u2028separator"',                       # 15 U+2028 is not a line end in TOML
        "[[pellets]]",                                     # 16
        "id = 'P1'\r",                                     # 17 CRLF
        "",
    ])
    tomllib.loads(text)
    lines = TomlLines(text)
    assert [lines.line("study", k) for k in "abcdef"] == [2, 6, 8, 12, 14, 15]
    assert lines.line("pellets", 0) == 16 and lines.line("pellets", 0, "id") == 17
    assert ("pellets", 1) not in lines and ("study", "x") not in lines and ("study", "id") not in lines


def test_locator_never_raises_on_text_tomllib_refused():
    lines = TomlLines('[[pellets\nid = "unterminated\n')
    assert lines.line("pellets", 0, "id") >= 1


# -- the template ---------------------------------------------------------------------------------
def test_the_template_loads_as_an_empty_study(tmp_path):
    path = write_template(tmp_path / "new")
    assert path == tmp_path / "new" / "study.toml" and (tmp_path / "new" / "raw").is_dir()
    assert path.read_text(encoding="utf-8") == TEMPLATE
    m = load_manifest(tmp_path / "new", settings_defaults=DEFAULTS)
    assert m.study.name == "My study" and not m.study.simulated
    assert (m.materials, m.samples, m.pellets, m.cells, m.measurements, m.headline) == ((),) * 6
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["raw", "study.toml"]  # no temporary left


def test_the_template_explains_every_table_and_key():
    for table, keys in SCHEMA.items():
        assert re.search(rf"^#? ?\[\[?{table}\]?\]", TEMPLATE, re.M), table
        for key, rule in keys.items():
            if rule.keys is None:
                assert re.search(rf"^#? ?{key} = ", TEMPLATE, re.M), f"{table}.{key}"
                continue
            at = TEMPLATE.index(f"# [{table}.{key}]")  # a sub-table: its keys follow its header
            for sub in rule.keys:
                assert re.search(rf"^# {sub} = ", TEMPLATE[at:], re.M), f"{table}.{key}.{sub}"


def test_the_template_examples_uncommented_are_a_valid_study(tmp_path):
    example = re.sub(r"^# (?=\[|[A-Za-z_]+ = )", "", TEMPLATE, flags=re.M)
    assert example.count("[[measurements]]") == 4 and "# [[" not in example
    m = load_manifest(write_study(tmp_path, example), settings_defaults=DEFAULTS)
    assert [len(t) for t in (m.materials, m.samples, m.pellets, m.cells, m.measurements, m.headline)] == [
        1, 1, 1, 1, 4, 1]
    assert m.pellets[0].thickness_mm == 0.85 and m.samples[0].milling["frb_percent"] == 10
    assert m.cycling_record("pressure-C-conventional").id == "cyc-C-conventional"


def test_write_template_never_overwrites(tmp_path):
    (tmp_path / "study.toml").write_text("# mine\n")
    with pytest.raises(InputError, match=r"study.toml: a study manifest is already here"):
        write_template(tmp_path)
    assert (tmp_path / "study.toml").read_text() == "# mine\n"
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(InputError, match=r"a-file: is a file, not a folder"):
        write_template(tmp_path / "a-file")
