"""A copy of the repository's examples/ for the study tests: a run writes beside its manifest."""

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def example_study(tmp_path) -> Path:
    """examples/study (and the data it names) copied into tmp_path; gives the study folder."""
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=shutil.ignore_patterns(".ssbkit", "__pycache__"))
    return tmp_path / "examples" / "study"
