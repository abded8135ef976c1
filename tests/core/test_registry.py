"""The reader registry (ssbkit.core.registry): choosing a reader by content, then extension.

Dummy readers are registered for each test on an emptied registry, so the tests do not
depend on which readers are installed, and the registry is restored afterwards.
"""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap
from pathlib import Path

import pytest

import ssbkit
from ssbkit.core import registry
from ssbkit.core.errors import (
    AmbiguousFormatError,
    InputError,
    UnsupportedFormatError,
)
from ssbkit.core.registry import (
    SniffWarning,
    find_reader,
    list_readers,
    read,
    register_reader,
    unregister_reader,
)


@pytest.fixture(autouse=True)
def empty_registry(monkeypatch):
    """No entry-point readers and no run-time ones; the module's state comes back afterwards."""
    monkeypatch.setattr(registry, "_loaded", {})
    monkeypatch.setattr(registry, "_runtime", {})


class CsvCycler:
    """Claims text files whose first line is the cycler's header."""

    name = "csvcycler"
    extensions = (".csv",)
    techniques = frozenset({"cycling"})
    description = "test cycler CSV"

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(b"cycle,time_s,voltage_V")

    def read(self, path: Path, **options):
        return [("csvcycler", path.name, options)]


class BinaryEis:
    """Claims files with a magic number."""

    name = "binaryeis"
    extensions = (".eis", ".bin")
    techniques = frozenset({"eis"})
    description = "test impedance binary"

    def sniff(self, path: Path, head: bytes) -> bool:
        return head[:4] == b"EIS\x00"

    def read(self, path: Path, **options):
        return [("binaryeis", path.name, options)]


class GreedyText:
    """Claims every file that decodes as ASCII (a deliberately over-eager sniffer)."""

    name = "greedytext"
    extensions = (".txt",)
    techniques = frozenset({"eis"})
    description = "test greedy text"

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.isascii() and bool(head)

    def read(self, path: Path, **options):
        return [("greedytext", path.name, options)]


class ExplodingSniffer:
    """A reader whose sniff breaks the contract and raises."""

    name = "exploding"
    extensions = (".csv",)
    techniques = frozenset({"cycling"})
    description = "test broken sniffer"

    def sniff(self, path: Path, head: bytes) -> bool:
        raise RuntimeError("boom")

    def read(self, path: Path, **options):
        raise AssertionError("never chosen")


CYCLER_TEXT = b"cycle,time_s,voltage_V\n1,0,3.7\n"
EIS_BYTES = b"EIS\x00" + bytes(range(256))


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


# --- registration -----------------------------------------------------------------------


def test_register_and_unregister():
    register_reader(CsvCycler)
    assert list_readers() == {"csvcycler": CsvCycler}
    unregister_reader("csvcycler")
    assert list_readers() == {}
    unregister_reader("csvcycler")  # removing twice is harmless


def test_register_reader_works_as_a_decorator():
    @register_reader
    class Decorated(CsvCycler):
        name = "decorated"

    assert list_readers()["decorated"] is Decorated


def test_duplicate_name_is_refused_unless_replace():
    register_reader(CsvCycler)

    class Other(CsvCycler):
        pass  # same name

    with pytest.raises(InputError, match="csvcycler"):
        register_reader(Other)
    register_reader(Other, replace=True)
    assert list_readers()["csvcycler"] is Other


def test_a_class_without_read_is_refused():
    class NoRead:
        name = "noread"
        extensions = (".x",)

        def sniff(self, path, head):
            return True

    with pytest.raises(InputError, match="read"):
        register_reader(NoRead)


# --- choosing by content ----------------------------------------------------------------


def test_content_is_sniffed_before_extension(tmp_path):
    register_reader(CsvCycler)
    register_reader(BinaryEis)
    # Binary impedance data with a .csv name still goes to the impedance reader.
    misleading = _write(tmp_path, "spectrum.csv", EIS_BYTES)
    assert find_reader(misleading) is BinaryEis
    # ...and cycler text called .eis goes to the cycler reader.
    assert find_reader(_write(tmp_path, "cycling.eis", CYCLER_TEXT)) is CsvCycler


