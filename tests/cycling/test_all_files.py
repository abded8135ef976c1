"""Every real cycler file in ``../shared/data/cycling`` is read and summarised, or refused
with an InputError that says why; the summaries' capacities agree with the integral of
the logged current wherever the logging is dense enough to check."""

import warnings

import numpy as np
import pytest

from ssbkit.core.errors import InputError, UnsupportedFormatError
from ssbkit.cycling import summarize_cycles
from ssbkit.io import read_cycling
from ssbkit.testing import shared_data

# file -> largest counter-vs-current deviation in a step (None: nothing to check, e.g. rest only)
READ = {
    "arbin/bdt_arbin_example.csv": 2e-3,
    "arbin/beep_FastCharge_000025_CH8.csv": None,
    "arbin/cellpy_20160805_test001_45_cc_01.res": 1e-3,
    "arbin/navani_arbin_example.res": 1e-3,
    "arbin/navani_bs542_arbin_channel11.xlsx": 1e-3,
    "biologic/cellpy_biol.mpr": 1e-3,
    "biologic/datalab_jdb11-1_e1_s3_squidTest_C15.mpr": 1e-3,
    "biologic/navani_00_test_04_MB_C01.mpr": 1e-3,
    "biologic/navani_jdb11-1_gcpl_5cycles_C09.mpr": 1e-3,
    "biologic/pyprobe_biologic_no_header.mpt": None,
    "biologic/yadg_cp.mpr": 1e-3,
    "biologic/yadg_cp.mpt": 1e-3,
    "maccor/bdt_maccor_example.001": None,
    "maccor/beep_PredictionDiagnostics_000151_test.052": None,  # one step, begun before the file
    "maccor/cellpy_maccor_two.txt": None,
    "neware/cellpy_IFE_BTS85_2_9_8_1.ndax": 1e-3,
    "neware/cellpy_neware_uio.csv": 1e-3,
    "neware/navani_test.nda": 5e-3,
    "neware/navani_test.ndax": 5e-3,
    "neware/newarenda_2-1-6_61_v29.nda": None,  # pulses logged far more sparsely than they switch
    "neware/newarenda_issue60_BTS85.ndax": 1e-3,
    "neware/newarenda_issue72_bts91_v130.nda": 2e-3,
    "neware/newarenda_issue94_unit27.ndax": None,
    "other/datalab_arbin_example.bdf.csv": 1e-2,  # navani's export, written to fewer digits
    "other/pyprobe_basytec.txt": 1e-3,
    "other/pyprobe_novonix.csv": 1e-3,
}
REFUSED = {
    "arbin/beep_FastCharge_000025_CH8_Metadata.csv": (InputError, "metadata"),
    "other/cellpy_custom_data_001.csv": (UnsupportedFormatError, "installed readers"),
    "other/cellpy_pec_Test25209.csv": (UnsupportedFormatError, "installed readers"),
}


@pytest.mark.parametrize("name", sorted(READ))
def test_file_is_read_and_summarised(name):
    path = shared_data("cycling", *name.split("/"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown columns are kept with a warning
        record = read_cycling(path)
    s = summarize_cycles(record)
    assert s.n_cycles >= 1
    assert (s.column("charge") >= 0).all() and (s.column("discharge") >= 0).all()
    assert np.isfinite(record.time).all()
    limit = READ[name]
    if limit is not None:
        assert s.capacity_source == "counters"
        assert s.counter_deviation < limit, s.message


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_file_is_refused_with_the_reason(name):
    path = shared_data("cycling", *name.split("/"))
    error, words = REFUSED[name]
    with pytest.raises(error, match=words) as info:
        read_cycling(path)
    assert str(path) in str(info.value)


def test_the_list_covers_every_file():
    root = shared_data("cycling", "README.md").parent
    files = {str(p.relative_to(root)) for p in root.glob("*/*") if p.is_file()}
    assert files == set(READ) | set(REFUSED)
