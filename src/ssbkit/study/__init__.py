"""Studies: a manifest of samples, pellets, cells and measurements, a lab database, a
pipeline that analyses everything (locally or on Dask) and a report.

The heavy parts (SQLAlchemy, Dask, the techniques) are imported when used.
"""

from ssbkit.study.manifest import (
    Cell,
    Headline,
    Manifest,
    Material,
    Measurement,
    Pellet,
    Sample,
    StudyInfo,
    load_manifest,
)
from ssbkit.study.template import write_template

__all__ = ["Cell", "Headline", "Manifest", "Material", "Measurement", "Pellet", "Sample", "StudyInfo",
           "load_manifest", "run_study", "write_report", "write_template"]


def __getattr__(name: str):  # the pipeline and the report pull in SQLAlchemy and matplotlib
    if name == "run_study":
        from ssbkit.study.pipeline import run_study

        return run_study
    if name == "write_report":
        from ssbkit.study.report import write_report

        return write_report
    raise AttributeError(name)