def test_read_returns_what_the_chosen_reader_reads(tmp_path):
    register_reader(CsvCycler)
    register_reader(BinaryEis)
    path = _write(tmp_path, "run.dat", CYCLER_TEXT)
    assert read(path, active_mass_mg=12.5) == [("csvcycler", "run.dat", {"active_mass_mg": 12.5})]
    # The top-level ssbkit.read is the same entry point.
    assert ssbkit.read(str(path)) == [("csvcycler", "run.dat", {})]


def test_tie_is_broken_by_extension(tmp_path):
    register_reader(CsvCycler)
    register_reader(GreedyText)  # also claims the cycler's ASCII text
    assert find_reader(_write(tmp_path, "run.csv", CYCLER_TEXT)) is CsvCycler
    assert find_reader(_write(tmp_path, "run.txt", CYCLER_TEXT)) is GreedyText
    # Extensions compare case-insensitively.
    assert find_reader(_write(tmp_path, "RUN.CSV", CYCLER_TEXT)) is CsvCycler


def test_tie_without_a_deciding_extension_names_both_readers(tmp_path):
    register_reader(CsvCycler)
    register_reader(GreedyText)
    path = _write(tmp_path, "run.dat", CYCLER_TEXT)
    with pytest.raises(AmbiguousFormatError) as info:
        find_reader(path)
    message = str(info.value)
    assert "csvcycler" in message and "greedytext" in message
    assert "format=" in message
    assert info.value.source == str(path)
    assert isinstance(info.value, InputError)


def test_no_match_lists_installed_readers(tmp_path):
    register_reader(CsvCycler)
    register_reader(BinaryEis)
    path = _write(tmp_path, "mystery.dat", b"\x89PNG\r\n\x1a\n")
    with pytest.raises(UnsupportedFormatError) as info:
        find_reader(path)
    message = str(info.value)
    assert "binaryeis" in message and "csvcycler" in message
    assert str(path) in message


def test_no_match_with_a_known_extension_says_the_content_was_not_recognised(tmp_path):
    register_reader(CsvCycler)
    path = _write(tmp_path, "broken.csv", b"not,the,header\n")
    with pytest.raises(UnsupportedFormatError, match="csvcycler usually reads .csv files"):
        find_reader(path)


def test_no_readers_installed_says_so(tmp_path):
    path = _write(tmp_path, "a.csv", CYCLER_TEXT)
    with pytest.raises(UnsupportedFormatError, match=r"\(none installed\)"):
        find_reader(path)


def test_a_sniff_that_raises_warns_and_counts_as_no_match(tmp_path):
    register_reader(ExplodingSniffer)
    register_reader(CsvCycler)
    path = _write(tmp_path, "run.csv", CYCLER_TEXT)
    # Both claim .csv: were the exploding one counted as a match, this would be ambiguous.
    with pytest.warns(SniffWarning, match="exploding.*boom"):
        assert find_reader(path) is CsvCycler


def test_a_sniff_that_raises_alone_leaves_the_file_unsupported(tmp_path):
    register_reader(ExplodingSniffer)
    path = _write(tmp_path, "run.csv", CYCLER_TEXT)
    with pytest.warns(SniffWarning), pytest.raises(UnsupportedFormatError):
        find_reader(path)


def test_sniff_sees_only_the_head_of_the_file(tmp_path):
    seen = {}

    class Recorder(CsvCycler):
        name = "recorder"

        def sniff(self, path, head):
            seen["n"] = len(head)
            return True

    register_reader(Recorder)
    find_reader(_write(tmp_path, "big.csv", b"x" * (registry.HEAD_BYTES + 1000)))
    assert seen["n"] == registry.HEAD_BYTES


def test_a_folder_is_sniffed_with_an_empty_head(tmp_path):
    class FolderReader(CsvCycler):
        name = "folder"

        def sniff(self, path, head):
            return path.is_dir() and head == b""

    register_reader(FolderReader)
    register_reader(GreedyText)  # claims no empty head
    assert find_reader(tmp_path) is FolderReader


# --- missing files and format= ----------------------------------------------------------


def test_missing_file_is_an_input_error_naming_it(tmp_path):
    register_reader(CsvCycler)
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputError) as info:
        find_reader(missing)
    assert not isinstance(info.value, UnsupportedFormatError)
    assert str(missing) in str(info.value)


