"""The commented ``study.toml`` that ``ssbkit study init DIR`` writes.

The template is the manifest's documentation where a scientist looks first: every table
and key with its unit, what is required, and an example of each entry. All entries are
commented out, so the template as written loads as a valid, empty study; uncomment and
edit. The schema it explains is :data:`ssbkit.study.manifest.SCHEMA` (a test checks that
every key there is in the template).

>>> import pathlib, tempfile
>>> path = write_template(pathlib.Path(tempfile.mkdtemp()) / "my-study")
>>> path.name, (path.parent / "raw").is_dir()
('study.toml', True)
>>> from ssbkit.study.manifest import load_manifest
>>> load_manifest(path.parent, settings_defaults={}).study.name
'My study'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ssbkit.core.errors import InputError

__all__ = ["TEMPLATE", "write_template"]

TEMPLATE = '''\
# study.toml: what each raw file of this study is, and where it comes from.
#
# `ssbkit study run DIR` reads this file, stores every raw file in the lab database
# (DIR/.ssbkit/lab.sqlite unless [study] database says otherwise) and analyses it;
# `ssbkit study report DIR --out OUT` writes the report. Errors name the line here.
#
# Units are in the key names (thickness_mm, stack_pressure_MPa, temperature_C).
# Every id (materials, samples, pellets, cells, measurements) is unique in the whole
# file. Paths of raw files are relative to this folder (put them under raw/).
# Uncomment the examples below and edit them; unknown keys are refused (typo guard).

[study]
name = "My study"                        # required
# description = "What the study is about"
# simulated = false                      # true when the raw files come from a simulator
# database = "postgresql://user@host/lab"  # any SQLAlchemy URL; default: SQLite in .ssbkit/

# -- Analysis settings ---------------------------------------------------------------
# One table per analysis kind, over that kind's defaults: conductivity, electronic,
# drt, cycling, rate, pressure, xrd, exsy. A key must be one of the kind's settings.
# [settings.conductivity]
# circuit = "R0-CPE1"                    # equivalent circuit fitted to each spectrum
# [settings.xrd]
# phases = ["argyrodite", "LiCl", "Li2S"]  # phases refined, the first one is reported

# -- Materials: compositions ----------------------------------------------------------
# [[materials]]
# id = "LPSCB"                           # required
# composition = "Li5.5PS4.5Cl0.8Br0.7"   # required, a chemical formula
# precursors = ["Li2S", "P2S5", "LiCl", "LiBr"]   # formulas
# role = "electrolyte"                   # electrolyte | cathode | anode | additive | mixture

# -- Samples: a powder of a material, and how it was made ----------------------------
# [[samples]]
# id = "S-F10-B80"                       # required
# material = "LPSCB"                     # required, a [[materials]] id
# description = "ball-milled, 10 % FRB, 80:1 BMR"
# [samples.milling]                      # all optional
# jar_ml = 50                            # jar volume [mL]
# jar_material = "ZrO2"
# ball_material = "ZrO2"
# ball_diameter_mm = 5                   # [mm]
# frb_percent = 10                       # filling rate of balls [% of the jar volume]
# bmr = 80                               # ball-to-material mass ratio (80 means 80:1)
# speed_rpm = 500                        # [rpm]
# time_h = 10                            # [h]
# [samples.sintering]                    # all optional
# temperature_C = 550                    # [°C]
# time_h = 5                             # dwell [h]
# ramp_C_per_min = 5                     # [°C/min]

# -- Pellets: pressed from a sample, for conductivity -------------------------------
# [[pellets]]
# id = "P-F10-B80"                       # required
# sample = "S-F10-B80"                   # required, a [[samples]] id
# diameter_mm = 10                       # required, > 0 [mm]
# thickness_mm = 0.85                    # required, > 0 [mm]
# mass_mg = 150                          # > 0 [mg]
# pressing_pressure_MPa = 375            # > 0 [MPa]
# electrodes = "stainless steel"
# settings = { circuit = "R0-CPE1-CPE2" }  # this pellet's analyses only (also on samples, cells)

# -- Cells ---------------------------------------------------------------------------
# [[cells]]
# id = "C-conventional"                  # required
# electrolyte = "S-F10-B80"              # the separator: a [[samples]] id
# cathode_active = "Li2TiS3"             # a formula or a [[materials]] id
# composite_ratio = "60:30:10"           # active:electrolyte:carbon by mass
# active_fraction = 0.6                  # active mass fraction of the composite, (0, 1]
# composite_mass_mg = 10.0               # > 0 [mg]
# active_mass_mg = 6.0                   # > 0 [mg], at most the composite mass
# loading_mg_cm2 = 7.6                   # active material per area, > 0 [mg/cm²]
# area_cm2 = 0.785                       # > 0 [cm²]
# anode = "Li-In"
# electrolyte_mass_mg = 100              # separator, > 0 [mg]
# stack_pressure_MPa = 10                # > 0 [MPa]
# theoretical_capacity_mAh_g = 339       # > 0 [mAh/g], for C-rates

# -- Measurements: one raw file each ----------------------------------------------------
# technique: eis | dcpol | xrd | cycling | pressure | exsy, on exactly one owner:
#   eis on a pellet -> conductivity (all temperatures of the pellet together),
#   dcpol on a pellet -> electronic conductivity, eis on a cell -> DRT over SOC,
#   cycling on a cell -> capacity/CE/retention (protocol = "rate": a rate table),
#   pressure on a cell -> stack-pressure growth, xrd / exsy on a sample.
# [[measurements]]
# id = "eis-P-F10-B80-25C"               # required
# file = "raw/eis/P-F10-B80_25C.csv"     # required, relative to this folder; must exist
# technique = "eis"                      # required
# pellet = "P-F10-B80"                   # exactly one of sample = / pellet = / cell =
# temperature_C = 25                     # [°C]
# date = "2026-03-01"
# instrument = "Squidstat Plus"
# notes = "..."
# conditions = { atmosphere = "Ar" }     # free-form, kept with the measurement
#
# [[measurements]]
# id = "cyc-C-conventional"
# file = "raw/cycling/C-conventional.txt"
# technique = "cycling"
# cell = "C-conventional"
# protocol = "long-term"                 # "rate" makes it a rate test (a rate table)
#
# [[measurements]]
# id = "pressure-C-conventional"
# file = "raw/pressure/C-conventional.csv"
# technique = "pressure"
# cell = "C-conventional"
# cycling = "cyc-C-conventional"         # its cycling record (a measurement id); may be left
#                                        # out when the cell has one cycling file besides rate tests
#
# [[measurements]]
# id = "eis-C-conventional"
# file = "raw/eis/C-conventional_insitu.txt"
# technique = "eis"
# cell = "C-conventional"
# soc_percent = [0, 10, 20]              # state of charge per sweep [%]

# -- Headline: published numbers to compare with what ssbkit derives ------------------
# [[headline]]
# quantity = "σ(25 °C), FRB 10 %, BMR 80:1"  # required
# paper = 13.3                           # required, the published value
# unit = "mS/cm"                         # required, a unit ssbkit knows
# source = "EES Batteries 2026"
# analysis = "conductivity:P-F10-B80"    # required: <kind>:<pellet id> for conductivity and
#                                        # electronic, <kind>:<measurement id> for the others
# field = "sigma_25C"                    # required, a key of that analysis' summary
'''


def write_template(directory: str | os.PathLike[str]) -> Path:
    """Create ``directory`` and ``directory/raw`` and write :data:`TEMPLATE` to
    ``directory/study.toml``; an existing ``study.toml`` is never overwritten."""
    folder = Path(directory)
    target = folder / "study.toml"
    exists = InputError("a study manifest is already here; edit it, or choose another folder",
                        source=str(target))
    if folder.exists() and not folder.is_dir():
        raise InputError("is a file, not a folder", source=str(folder))
    if target.exists():
        raise exists
    try:
        (folder / "raw").mkdir(parents=True, exist_ok=True)
        # Written beside the target and then linked into place, so no half-written manifest
        # is ever seen, and link() refuses to replace a study.toml that appeared meanwhile.
        handle, temporary = tempfile.mkstemp(prefix=".study.", suffix=".toml.tmp", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(TEMPLATE)
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links
                os.replace(temporary, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    except FileExistsError:
        raise exists from None
    except OSError as exc:
        raise InputError(f"cannot write the study template: {exc.strerror}", source=str(folder)) from None
    return target
