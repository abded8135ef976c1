"""XRD readers: text columns, GSAS, PANalytical, Rigaku, Bruker; real files and round trips."""

from __future__ import annotations

import numpy as np
import pytest

from ssbkit.core.errors import InputError
from ssbkit.io import read_pattern
from ssbkit.io.gsas import GsasPowderReader
from ssbkit.io.xrd_text import XyReader
from ssbkit.testing import shared_data

XY, GSAS = XyReader(), GsasPowderReader()


def _truth(n=301, start=10.0, step=0.02, seed=3):
    """A known pattern: one Gaussian peak on a flat background, Poisson counts (seeded)."""
    rng = np.random.default_rng(seed)
    x = start + step * np.arange(n)
    mean = 200 + 5000 * np.exp(-0.5 * ((x - x[n // 2]) / 0.05) ** 2)
    return x, rng.poisson(mean).astype(float)


# --------------------------------------------------------------------------- .xy/.xye/.csv
@pytest.mark.shared_data
def test_synthetic_argyrodite_xy_by_hand():
    path = shared_data("xrd", "synthetic_argyrodite", "synth3.xy")
    p = read_pattern(path)
    assert p.metadata["format"] == "xrd-xy" and len(p) == 4000
    # first line "10.0000 412.0000 20.2978", last "89.9800 233.0000 15.2643"
    assert (p.two_theta[0], p.intensity[0], p.sigma[0]) == (10.0, 412.0, 20.2978)
    assert (p.two_theta[-1], p.intensity[-1], p.sigma[-1]) == (89.98, 233.0, 15.2643)
    assert p.metadata["step_deg"] == 0.02 and p.metadata["sigma"] == "file"
    assert p.wavelengths == ()  # the file does not say


@pytest.mark.parametrize(("name", "layout"), [
    ("a.xy", "{x:.2f} {y:.0f}"),
    ("b.xye", "{x:.2f}\t{y:.0f}\t{s:.4f}"),
    ("c.csv", "{x:.2f},{y:.0f},{s:.4f}"),
    ("d.txt", "{x:.2f};{y:.0f}"),
])
def test_text_columns_round_trip(tmp_path, name, layout):
    x, y = _truth()
    s = np.sqrt(y) + 1
    header = "# sample LPSCB milled 2 h\n# 2theta  counts  esd\n"
    body = "\n".join(layout.format(x=a, y=b, s=c) for a, b, c in zip(x, y, s, strict=True))
    path = tmp_path / name
    path.write_text(header + body + "\n")
    p = read_pattern(path)
    assert p.metadata["format"] == "xrd-xy"
    np.testing.assert_allclose(p.two_theta, x, atol=5e-3)
    np.testing.assert_array_equal(p.intensity, y)
    if "{s" in layout:
        np.testing.assert_allclose(p.sigma, s, atol=1e-4)
    else:
        assert p.metadata["sigma"] == "poisson"


def test_xy_wavelength_from_a_header_line(tmp_path):
    path = tmp_path / "w.xy"
    path.write_text("Wavelength: 0.70932 A\n2Theta Intensity\n5.00 10\n5.01 12\n5.02 11\n")
    (p,) = XY.read(path)
    assert p.wavelengths == ((0.70932, 1.0),)


@pytest.mark.parametrize(("text", "message"), [
    ("10.0\n10.02\n10.04\n", r"line 1: the file holds one column \(2θ only\?\)"),
    ("10.00 5\n10.02 abc\n10.04 6\n", r"line 2: column 'intensity': 'abc' is not a number"),
    ("10.00 5\n10.04 7\n10.02 6\n", r"line 3: 2θ must increase: 10.02° follows 10.04°"),
    ("10.00 5\n10.02 -3\n10.04 6\n", r"line 2: negative intensity -3 without a standard error"),
    ("10 5 1 2\n11 6 1 2\n", "4 columns where 2θ, intensity and an optional σ"),
    ("# only words\n", "no row of numbers"),
    ("1000 5\n2000 6\n3000 7\n", r"2θ must lie in \(0, 180\)°"),
])
def test_xy_refusals_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.xy"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        XY.read(path)
    assert "bad.xy" in str(info.value)


def test_negative_intensities_are_kept_with_sigma_and_zero_sigma_is_dropped(tmp_path):
    path = tmp_path / "sub.xye"
    path.write_text("10.00 -3 2\n10.02 4 0\n10.04 6 2.5\n10.06 8 3\n")
    (p,) = XY.read(path)
    assert p.intensity.tolist() == [-3, 6, 8] and p.sigma.tolist() == [2, 2.5, 3]
    assert p.metadata["dropped"] == [{"line": 2, "reason": "standard error 0 is not > 0 "
                                                           "(a point without weight)"}]
    with pytest.raises(InputError, match="sub.xye, line 2: standard error 0"):
        XY.read(path, strict=True)
    with pytest.raises(InputError, match="takes no option 'wavelength'"):
        XY.read(path, wavelength=1.54)


# --------------------------------------------------------------------------------- GSAS
@pytest.mark.shared_data
def test_pbso4_xra_by_hand():
    path = shared_data("xrd", "gsas2_pbso4", "PBSO4.XRA")
    p = read_pattern(path)
    assert p.metadata["format"] == "gsas-powder" and p.metadata["records"] == "STD"
    # BANK 1 6001 601 CONST 1000 2.5: 6001 points from 10° in 0.025° steps, to 160°
    assert len(p) == 6001 and p.metadata["step_deg"] == 0.025
    assert p.two_theta[0] == 10.0 and p.two_theta[-1] == pytest.approx(160.0)
    assert p.intensity[:3].tolist() == [179, 147, 165]  # line 3
    assert p.intensity[10:13].tolist() == [167, 159, 139]  # line 4
    assert p.intensity[-1] == 368  # line 603, first field; the nine zeros after it are padding
    assert p.metadata["sigma"] == "poisson" and p.wavelengths == ()
    assert "Cu Ka X-ray data" in p.metadata["title"]


@pytest.mark.shared_data
def test_pbso4_neutron_counters_weigh_the_points():
    (p,) = GSAS.read(shared_data("xrd", "gsas2_pbso4", "PBSO4.CWN"))
    # line 103 opens "10   32410   347": NCTR 10, I 324 at point (103 - 3)·10 = 1000
    assert p.two_theta[1000] == pytest.approx(10 + 1000 * 0.05)
    assert p.intensity[1000] == 324 and p.sigma[1000] == pytest.approx(np.sqrt(324 / 10))
    assert p.intensity[0] == 220 and p.sigma[0] == pytest.approx(np.sqrt(220))


@pytest.mark.shared_data
def test_fap_xra_trailing_channels_without_data_are_dropped():
    path = shared_data("xrd", "rietx_examples", "FAP.XRA")
    (p,) = GSAS.read(path)
    assert len(p) == 5753 - 2 and p.two_theta[-1] == pytest.approx(130.0)
    assert p.intensity[:2].tolist() == [609, 612]
    assert [d["line"] for d in p.metadata["dropped"]] == [578, 578]
    with pytest.raises(InputError, match="FAP.XRA, line 578: no data"):
        GSAS.read(path, strict=True)


@pytest.mark.shared_data
def test_11bm_fxye_centidegrees_esd_and_wavelength():
    (p,) = GSAS.read(shared_data("xrd", "rietx_examples", "11BM_NAC.fxye"))
    # first row "50  239.933  16.08": 50 centidegrees; "# Calibrated wavelength = 0.413909"
    assert (p.two_theta[0], p.intensity[0], p.sigma[0]) == (0.5, 239.933, 16.08)
    assert p.two_theta[-1] == pytest.approx(59.9893)
    assert len(p) == 59498  # one row more than the 59497 its BANK line announces
    assert p.wavelengths == ((0.413909, 1.0),) and p.metadata["time_per_step_s"] == 0.1
    assert p.metadata["sample"] == "NAC"


def _gsas_text(x, y, kind):
    start, step = x[0] * 100, (x[1] - x[0]) * 100
    lines = ["synthetic pattern", "# Calibrated wavelength = 1.540593"]
    if kind == "STD":
        lines.append(f"BANK 1 {x.size} {-(-x.size // 10)} CONST {start:.1f} {step:.2f} 0 0 STD")
        fields = [f"{'':2}{v:6.0f}" for v in y] + [f"{'':2}{0:6.0f}"] * (-x.size % 10)
        lines += ["".join(fields[i:i + 10]) for i in range(0, len(fields), 10)]
    elif kind == "ESD":
        lines.append(f"BANK 1 {x.size} {-(-x.size // 5)} CONST {start:.1f} {step:.2f} 0 0 ESD")
        fields = [f"{v:8.0f}{np.sqrt(v):8.2f}" for v in y]
        lines += ["".join(fields[i:i + 5]) for i in range(0, len(fields), 5)]
    else:
        lines.append(f"BANK 1 {x.size} {x.size} CONS {start:.1f} {step:.2f} 0 0 FXYE")
        lines += [f"{a * 100:15.3f}{b:15.3f}{np.sqrt(b):12.4f}" for a, b in zip(x, y, strict=True)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("kind", ["STD", "ESD", "FXYE"])
def test_gsas_round_trip(tmp_path, kind):
    x, y = _truth(n=203)
    path = tmp_path / f"p_{kind}.gsa"
    path.write_text(_gsas_text(x, y, kind))
    p = read_pattern(path)
    assert p.metadata["records"] == kind and len(p) == x.size
    np.testing.assert_allclose(p.two_theta, x, atol=1e-9)
    np.testing.assert_array_equal(p.intensity, y)
    if kind != "STD":
        np.testing.assert_allclose(p.sigma, np.sqrt(y), atol=5e-3)
    assert p.wavelength == 1.540593


def test_gsas_refusals(tmp_path):
    x, y = _truth(n=40)
    path = tmp_path / "cut.gsa"
    text = _gsas_text(x, y, "STD")
    path.write_text("\n".join(text.splitlines()[:-2]) + "\n")
    with pytest.raises(InputError, match="cut.gsa, line 3: the bank announces 40 points but holds 20"):
        GSAS.read(path)
    path.write_text("tof\nBANK 1 100 100 RALF 48008 64 64331 0.001 FXYE\n1500 23.5 0.4\n")
    with pytest.raises(InputError, match="line 2: bank 1 is time-of-flight data"):
        GSAS.read(path)
    path.write_text("bad\nBANK 1 2 2 CONS 1000 2 0 0 FXYE\n1000 5 1\n1002 x 1\n")
    with pytest.raises(InputError, match="line 4: 'x' is not a number"):
        GSAS.read(path)


# ------------------------------------------------------------------ vendor-format writers
# Small but faithful files, written from the published layouts (see each reader's docstring).
XRDML = """<?xml version="1.0" encoding="UTF-8"?>
<xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/1.5" status="Completed">
 <sample type="To be analyzed"><id>S1</id><name>LPSCB milled</name></sample>
 <xrdMeasurement measurementType="Scan" status="Completed" sampleMode="Reflection">
  {wavelength}
  <incidentBeamPath><radius unit="mm">240.00</radius>
   <xRayTube id="1" name="Cu LFF"><tension unit="kV">45</tension><current unit="mA">40</current>
    <anodeMaterial>Cu</anodeMaterial></xRayTube></incidentBeamPath>
  <scan appendNumber="0" mode="Continuous" scanAxis="Gonio" status="Completed">
   <header><startTimeStamp>2024-09-19T15:10:10+02:00</startTimeStamp></header>
   <dataPoints>
    <positions axis="2Theta" unit="deg"><startPosition>{start}</startPosition>
     <endPosition>{end}</endPosition></positions>
    <positions axis="Omega" unit="deg"><startPosition>5</startPosition>
     <endPosition>45</endPosition></positions>
    <commonCountingTime unit="seconds">{time}</commonCountingTime>
    {extra}
    <{tag} unit="{unit}">{values}</{tag}>
   </dataPoints>
  </scan>
 </xrdMeasurement>
</xrdMeasurements>
"""
CU_WAVELENGTH = ('<usedWavelength intended="K-Alpha"><kAlpha1 unit="Angstrom">1.5405980</kAlpha1>'
                 '<kAlpha2 unit="Angstrom">1.5444260</kAlpha2><kBeta unit="Angstrom">1.3922500</kBeta>'
                 '<ratioKAlpha2KAlpha1>0.5000</ratioKAlpha2KAlpha1></usedWavelength>')


def _xrdml(path, x, values, *, tag="intensities", unit="counts", time=2.0, extra="",
           wavelength=CU_WAVELENGTH):
    path.write_text(XRDML.format(wavelength=wavelength, start=x[0], end=x[-1], time=time,
                                 extra=extra, tag=tag, unit=unit,
                                 values=" ".join(f"{v:g}" for v in values)))
    return path


def _ras(path, x, counted, factors=None, *, unit="counts", count=None, end=True, axis="TwoThetaTheta"):
    factors = np.ones(x.size) if factors is None else factors
    header = {"FILE_SAMPLE": "LPSCB 2h", "HW_XG_TARGET_NAME": "Cu", "HW_XG_WAVE_LENGTH_ALPHA1": "1.540593",
              "HW_XG_WAVE_LENGTH_ALPHA2": "1.544414", "HW_XG_WAVE_LENGTH_BETA": "1.392250",
              "MEAS_COND_XG_WAVE_TYPE": "Ka", "MEAS_DATA_COUNT": str(x.size if count is None else count),
              "MEAS_SCAN_AXIS_X": axis, "MEAS_SCAN_MODE": "CONTINUOUS", "MEAS_SCAN_SPEED": "2.4000",
              "MEAS_SCAN_SPEED_UNIT": "deg/min", "MEAS_SCAN_START": f"{x[0]:.4f}",
              "MEAS_SCAN_STEP": f"{x[1] - x[0]:.4f}", "MEAS_SCAN_STOP": f"{x[-1]:.4f}",
              "MEAS_SCAN_START_TIME": "03/22/24 10:42:36", "MEAS_SCAN_UNIT_X": "deg",
              "MEAS_SCAN_UNIT_Y": unit}
    lines = ["*RAS_DATA_START", "*RAS_HEADER_START", *(f'*{k} "{v}"' for k, v in header.items()),
             "*RAS_HEADER_END", "*RAS_INT_START"]
    lines += [f"{a:.4f} {b:.4f} {c:.4f}" for a, b, c in zip(x, counted, factors, strict=True)]
    if end:
        lines += ["*RAS_INT_END", "*RAS_DATA_END"]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="latin-1")
    return path


def _rasx(path, x, counted, *, conditions=True, unit="cps"):
    import zipfile

    profile = "\ufeff" + "".join(f"{a:.4f}\t{b:g}\t1\n" for a, b in zip(x, counted, strict=True))
    xml = ('<?xml version="1.0" encoding="utf-8"?><MeasurementConditions>'
           "<GeneralInformation><SampleName>LTS cathode</SampleName></GeneralInformation>"
           "<HWConfigurations><XrayGenerator><TargetName>Cu</TargetName><WaveType>Ka1</WaveType>"
           "<WavelengthKalpha1>1.540593</WavelengthKalpha1><WavelengthKalpha2>1.544414</WavelengthKalpha2>"
           "</XrayGenerator></HWConfigurations><ScanInformation><AxisName>TwoThetaTheta</AxisName>"
           "<Mode>CONTINUOUS</Mode><Step>0.02</Step><Speed>1.2</Speed><SpeedUnit>deg/min</SpeedUnit>"
           f"<PositionUnit>deg</PositionUnit><IntensityUnit>{unit}</IntensityUnit></ScanInformation>"
           '<RASHeader><Pair><string>*MEAS_SCAN_AXIS_X</string><string>TwoThetaTheta</string></Pair>'
           "</RASHeader></MeasurementConditions>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("root.xml", '<?xml version="1.0"?><Root/>')
        archive.writestr("Data0/Profile0.txt", profile.encode("utf-8"))
        if conditions:
            archive.writestr("Data0/MesurementConditions0.xml", xml)
    return path


def _brml(path, x, counts, *, member="Experiment0/RawData0.xml", tube=True):
    import zipfile

    rows = "".join(f"<Datum>96,1,{a:.4f},{a / 2:.4f},{b:g}</Datum>" for a, b in zip(x, counts, strict=True))
    source = ('<FixedInformation><Instrument><PrimaryTracks><TrackInfoData><MountedOptics>'
              '<InfoData xsi:type="Tube" LogicName="Tube Cu"><TubeMaterial>Cu</TubeMaterial>'
              '<WaveLengthAlpha1 Value="1.5406" Unit="Å"/><WaveLengthAlpha2 Value="1.54439" Unit="Å"/>'
              '<WaveLengthRatio Value="0.5" Unit=""/></InfoData></MountedOptics></TrackInfoData>'
              '</PrimaryTracks></Instrument></FixedInformation>') if tube else ""
    xml = ('<?xml version="1.0" encoding="utf-8"?><RawData xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
           "<TimeStampStarted>2024-03-12T15:02:00+02:00</TimeStampStarted><DataRoutes>"
           '<DataRoute RouteFlag="Final"><ScanInformation VisibleName="Coupled TwoTheta/Theta">'
           "<TimePerStep>0.5</TimePerStep><ScanAxes><ScanAxisInfo AxisId=\"TwoTheta\" AxisName=\"TwoTheta\">"
           f"<Start>{x[0]}</Start><Increment>{x[1] - x[0]:.4f}</Increment></ScanAxisInfo></ScanAxes>"
           f"</ScanInformation><DataViews>"
           '<RawDataView xsi:type="FixedRawDataView" Start="0" Length="1" LogicName="MeasuredTime"/>'
           '<RawDataView xsi:type="FixedRawDataView" Start="1" Length="1" LogicName="AbsorptionFactor"/>'
           '<RawDataView xsi:type="VaryingRawDataView" Start="2" Length="2"><Varying>'
           '<FieldDefinitions FieldName="TwoTheta" AxisId="TwoTheta"/><FieldDefinitions FieldName="Theta" '
           'AxisId="Theta"/></Varying></RawDataView><RawDataView xsi:type="RecordedRawDataView" Start="4" '
           f'Length="1"><Recording LogicName="ScanCounter"/></RawDataView></DataViews>{rows}</DataRoute>'
           f"</DataRoutes>{source}</RawData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("experimentCollection.xml", "<ExperimentCollection/>")
        archive.writestr("Experiment0/DataContainer.xml", "<DataContainer/>")
        archive.writestr(member, xml)
    return path


def _raw3(path, x, counts, *, time=0.5):
    import struct

    head = bytearray(712)
    head[0:7] = b"RAW1.01"
    struct.pack_into("<I", head, 12, 1)
    head[16:24], head[26:34] = b"03/12/24", b"15:02:00"
    head[326:334] = b"LPSCB 2h"
    head[608:610] = b"Cu"
    struct.pack_into("<5d", head, 616, 1.541874, 1.540598, 1.544426, 1.392250, 0.5)
    header = bytearray(304)
    struct.pack_into("<II", header, 0, 304, x.size)
    struct.pack_into("<dd", header, 8, x[0] / 2, x[0])
    struct.pack_into("<d", header, 176, x[1] - x[0])
    struct.pack_into("<f", header, 192, time)
    struct.pack_into("<II", header, 252, 4, 0)
    path.write_bytes(bytes(head + header) + np.asarray(counts, "<f4").tobytes())
    return path


def _raw4(path, x, counts, *, time_ms=500.0, scan_type=b"Locked Coupled", drive=b"2Theta", datum=4,
          drive_at=None):
    import struct

    head = bytearray(61)
    head[0:7] = b"RAW4.00"
    head[12:22], head[24:32] = b"03/12/2024", b"15:02:00"
    text = bytearray(36) + b"LPSCB 2h\x00"
    struct.pack_into("<II", text, 0, 10, len(text))
    text[12:20] = b"SAMPLEID"
    tube = bytearray(120)
    struct.pack_into("<II", tube, 0, 30, 120)
    struct.pack_into("<5d", tube, 72, 1.541874, 1.540598, 1.544426, 1.392250, 0.5)
    tube[116:118] = b"Cu"
    struct.pack_into("<I", head, 56, len(text) + len(tube))
    rng = bytearray(160)
    struct.pack_into("<II", rng, 0, 160, 160)
    rng[32:32 + len(scan_type)] = scan_type
    struct.pack_into("<ddIf", rng, 72, x[0], x[1] - x[0], x.size, time_ms)
    struct.pack_into("<II", rng, 136, datum, 64)
    axis = bytearray(64)
    struct.pack_into("<III", axis, 0, 50, 64, 1)
    axis[12:12 + len(drive)] = drive
    struct.pack_into("<d", axis, 56, x[0] if drive_at is None else drive_at)
    values = np.zeros((x.size, datum // 4), "<f4")
    values[:, 0] = counts
    path.write_bytes(bytes(head + text + tube + rng + axis) + values.tobytes())
    return path


# ------------------------------------------------------------------------ vendor formats
def test_xrdml_round_trip_with_wavelengths_and_metadata(tmp_path):
    from ssbkit.io.xrdml import XrdmlReader

    x, y = _truth()
    p = read_pattern(_xrdml(tmp_path / "a.xrdml", x, y))
    assert p.metadata["format"] == "panalytical-xrdml"
    np.testing.assert_allclose(p.two_theta, x, atol=1e-9)
    np.testing.assert_array_equal(p.intensity, y)
    assert p.wavelengths == ((1.540598, 1.0), (1.544426, 0.5)) and p.metadata["anode"] == "Cu"
    assert p.metadata["time_per_step_s"] == 2.0 and p.metadata["sample"] == "LPSCB milled"
    assert p.metadata["start_time"] == "2024-09-19T15:10:10+02:00" and p.metadata["sigma"] == "poisson"
    kalpha1 = CU_WAVELENGTH.replace('intended="K-Alpha"', 'intended="K-Alpha 1"')
    (p1,) = XrdmlReader().read(_xrdml(tmp_path / "b.xrdml", x, y, wavelength=kalpha1))
    assert p1.wavelengths == ((1.540598, 1.0),)


def test_xrdml_cps_raw_counts_and_attenuators(tmp_path):
    from ssbkit.io.xrdml import XrdmlReader

    x = np.array([10.0, 10.5, 11.0])
    (p,) = XrdmlReader().read(_xrdml(tmp_path / "c.xrdml", x, [5, 10, 15], unit="counts/s", time=2.0))
    assert p.intensity.tolist() == [10, 20, 30] and "counts/s × counting time" in p.metadata["intensity"]
    extra = "<beamAttenuationFactors>1 2 4</beamAttenuationFactors>"
    (p,) = XrdmlReader().read(_xrdml(tmp_path / "d.xrdml", x, [10, 20, 30], tag="counts", extra=extra))
    # raw counts × factors (schema 2.x); σ = factor·√counted
    assert p.intensity.tolist() == [10, 40, 120]
    np.testing.assert_allclose(p.sigma, [np.sqrt(10), 2 * np.sqrt(20), 4 * np.sqrt(30)])
    (p,) = XrdmlReader().read(_xrdml(tmp_path / "e.xrdml", x, [10, 40, 120], extra=extra))
    assert p.intensity.tolist() == [10, 40, 120]  # <intensities> are already corrected


@pytest.mark.parametrize(("change", "message"), [
    ({"wavelength": ""}, "no <usedWavelength>"),
    ({"extra": "<beamAttenuationFactors>1 2</beamAttenuationFactors>"}, "holds 2 values for 3 points"),
    ({"unit": "furlongs"}, "intensity unit 'furlongs'"),
    ({"values": "1 2 x"}, "<intensities> holds something that is not a number"),
])
def test_xrdml_refusals(tmp_path, change, message):
    from ssbkit.io.xrdml import XrdmlReader

    values = change.pop("values", None)
    path = _xrdml(tmp_path / "bad.xrdml", np.array([10.0, 10.5, 11.0]), [1, 2, 3], **change)
    if values:
        path.write_text(path.read_text().replace(">1 2 3<", f">{values}<"))
    with pytest.raises(InputError, match=message) as info:
        XrdmlReader().read(path)
    assert "bad.xrdml" in str(info.value)


def test_xrdml_descending_scan_and_listed_positions(tmp_path):
    from ssbkit.io.xrdml import XrdmlReader

    path = _xrdml(tmp_path / "down.xrdml", np.array([11.0, 10.5, 10.0]), [3, 2, 1])
    (p,) = XrdmlReader().read(path)
    assert p.two_theta.tolist() == [10.0, 10.5, 11.0] and p.intensity.tolist() == [1, 2, 3]
    assert p.metadata["reversed"] is True
    text = path.read_text().replace("<startPosition>11.0</startPosition>\n     <endPosition>10.0"
                                    "</endPosition>", "<listPositions>12 12.5 13.25</listPositions>")
    path.write_text(text)
    (p,) = XrdmlReader().read(path)
    assert p.two_theta.tolist() == [12, 12.5, 13.25]


def test_gsas_text_named_raw_is_gsas_not_bruker(tmp_path):
    x, y = _truth(n=30)
    path = tmp_path / "gsas.raw"
    path.write_text(_gsas_text(x, y, "STD"))
    assert read_pattern(path).metadata["format"] == "gsas-powder"


def test_xrdml_truncated_and_rocking_curve(tmp_path):
    from ssbkit.io.xrdml import XrdmlReader

    path = _xrdml(tmp_path / "t.xrdml", np.array([10.0, 10.5, 11.0]), [1, 2, 3])
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match=r"t.xrdml, line \d+, column \d+: not well-formed XML"):
        XrdmlReader().read(path)
    path.write_text(text.replace('axis="2Theta"', 'axis="Phi"'))
    with pytest.raises(InputError, match="not a 2θ scan"):
        XrdmlReader().read(path)


def test_ras_round_trip_attenuators_and_time(tmp_path):
    x, y = _truth()
    factors = np.where(y > 3000, 10.0, 1.0)
    counted = np.round(y / factors)
    p = read_pattern(_ras(tmp_path / "a.ras", x, counted, factors))
    assert p.metadata["format"] == "rigaku-ras"
    np.testing.assert_allclose(p.two_theta, x, atol=1e-9)
    np.testing.assert_array_equal(p.intensity, counted * factors)
    strong = factors > 1
    np.testing.assert_allclose(p.sigma[strong], 10 * np.sqrt(counted[strong]))
    np.testing.assert_allclose(p.sigma[~strong], np.sqrt(np.maximum(counted[~strong], 1)))
    assert p.wavelengths == ((1.540593, 1.0), (1.544414, 0.5))
    assert "ratio 0.5 assumed" in p.metadata["wavelengths"]
    # continuous scan: 0.02° at 2.4°/min is 0.5 s a step
    assert p.metadata["time_per_step_s"] == pytest.approx(0.5) and p.metadata["step_deg"] == 0.02
    assert p.metadata["sample"] == "LPSCB 2h" and p.metadata["anode"] == "Cu"


def test_ras_cps_become_counts_and_refusals(tmp_path):
    from ssbkit.io.rigaku import RasReader

    x = 10 + 0.02 * np.arange(5)
    (p,) = RasReader().read(_ras(tmp_path / "c.ras", x, np.array([100, 200, 300, 400, 500.0]), unit="cps"))
    assert p.intensity.tolist() == [50, 100, 150, 200, 250]  # × 0.5 s
    with pytest.raises(InputError, match=r"t.ras, line \d+: a scan's rows do not end with \*RAS_INT_END"):
        RasReader().read(_ras(tmp_path / "t.ras", x, np.ones(5), end=False))
    with pytest.raises(InputError, match="announces 7 points but 5 rows follow: truncated"):
        RasReader().read(_ras(tmp_path / "n.ras", x, np.ones(5), count=7))
    with pytest.raises(InputError, match="the scan axis is 'Omega', not 2θ"):
        RasReader().read(_ras(tmp_path / "o.ras", x, np.ones(5), axis="Omega"))


def test_rasx_round_trip_and_missing_member(tmp_path):
    from ssbkit.io.rigaku import RasxReader

    x, y = _truth()
    p = read_pattern(_rasx(tmp_path / "a.rasx", x, y))
    assert p.metadata["format"] == "rigaku-rasx" and p.metadata["sample"] == "LTS cathode"
    # cps × (0.02° / 1.2°/min = 1 s)
    np.testing.assert_allclose(p.intensity, y)
    assert p.metadata["time_per_step_s"] == pytest.approx(1.0)
    assert p.wavelengths == ((1.540593, 1.0),)  # WaveType Ka1
    with pytest.raises(InputError, match="b.rasx: no measurement conditions for Data0/Profile0.txt"):
        RasxReader().read(_rasx(tmp_path / "b.rasx", x, y, conditions=False))
    whole = (tmp_path / "a.rasx").read_bytes()
    (tmp_path / "c.rasx").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match="c.rasx: not a readable zip archive"):
        RasxReader().read(tmp_path / "c.rasx")


def test_brml_round_trip_and_missing_member(tmp_path):
    from ssbkit.io.bruker_xrd import BrmlReader

    x, y = _truth()
    p = read_pattern(_brml(tmp_path / "a.brml", x, y))
    assert p.metadata["format"] == "bruker-brml"
    np.testing.assert_allclose(p.two_theta, x, atol=1e-9)
    np.testing.assert_array_equal(p.intensity, y)
    assert p.wavelengths == ((1.5406, 1.0), (1.54439, 0.5)) and p.metadata["anode"] == "Cu"
    assert p.metadata["time_per_step_s"] == 0.5 and p.metadata["step_deg"] == 0.02
    with pytest.raises(InputError, match="b.brml: the archive holds no Experiment\\*/RawData\\*.xml"):
        BrmlReader().read(_brml(tmp_path / "b.brml", x, y, member="Experiment0/Other.xml"))
    (q,) = BrmlReader().read(_brml(tmp_path / "c.brml", x, y, tube=False))
    assert q.wavelengths == ()


@pytest.mark.parametrize("version", [3, 4])
def test_bruker_raw_round_trip(tmp_path, version):
    x, y = _truth()
    path = (_raw3 if version == 3 else _raw4)(tmp_path / f"v{version}.raw", x, y)
    p = read_pattern(path)
    assert p.metadata["format"] == "bruker-raw" and len(p) == x.size
    np.testing.assert_allclose(p.two_theta, x, atol=1e-9)
    np.testing.assert_array_equal(p.intensity, y)
    assert p.wavelengths == ((1.540598, 1.0), (1.544426, 0.5))
    assert p.metadata["sample"] == "LPSCB 2h" and p.metadata["anode"] == "Cu"
    assert p.metadata["time_per_step_s"] == 0.5


def test_bruker_raw_v4_wide_datum_and_refusals(tmp_path):
    from ssbkit.io.bruker_xrd import BrukerRawReader

    x, y = _truth(n=50)
    (p,) = BrukerRawReader().read(_raw4(tmp_path / "w.raw", x, y, datum=8))
    np.testing.assert_array_equal(p.intensity, y)  # stride by the datum, first float32 each
    full = _raw4(tmp_path / "full.raw", x, y).read_bytes()
    for cut in (40, 100, 300, len(full) - 2):
        (tmp_path / "cut.raw").write_bytes(full[:cut])
        with pytest.raises(InputError, match="cut.raw: .*truncated"):
            BrukerRawReader().read(tmp_path / "cut.raw")
    with pytest.raises(InputError, match="starts at 10 but 2θ at 40: it does not step 2θ"):
        BrukerRawReader().read(_raw4(tmp_path / "om.raw", x, y, drive_at=40.0))
    with pytest.raises(InputError, match="range 1 is a 'Rocking Curve' scan, not a 2θ scan"):
        BrukerRawReader().read(_raw4(tmp_path / "rock.raw", x, y, scan_type=b"Rocking Curve",
                                     drive=b"Theta"))
    (tmp_path / "v2.raw").write_bytes(b"RAW2" + bytes(300))
    with pytest.raises(InputError, match="Bruker RAW version RAW2 is not read"):
        read_pattern(tmp_path / "v2.raw")
    full3 = _raw3(tmp_path / "full3.raw", x, y).read_bytes()
    (tmp_path / "cut3.raw").write_bytes(full3[:-10])
    with pytest.raises(InputError, match="cut3.raw: the file ends inside the data of range 1"):
        BrukerRawReader().read(tmp_path / "cut3.raw")


# ------------------------------------------------------------- choosing among all readers
XRD_READERS = ("xrd-xy", "gsas-powder", "panalytical-xrdml", "rigaku-ras", "rigaku-rasx",
               "bruker-brml", "bruker-raw")


def _every_format(tmp_path):
    x, y = _truth(n=120)
    folder = tmp_path / "formats"
    folder.mkdir()
    xye = folder / "p.xye"
    xye.write_text("".join(f"{a:.2f} {b:.0f} {np.sqrt(b):.3f}\n" for a, b in zip(x, y, strict=True)))
    csv = folder / "p.csv"
    csv.write_text("".join(f"{a:.2f},{b:.0f}\n" for a, b in zip(x, y, strict=True)))
    gsa = folder / "p.gsa"
    gsa.write_text(_gsas_text(x, y, "ESD"))
    return {"xrd-xy": [xye, csv], "gsas-powder": [gsa],
            "panalytical-xrdml": [_xrdml(folder / "p.xrdml", x, y)],
            "rigaku-ras": [_ras(folder / "p.ras", x, y)], "rigaku-rasx": [_rasx(folder / "p.rasx", x, y)],
            "bruker-brml": [_brml(folder / "p.brml", x, y)],
            "bruker-raw": [_raw3(folder / "p3.raw", x, y), _raw4(folder / "p4.raw", x, y)]}, (x, y)


def test_each_format_is_claimed_by_its_reader_alone_and_read_pattern_agrees(tmp_path):
    from ssbkit.io import list_readers

    readers = list_readers()
    files, (x, y) = _every_format(tmp_path)
    for name, paths in files.items():
        for path in paths:
            head = path.read_bytes()[:65536]
            claims = sorted(n for n, cls in readers.items() if cls().sniff(path, head))
            assert claims == [name], path.name
            # the same content under a neutral name is still recognised: content, not extension
            blind = tmp_path / f"blind{path.suffix and '.bin'}"
            blind.write_bytes(path.read_bytes())
            if name != "xrd-xy":  # a bare table of numbers is only trusted with its extension or steps
                assert [n for n, cls in readers.items() if cls().sniff(blind, head)] == [name]
            p = read_pattern(path)
            np.testing.assert_allclose(p.two_theta, x, atol=5e-3)
            np.testing.assert_allclose(p.intensity, y)
            assert p.metadata["sha256"].startswith("sha256:")


@pytest.mark.shared_data
def test_real_files_are_claimed_by_one_xrd_reader_and_no_xrd_reader_claims_other_files():
    from ssbkit.io import list_readers
    from ssbkit.testing import shared_data_root

    readers = list_readers()
    shared_data("xrd", "README.md")
    root = shared_data_root()
    expected = {"synth3.xy": "xrd-xy", "PBSO4.XRA": "gsas-powder", "PBSO4.CWN": "gsas-powder",
                "FAP.XRA": "gsas-powder", "11BM_NAC.fxye": "gsas-powder"}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.stat().st_size > 8_000_000:
            continue
        head = path.read_bytes()[:65536]
        ours = [n for n in XRD_READERS if readers[n]().sniff(path, head)]
        if path.name in expected:
            claims = [n for n, cls in readers.items() if cls().sniff(path, head)]
            assert claims == [expected[path.name]], path.name
        else:
            assert ours == [], path


@pytest.mark.parametrize("name", XRD_READERS)
def test_sniff_never_raises(name, tmp_path):
    from ssbkit.io import list_readers

    reader = list_readers()[name]()
    cls = list_readers()[name]
    assert cls.techniques == frozenset({"xrd"}) and cls.description and cls.name == name
    rng = np.random.default_rng(7)
    heads = [b"", b"\x00" * 64, rng.bytes(4096), "é".encode("utf-16") * 100, b"PK\x03\x04" + rng.bytes(100),
             b"RAW4.00", b"RAW1.01\x00", b"*RAS_DATA_START\n", b"<xrdMeasurements", b"t\nBANK 1 2 3 CONST"]
    (tmp_path / "junk.bin").write_bytes(rng.bytes(200))
    for head in heads:
        assert reader.sniff(tmp_path / "junk.bin", head) in (True, False)


def test_table_reader_leaves_a_bare_three_column_scan_to_xrd_xy(tmp_path):
    # regression: the impedance table reader took 2θ, I, σ columns for f, Z', Z''
    from ssbkit.io.table import TableReader

    x, y = _truth(n=60)
    path = tmp_path / "scan.csv"
    path.write_text("".join(f"{a:.2f},{b:.0f},{np.sqrt(b):.2f}\n" for a, b in zip(x, y, strict=True)))
    head = path.read_bytes()
    assert not TableReader().sniff(path, head) and XY.sniff(path, head)
    assert read_pattern(path).metadata["format"] == "xrd-xy"


def _damage(path, how):
    """Damage a zip archive the ways the fuzzer found: an unsupported 'version needed' in the
    central directory (NotImplementedError) or a central-directory offset past the end that
    makes zipfile seek before the start (OSError EINVAL)."""
    import struct

    data = bytearray(path.read_bytes())
    if how == "version":
        data[data.index(b"PK\x01\x02") + 6] = 0xFF
    else:
        struct.pack_into("<I", data, data.index(b"PK\x05\x06") + 16, 0xFFFFFF00)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("how", ["version", "offset"])
@pytest.mark.parametrize("make", [_brml, _rasx])
def test_damaged_brml_and_rasx_zip_is_an_input_error_not_oserror(tmp_path, make, how):
    x, y = _truth()
    path = _damage(make(tmp_path / f"damaged.{'brml' if make is _brml else 'rasx'}", x, y), how)
    with pytest.raises(InputError, match=r"damaged\.\w+: not a readable zip archive"):
        read_pattern(path)


@pytest.mark.parametrize("unit", ["cps", "counts/s", "counts per second"])
def test_xy_header_in_cps_is_not_taken_as_counts(tmp_path, unit):
    timed = tmp_path / "timed.xy"
    timed.write_text(f"# 2Theta  Intensity [{unit}]\n# step time 2 s\n10.00 0.5\n10.02 1.5\n10.04 2.0\n")
    p = read_pattern(timed)
    np.testing.assert_allclose(p.intensity, [1.0, 3.0, 4.0])  # rate × 2 s
    assert p.metadata["time_per_step_s"] == 2.0 and p.metadata["intensity"].startswith("counts per step")
    untimed = tmp_path / "untimed.xy"
    untimed.write_text(f"# 2Theta  Intensity [{unit}]\n10.00 0.5\n10.02 1.5\n10.04 0\n")
    q = read_pattern(untimed)
    np.testing.assert_allclose(q.intensity, [0.5, 1.5, 0.0])
    assert "count rates" in q.metadata["intensity"] and q.metadata["sigma"].startswith("relative")
    np.testing.assert_allclose(q.sigma, np.sqrt([0.5, 1.5, 0.5]))  # floor: the smallest rate, not 1


def test_xy_header_in_counts_is_left_alone(tmp_path):
    path = tmp_path / "counts.xy"
    path.write_text("# 2Theta  counts\n# step time 2 s\n10.00 5\n10.02 6\n10.04 7\n")
    p = read_pattern(path)
    np.testing.assert_allclose(p.intensity, [5, 6, 7])
    assert p.metadata["sigma"] == "poisson" and "time_per_step_s" not in p.metadata


def test_xy_non_number_on_line_3_names_line_3_through_read_pattern(tmp_path):
    path = tmp_path / "bad.xy"
    path.write_text("10 1\n10.02 2\n10.04 x\n")
    with pytest.raises(InputError, match=r"bad.xy, line 3: column 'intensity': 'x' is not a number"):
        read_pattern(path)


def test_xy_extra_column_or_other_separator_is_named_not_called_truncated(tmp_path):
    extra = tmp_path / "extra.xy"
    extra.write_text("10.00 5\n10.02 6\n10.04 7 1 2\n10.06 8\n")
    with pytest.raises(InputError, match=r"extra.xy, line 3: 4 values where the first data line \(line 1\) "
                                         r"has 2") as info:
        read_pattern(extra)
    assert "separators" not in str(info.value) and "truncated" not in str(info.value)
    mixed = tmp_path / "mixed.xy"
    mixed.write_text("10.00\t5\n10.02\t6\n\n10.04\t7\n10.06 8 9 10 11\n")
    with pytest.raises(InputError, match=r"mixed.xy, line 5: 5 values separated by spaces .* uses tabs"):
        read_pattern(mixed)