def test_format_bypasses_sniffing(tmp_path):
    register_reader(CsvCycler)
    register_reader(BinaryEis)
    # Content the cycler would never claim, and an extension it does not know.
    path = _write(tmp_path, "odd.bin", EIS_BYTES)
    assert find_reader(path, format="csvcycler") is CsvCycler
    assert read(path, format="csvcycler") == [("csvcycler", "odd.bin", {})]


def test_format_breaks_an_ambiguity(tmp_path):
    register_reader(CsvCycler)
    register_reader(GreedyText)
    path = _write(tmp_path, "run.dat", CYCLER_TEXT)
    assert find_reader(path, format="greedytext") is GreedyText


def test_format_does_not_call_sniff(tmp_path):
    calls = []

    class Counting(CsvCycler):
        name = "counting"

        def sniff(self, path, head):
            calls.append(path)
            return True

    register_reader(Counting)
    path = _write(tmp_path, "run.csv", CYCLER_TEXT)
    assert find_reader(path, format="counting") is Counting
    assert calls == []
    assert find_reader(path) is Counting  # control: without format= it does sniff
    assert calls == [path]


def test_unknown_format_names_it_and_the_installed_readers(tmp_path):
    register_reader(CsvCycler)
    path = _write(tmp_path, "run.csv", CYCLER_TEXT)
    with pytest.raises(InputError) as info:
        find_reader(path, format="biologic-mpr")
    message = str(info.value)
    assert "'biologic-mpr'" in message and "csvcycler" in message


# --- entry points -----------------------------------------------------------------------

PLUGIN_SOURCE = textwrap.dedent(
    """
    class PluginReader:
        name = "plugin"
        extensions = (".plg",)
        techniques = frozenset({"nmr"})
        description = "a reader from a third-party package"

        def sniff(self, path, head):
            return head.startswith(b"PLUGIN")

        def read(self, path, **options):
            return ["read by plugin"]
    """
)


@pytest.fixture
def plugin_entry_points(tmp_path, monkeypatch):
    """A third-party module on sys.path, declared as an entry point in ssbkit.readers;
    ``_loaded = None`` makes the registry look entry points up again (the autouse fixture
    puts the old value back afterwards)."""
    package_dir = tmp_path / "site"
    package_dir.mkdir()
    (package_dir / "ssbkit_test_plugin.py").write_text(PLUGIN_SOURCE)
    monkeypatch.syspath_prepend(str(package_dir))
    monkeypatch.delitem(sys.modules, "ssbkit_test_plugin", raising=False)

    declared = [
        importlib.metadata.EntryPoint(
            name="plugin", value="ssbkit_test_plugin:PluginReader", group="ssbkit.readers"
        )
    ]
    asked = []

    def fake_entry_points(**selection):
        asked.append(selection)
        return [ep for ep in declared if ep.group == selection.get("group")]

    monkeypatch.setattr(registry.metadata, "entry_points", fake_entry_points)
    monkeypatch.setattr(registry, "_loaded", None)
    return declared, asked


def test_reader_declared_by_entry_point_is_found(tmp_path, plugin_entry_points):
    _, asked = plugin_entry_points
    readers = list_readers()
    assert asked == [{"group": "ssbkit.readers"}]
    assert set(readers) == {"plugin"}
    assert readers["plugin"].__module__ == "ssbkit_test_plugin"

    path = _write(tmp_path, "sample.dat", b"PLUGIN v1\n")
    assert read(path) == ["read by plugin"]


def test_entry_points_are_loaded_once(plugin_entry_points):
    _, asked = plugin_entry_points
    list_readers()
    list_readers()
    assert len(asked) == 1


def test_runtime_registration_sits_beside_entry_points(tmp_path, plugin_entry_points):
    register_reader(CsvCycler)
    assert set(list_readers()) == {"plugin", "csvcycler"}
    # A run-time reader may not silently take an installed reader's name.
    class Impostor(CsvCycler):
        name = "plugin"

    with pytest.raises(InputError, match="plugin"):
        register_reader(Impostor)


def test_a_broken_entry_point_warns_and_the_others_still_load(plugin_entry_points):
    declared, _ = plugin_entry_points
    declared.append(
        importlib.metadata.EntryPoint(
            name="broken", value="ssbkit_no_such_module:Reader", group="ssbkit.readers"
        )
    )
    with pytest.warns(SniffWarning, match="broken"):
        readers = list_readers()
    assert set(readers) == {"plugin"}
