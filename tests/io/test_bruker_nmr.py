"""Bruker NMR reader: the shared TopSpin datasets checked by hand, synthetic folders written
here byte by byte (padding, byte order, float64, quadrature schemes), and every bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ssbkit.io
from ssbkit.core.errors import InputError, UnsupportedFormatError
from ssbkit.io.bruker_nmr import BrukerNmrReader, read_bruker
from ssbkit.nmr.data import FID, NMRSpectrum
from ssbkit.testing import shared_data

READER = BrukerNmrReader()


def _jcamp(path: Path, **params: object) -> Path:
    lines = ["##TITLE= Parameter file, written by the ssbkit tests", "##JCAMPDX= 5.0"]
    for key, value in params.items():
        if isinstance(value, list):
            lines += [f"##${key}= (0..{len(value) - 1})", " ".join(str(v) for v in value)]
        elif isinstance(value, str):
            lines.append(f"##${key}= <{value}>")
        else:
            lines.append(f"##${key}= {value}")
    path.write_text("\n".join([*lines, "##END=", ""]), encoding="latin-1")
    return path


def _acqus(**extra: object) -> dict[str, object]:
    delays = [0.0] * 64
    delays[8] = 0.25
    params: dict[str, object] = {"TD": 10, "SW_h": 5000.0, "SFO1": 100.0001, "BF1": 100.0, "O1": 100.0,
                                 "NUC1": "7Li", "AQ_mod": 3, "BYTORDA": 0, "DTYPA": 0, "GRPDLY": 0,
                                 "DIGMOD": 1, "DECIM": 16, "DSPFVS": 20, "NS": 8, "TE": 298.15,
                                 "MASR": 10000, "PULPROG": "noesy", "DATE": 1700000000, "D": delays}
    params.update(extra)
    return params


def _points(n: int, rows: int = 1) -> np.ndarray:
    """Known complex integers: row r, point k = (1000 r + k) + i(−7 k − 3)."""
    k = np.arange(n)
    return np.array([(1000 * r + k) + 1j * (-7 * k - 3) for r in range(rows)])


def _write_binary(path: Path, points: np.ndarray, *, padded_to: int | None = None,
                  dtype: str = "<i4") -> Path:
    rows = np.atleast_2d(points)
    values = np.empty((rows.shape[0], 2 * rows.shape[1]))
    values[:, 0::2], values[:, 1::2] = rows.real, rows.imag
    if padded_to is not None:
        values = np.pad(values, ((0, 0), (0, padded_to - values.shape[1])))
    path.write_bytes(values.astype(dtype).tobytes())
    return path


def _experiment(folder: Path, points: np.ndarray | None = None, **acqus: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    params = _acqus(**acqus)
    _jcamp(folder / "acqus", **params)
    td = int(params["TD"])  # type: ignore[call-overload]
    data = _points(td // 2) if points is None else points
    dtype = ("<" if params["BYTORDA"] == 0 else ">") + ("i4" if params["DTYPA"] == 0 else "f8")
    block = 256 if params["DTYPA"] == 0 else 128
    _write_binary(folder / "fid", data, padded_to=-(-td // block) * block, dtype=dtype)
    return folder


# -- shared files -------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_topspin_1d_fid_by_hand():
    folder = shared_data("nmr", "spectrochempy_bruker", "topspin_1d", "1")
    fid = read_bruker(folder)
    assert isinstance(fid, FID) and fid.shape == (24974 // 2,)  # acqus TD = 24974
    # the first complex points straight from the file (little-endian int32, BYTORDA = 0)
    raw = np.fromfile(folder / "fid", dtype="<i4")
    assert np.array_equal(fid.data[:200], raw[0:400:2] + 1j * raw[1:400:2])
    assert not raw[24974:].any()  # the padding the reader drops is zero
    assert fid.spectral_width_Hz == (250000.0,) and fid.nucleus == ("1H",) and fid.group_delay == 76.0
    # SF of pdata/1/procs (500.071553859985) is 0 ppm; SFO1 500.0731174: carrier 3.1266 ppm
    assert fid.observe_MHz[0] == pytest.approx(500.071553859985, abs=1e-12)
    assert fid.carrier_ppm[0] == pytest.approx((500.0731174 - 500.071553859985) / 500.071553859985 * 1e6)
    meta = fid.metadata
    assert meta["pulse_program"] == "zg.lcs" and meta["number_of_scans"] == 16
    assert meta["spinning_rate_Hz"] == 5000.0
    assert meta["td"] == (24974,) and fid.acquisition_mode is None
    assert meta["temperature_K"] is None and any("TE = -55.7" in n for n in meta["notes"])
    assert meta["date"].startswith("2015-12-03")
    assert read_bruker(folder / "fid").data.tobytes() == fid.data.tobytes()


@pytest.mark.shared_data
def test_topspin_1d_pdata_axis_and_scaling_by_hand():
    folder = shared_data("nmr", "spectrochempy_bruker", "topspin_1d", "1", "pdata", "1")
    spectrum = read_bruker(folder)
    assert isinstance(spectrum, NMRSpectrum) and spectrum.shape == (16384,)
    # procs: OFFSET 253.0909, SW_p 250000, SF 500.071553859985, SI 16384, NC_proc -5
    step = 250000 / (500.071553859985 * 16384)
    assert spectrum.ppm[0][0] == 253.0909 and spectrum.ppm[0][1] == pytest.approx(253.0909 - step)
    raw = np.fromfile(folder / "1r", dtype="<i4")
    assert np.array_equal(spectrum.data, raw * 2.0**-5)
    assert np.array_equal(spectrum.imag, np.fromfile(folder / "1i", dtype="<i4") * 2.0**-5)
    topspin = spectrum.metadata["processing"][0]
    assert (topspin["PHC0"], topspin["PHC1"], topspin["SI"]) == (52.43836, -16.8366, 16384)
    same = read_bruker(folder.parent.parent, processed=True)
    assert np.array_equal(same.data, spectrum.data)


@pytest.mark.shared_data
def test_nmrglue_fixture_pdata():
    spectrum = read_bruker(shared_data("nmr", "nmrglue_bruker_test_data", "1", "pdata", "1"))
    # nmrglue's own test expects these two values (int32 scaled by 2**NC_proc, NC_proc = -3)
    assert spectrum.data.tolist() == [-36275840.0, -34775104.0]
    assert spectrum.ppm[0].tolist() == pytest.approx([13.03153, 13.03153 - 10000 / (600.13 * 2)])
    assert spectrum.metadata["nucleus"] == ("1H",) and spectrum.metadata["mixing_time_s"] == 0.0133


@pytest.mark.shared_data
def test_processed_true_reads_pdata_of_an_experiment_without_fid():
    # regression: an experiment folder holding acqus and pdata/1 only was refused before pdata was tried
    experiment = shared_data("nmr", "nmrglue_bruker_test_data", "1")
    for read in (read_bruker, ssbkit.io.read_nmr):
        spectrum = read(experiment, processed=True)
        assert spectrum.data.tolist() == [-36275840.0, -34775104.0]  # nmrglue's own expected values
    _raises(experiment, "no fid or ser .*processed=True")
    with pytest.raises(InputError, match="no fid or ser"):
        ssbkit.io.read_nmr(experiment)
    _raises(experiment, "pdata/2", processed=True, procno=2)


@pytest.mark.shared_data
def test_topspin_2d_ser_states_tppi_with_rows_never_acquired():
    folder = shared_data("nmr", "spectrochempy_bruker", "topspin_2d", "1")
    fid = read_bruker(folder)
    assert fid.shape == (192, 1024) and fid.acquisition_mode == "States-TPPI"  # FnMODE 5
    assert fid.nucleus == ("31P", "27Al")
    assert fid.spectral_width_Hz == pytest.approx((13513.5135135, 20833.3333333))
    assert fid.metadata["td"] == (147, 2048) and fid.metadata["rows"] == 192
    assert not fid.data[147:].any() and fid.data[146].any()  # stopped after 147 rows (audit trail)
    (note,) = fid.metadata["notes"]
    assert "TD = 147" in note and "192 rows" in note and "147–191 are all zero" in note
    raw = np.fromfile(folder / "ser", dtype="<i4").reshape(192, 2048)
    assert np.array_equal(fid.data[5, :10], raw[5, 0:20:2] + 1j * raw[5, 1:20:2])


@pytest.mark.shared_data
def test_exam2d_qf_and_the_indirect_width_from_sw_in_ppm():
    fid = read_bruker(shared_data("nmr", "spectrochempy_bruker", "exam2d_HH", "1", "ser"))
    assert fid.shape == (128, 1024) and fid.acquisition_mode == "QF"  # FnMODE 1
    # acqu2s: SW 10.9942 ppm at SFO1 500.13224958474 MHz (SW_h there, 6666.67, is stale; the
    # increment IN_F1 of acqus, 181.866 us, gives the same 5498.5 Hz)
    assert fid.spectral_width_Hz[0] == pytest.approx(10.9942 * 500.13224958474)
    assert fid.spectral_width_Hz[0] == pytest.approx(1e6 / 181.865996756805, rel=1e-5)
    assert fid.group_delay == pytest.approx(67.9873504638672)
    assert any("SW_h" in n for n in fid.metadata["notes"])


@pytest.mark.shared_data
@pytest.mark.parametrize("parts", [("topspin_1d", "1"), ("topspin_1d", "1", "fid"), ("topspin_2d", "1"),
                                   ("exam2d_HH", "1", "ser"), ("topspin_1d", "1", "pdata", "1"),
                                   ("topspin_1d", "1", "pdata", "1", "1r")])
def test_the_registry_picks_this_reader_alone(parts):
    path = shared_data("nmr", "spectrochempy_bruker", *parts)
    assert ssbkit.io.find_reader(path) is BrukerNmrReader
    assert isinstance(ssbkit.io.read_nmr(path), FID | NMRSpectrum)


# -- synthetic folders -------------------------------------------------------------------------------


def test_padding_dropped_and_parameters(tmp_path):
    folder = _experiment(tmp_path / "1")
    fid = read_bruker(folder)
    assert np.array_equal(fid.data, _points(5)[0])  # TD 10 = 5 complex points, file padded to 256 values
    assert fid.carrier_ppm == pytest.approx((1.0,))  # (100.0001 - 100) / 100 MHz
    meta = fid.metadata
    assert meta["mixing_time_s"] == 0.25 and meta["temperature_K"] == 298.15
    assert meta["nucleus"] == ("7Li",) and meta["date"] == "2023-11-14T22:13:20+00:00"
    assert meta["reference"] == ("BF1",) and fid.group_delay == 0.0


def test_big_endian_and_float64(tmp_path):
    big = read_bruker(_experiment(tmp_path / "big", BYTORDA=1))
    double = read_bruker(_experiment(tmp_path / "double", DTYPA=2))
    assert np.array_equal(big.data, _points(5)[0]) and np.array_equal(double.data, _points(5)[0])


def test_group_delay_from_the_dsp_table(tmp_path):
    # Westler & Abildgaard's table: DSPFVS 11, DECIM 16 -> 72.25 points
    assert read_bruker(_experiment(tmp_path / "1", GRPDLY=-1, DSPFVS=11, DECIM=16)).group_delay == 72.25
    assert read_bruker(_experiment(tmp_path / "2", GRPDLY=-1, DIGMOD=0)).group_delay == 0.0
    odd = read_bruker(_experiment(tmp_path / "3", GRPDLY=-1, DSPFVS=11, DECIM=7))
    assert odd.group_delay == 0.0 and any("group delay unknown" in n for n in odd.metadata["notes"])


@pytest.mark.parametrize(("fnmode", "mc2", "expected"), [(4, None, "States"), (6, None, "echo-antiecho"),
                                                         (3, None, "TPPI"), (0, 3, "States"), (0, 0, "QF"),
                                                         (2, None, None), (0, None, None)])
def test_ser_quadrature_scheme(tmp_path, fnmode, mc2, expected):
    folder = tmp_path / "1"
    folder.mkdir()
    _jcamp(folder / "acqus", **_acqus(TD=600))
    _jcamp(folder / "acqu2s", TD=4, SW_h=2000.0, SW=20.0, SFO1=100.0, BF1=100.0, NUC1="7Li", FnMODE=fnmode)
    if mc2 is not None:
        (folder / "pdata" / "1").mkdir(parents=True)
        _jcamp(folder / "pdata" / "1" / "proc2s", MC2=mc2, SF=100.0)
    _write_binary(folder / "ser", _points(300, rows=4), padded_to=768)  # 600 values -> 3 blocks of 256
    fid = read_bruker(folder)
    assert fid.shape == (4, 300) and np.array_equal(fid.data, _points(300, rows=4))
    assert fid.acquisition_mode == expected and fid.spectral_width_Hz == (2000.0, 5000.0)
    assert fid.metadata["fnmode"] == ({2: "QSEQ"}.get(fnmode, expected))


# -- bad input ----------------------------------------------------------------------------------------


def _raises(path: Path, words: str, **options: object) -> None:
    with pytest.raises(InputError, match=words) as info:
        read_bruker(path, **options)
    assert str(path) in str(info.value)


def test_missing_acqus(tmp_path):
    folder = _experiment(tmp_path / "1")
    (folder / "acqus").unlink()
    _raises(folder, "no acqus")
    _raises(folder / "fid", "no acqus")


@pytest.mark.parametrize("name", ["fid", "ser"])
def test_a_missing_acqus_is_named_through_ssbkit_io_not_no_reader_recognises(tmp_path, name):
    # regression: sniff claimed only complete folders, so ssbkit.io.read said "no installed reader
    # recognises this file" instead of what is missing
    folder = _experiment(tmp_path / "1")
    (folder / "acqus").unlink()
    (folder / "fid").rename(folder / name)
    for path in (folder, folder / name):
        assert ssbkit.io.find_reader(path) is BrukerNmrReader
        for read in (ssbkit.io.read, ssbkit.io.read_nmr):
            with pytest.raises(InputError, match="no acqus parameter file") as info:
                read(path)
            assert not isinstance(info.value, UnsupportedFormatError) and str(path) in str(info.value)


def test_an_acqus_that_is_not_jcamp_dx_is_named(tmp_path):
    folder = _experiment(tmp_path / "1")
    (folder / "acqus").write_bytes(b"\x00\x01 not parameters at all \xff" * 20)
    _raises(folder, "acqus is present but not a JCAMP-DX parameter file")
    _raises(folder / "fid", "acqus is present but not a JCAMP-DX parameter file")
    with pytest.raises(InputError, match="acqus is present but not a JCAMP-DX"):
        ssbkit.io.read_nmr(folder)


def test_missing_fid_or_ser(tmp_path):
    folder = _experiment(tmp_path / "1")
    (folder / "fid").unlink()
    _raises(folder, "no fid or ser")


def test_empty_truncated_and_ragged_files(tmp_path):
    folder = _experiment(tmp_path / "1", TD=600)
    (folder / "fid").write_bytes(b"")
    _raises(folder, "empty")
    _write_binary(folder / "fid", _points(100))
    _raises(folder, "truncated: holds 200 values, TD = 600")
    (folder / "fid").write_bytes(bytes(4 * 601))
    _raises(folder / "fid", "not a whole number of complex points")
    _write_binary(folder / "fid", _points(1000))
    _raises(folder, "more than TD")


def test_ser_that_is_not_whole_rows(tmp_path):
    folder = tmp_path / "1"
    folder.mkdir()
    _jcamp(folder / "acqus", **_acqus(TD=512))
    _jcamp(folder / "acqu2s", TD=4, SW_h=2000.0, SFO1=100.0, BF1=100.0, NUC1="7Li", FnMODE=4)
    _write_binary(folder / "ser", _points(256 * 3 + 128))
    _raises(folder, "not a whole number of rows of 512")
    (folder / "acqu2s").unlink()
    _raises(folder, "needs acqu2s")


def test_wrong_byte_order(tmp_path):
    rng = np.random.default_rng(7)
    decay = np.exp(-np.arange(300) / 60.0)
    points = np.round(2e5 * decay * np.exp(0.3j * np.arange(300)) + rng.normal(0, 50, 300)
                      + 1j * rng.normal(0, 50, 300))
    folder = _experiment(tmp_path / "1", points=points, TD=600)
    assert np.array_equal(read_bruker(folder).data, points)  # the control: right byte order reads
    _write_binary(folder / "fid", points, padded_to=768, dtype=">i4")  # BYTORDA still says little
    _raises(folder, "byte-swapped")


def test_not_bruker(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    _raises(tmp_path, "not a Bruker NMR folder")
    _raises(tmp_path / "notes.txt", "not Bruker NMR data")
    assert not READER.sniff(tmp_path, b"") and not READER.sniff(tmp_path / "notes.txt", b"hello")
    _raises(tmp_path / "missing", "no such file")


def test_pdata_without_procs_or_with_the_wrong_size(tmp_path):
    pdata = _experiment(tmp_path / "1") / "pdata" / "1"
    pdata.mkdir(parents=True)
    (pdata / "1r").write_bytes(np.arange(8, dtype="<i4").tobytes())
    _raises(pdata, "no procs")
    _raises(pdata.parent.parent, "no procs", processed=True)
    _jcamp(pdata / "procs", SI=16, OFFSET=10.0, SW_p=5000.0, SF=100.0, NC_proc=0, BYTORDP=0, DTYPP=0)
    _raises(pdata, "holds 32 bytes; SI = 16")
    (pdata / "1r").write_bytes(np.arange(16, dtype="<i4").tobytes())
    spectrum = read_bruker(pdata)
    assert spectrum.data.tolist() == list(range(16)) and spectrum.ppm[0][1] == pytest.approx(10 - 5000 / 1600)
    _raises(pdata, "processed pdata folder", processed=False)
    _raises(tmp_path / "1", "pdata/2", processed=True, procno=2)


@pytest.mark.parametrize("xdim", [(4, 8), (2, 4)])
def test_2rr_with_and_without_submatrices(tmp_path, xdim):
    pdata = tmp_path / "1" / "pdata" / "1"
    pdata.mkdir(parents=True)
    matrix = np.arange(4 * 8).reshape(4, 8) * 3 - 40  # F1 x F2
    _jcamp(pdata / "procs", SI=8, XDIM=xdim[1], OFFSET=10.0, SW_p=800.0, SF=100.0, NC_proc=2, BYTORDP=0,
           DTYPP=0)
    _jcamp(pdata / "proc2s", SI=4, XDIM=xdim[0], OFFSET=50.0, SW_p=400.0, SF=25.0, NC_proc=2)
    # TopSpin stores 2rr as submatrices of XDIM(F1) x XDIM(F2) points, block after block
    blocks = [matrix[a: a + xdim[0], b: b + xdim[1]]
              for a in range(0, 4, xdim[0]) for b in range(0, 8, xdim[1])]
    (pdata / "2rr").write_bytes(np.concatenate([blk.ravel() for blk in blocks]).astype("<i4").tobytes())
    spectrum = read_bruker(pdata)
    assert spectrum.shape == (4, 8) and np.array_equal(spectrum.data, matrix * 4.0)  # 2**NC_proc
    assert spectrum.ppm[0].tolist() == [50.0, 46.0, 42.0, 38.0]  # 400 Hz / (25 MHz * 4) = 4 ppm a point
    assert spectrum.ppm[1][:2].tolist() == [10.0, 9.0]
    (pdata / "proc2s").unlink()
    _raises(pdata, "needs proc2s")


def test_options_checked():
    with pytest.raises(InputError, match="procno"):
        read_bruker(".", procno=0)
    with pytest.raises(InputError, match="takes no option 'phase'"):
        READER.read(Path("."), phase=1)
