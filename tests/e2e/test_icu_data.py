"""installers/linux/icu_data.py: the Linux bundle's ICU data library rebuilt without the data Qt never
reads, with the real icupkg and binutils over PySide6's own library; and the full library kept,
with the reason printed, when the tools are missing or the input is not what it should be."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.e2e.conftest import REPO


def load_icu_data() -> ModuleType:
    spec = importlib.util.spec_from_file_location("icu_data", REPO / "installers" / "linux" / "icu_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


icu_data = load_icu_data()


def wheel_icu_data() -> Path:
    import PySide6

    (library,) = (Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*")
    return library


@pytest.mark.parametrize(("item", "left_out"), [
    ("ibm-943_P15A-2003.cnv", True),           # code-page converters
    ("translit/root.res", True),
    ("rbnf/de.res", True),
    ("unames.icu", True),
    ("lang/de.res", True),                      # display names in languages the app does not speak
    ("zone/fr_CA.res", True),
    ("brkitr/de.res", True),
    ("lang/zh.res", False), ("lang/zh_Hant_HK.res", False), ("region/ja.res", False), ("unit/en_GB.res", False),
    ("lang/root.res", False), ("zone/tzdbNames.res", False), ("brkitr/line.brk", False),
    ("brkitr/thaidict.dict", False),            # brkitr/root.res refers to every dictionary
    ("coll/de.res", False), ("coll/sv.res", False),   # every locale's collation and formats stay
    ("de.res", False), ("fr_CA.res", False),
    ("supplementalData.res", False), ("cnvalias.icu", False), ("nfkc.nrm", False), ("ucadata.icu", False),
])
def test_which_items_are_left_out(item: str, left_out: bool) -> None:
    assert icu_data.unused(item) is left_out


def dat_items(library: Path, tmp: Path) -> list[str]:
    """The data items of an ICU data library (its blob written out and listed by icupkg)."""
    version = icu_data.LIBRARY.match(library.name).group(1)
    offset, size = icu_data.data_symbol(library, version)
    dat = tmp / f"icudt{version}l.dat"
    with library.open("rb") as src:
        src.seek(offset)
        dat.write_bytes(src.read(size))
    listed = subprocess.run(["icupkg", "-l", str(dat)], capture_output=True, text=True, check=True)
    return listed.stdout.split()


def test_the_rebuilt_library_keeps_the_data_qt_reads(tmp_path: Path) -> None:
    original = wheel_icu_data()
    rebuilt = icu_data.rebuild(original, tmp_path / "icu")
    assert rebuilt.name == original.name
    assert rebuilt.stat().st_size < original.stat().st_size * 0.5
    soname = subprocess.run(["readelf", "-d", str(rebuilt)], capture_output=True, text=True, check=True).stdout
    assert f"Library soname: [{original.name}]" in soname
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    before, after = dat_items(original, tmp_path / "a"), dat_items(rebuilt, tmp_path / "b")
    assert set(after) == {item for item in before if not icu_data.unused(item)}
    assert not [item for item in after if item.endswith(".cnv")]
    for kept in ("coll/zh.res", "coll/ja.res", "coll/de.res", "lang/zh_Hant.res", "brkitr/cjdict.dict", "root.res"):
        assert kept in after, kept
    assert "lang/de.res" not in after and "lang/de.res" in before


def test_missing_tools_keep_the_full_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    original = wheel_icu_data()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    entries = [("PySide6/Qt/lib/" + original.name, str(original), "BINARY"),
               ("libz.so.1", "/usr/lib/libz.so.1", "BINARY")]
    assert icu_data.trimmed_icu_binaries(entries, tmp_path / "icu") == entries
    warning = capsys.readouterr().err
    assert "WARNING: keeping the full ICU data" in warning and "icupkg is not installed" in warning


def test_a_library_that_is_not_icu_data_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "libicudata.so.73"
    fake.write_bytes(b"\x7fELF but not really" * 100)
    entries = [("PySide6/Qt/lib/libicudata.so.73", str(fake), "BINARY")]
    assert icu_data.trimmed_icu_binaries(entries, tmp_path / "icu") == entries
    assert "WARNING: keeping the full ICU data" in capsys.readouterr().err
    with pytest.raises(icu_data.IcuDataError, match="not an ICU data library"):
        icu_data.rebuild(tmp_path / "libQt6Core.so.6", tmp_path / "icu")


def test_the_command_line(tmp_path: Path) -> None:
    script = REPO / "installers" / "linux" / "icu_data.py"
    done = subprocess.run([sys.executable, str(script), str(wheel_icu_data()), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == tmp_path / "out" / wheel_icu_data().name
    bad = subprocess.run([sys.executable, str(script), str(tmp_path / "missing.so"), str(tmp_path / "x")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.startswith("error: "), bad.stderr
    usage = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "icu_data.py LIBICUDATA OUTDIR" in usage.stderr
