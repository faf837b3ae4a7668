"""A smaller ICU data library for the Linux bundle (build.spec uses it; Windows Qt uses the system's ICU).

PySide6's Linux wheels ship ICU with all of its data, `libicudata.so.NN`: 32 MB, a fifth of the
bundle. Qt reads little of it: the locale and collation data (QCollator, locale-aware case
mapping, QLocale), normalization, and time-zone names. This rebuilds the library from the same
data with ICU's own `icupkg`, leaving out what no code path of the app reaches:

- the legacy code-page converters (`*.cnv`): the app speaks UTF-8, which ICU converts in code;
- transliteration, spelled-out numbers (`rbnf/`) and the Unicode character-name table;
- the display names of languages, regions, currencies, units and time zones, and the break
  rules, in languages other than the app's own (English, Chinese, Japanese). Every locale's
  formats, collation and case rules stay, so sorting and case mapping are right for any user.

The new library exports the same `icudtNN_dat` symbol under the same soname, assembled with
binutils (`as`, `ld`). Without `icupkg` or binutils, or if anything looks unexpected, the
original library is kept and the reason printed: the bundle is larger, never broken.

    python installers/linux/icu_data.py LIBICUDATA OUTDIR     (prints the new library's path)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

APP_LANGUAGES = ("en", "zh", "ja")
# Trees whose per-locale files hold display names or break rules only.
NAME_TREES = ("brkitr", "curr", "lang", "region", "unit", "zone")
UNUSED_TREES = ("translit", "rbnf")
UNUSED_ITEMS = ("unames.icu",)
LOCALE_FILE = re.compile(r"^([a-z]{2,3})(?:_[A-Za-z0-9_]*)?\.res$")
LIBRARY = re.compile(r"^libicudata\.so\.(\d+)$")

ASSEMBLY = """\
    .section .rodata
    .globl {symbol}
    .type {symbol}, STT_OBJECT
    .balign 16
{symbol}:
    .incbin "{data}"
    .size {symbol}, . - {symbol}
    .section .note.GNU-stack,"",%progbits
"""


class IcuDataError(Exception):
    """The library could not be rebuilt; the message says why."""


def unused(item: str) -> bool:
    """Whether the data item `item` (e.g. `coll/de.res`, `ibm-943_P15A-2003.cnv`) is left out."""
    parts = item.split("/")
    name = parts[-1]
    if name.endswith(".cnv") or name in UNUSED_ITEMS or parts[0] in UNUSED_TREES:
        return True
    if len(parts) > 1 and parts[0] in NAME_TREES:
        locale = LOCALE_FILE.match(name)
        return locale is not None and locale.group(1) not in APP_LANGUAGES
    return False


def run(*args: str | Path) -> str:
    try:
        done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300)
    except OSError as exc:
        raise IcuDataError(f"cannot run {args[0]}: {exc}") from exc
    if done.returncode != 0:
        raise IcuDataError(f"{args[0]} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def data_symbol(library: Path, version: str) -> tuple[int, int]:
    """File offset and size of the `icudtNN_dat` blob in `library`."""
    symbol = f"icudt{version}_dat"
    for line in run("nm", "-D", "-S", library).splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3] == symbol:
            address, size = int(fields[0], 16), int(fields[1], 16)
            break
    else:
        raise IcuDataError(f"{library.name} exports no {symbol}")
    # Map the address to a file offset through the section that holds it.
    for line in run("readelf", "-S", "-W", library).splitlines():
        match = re.search(r"\]\s+\S+\s+PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if match:
            start, offset, length = (int(g, 16) for g in match.groups())
            if start <= address and address + size <= start + length:
                return offset + address - start, size
    raise IcuDataError(f"{symbol} lies in no section of {library.name}")


def rebuild(library: Path, outdir: Path) -> Path:
    """`library` rebuilt without the unused data, in `outdir`; raises IcuDataError."""
    found = LIBRARY.match(library.name)
    if not found:
        raise IcuDataError(f"{library.name} is not an ICU data library")
    version = found.group(1)
    for tool in ("icupkg", "nm", "readelf", "as", "ld"):
        if not shutil.which(tool):
            raise IcuDataError(f"{tool} is not installed (packages icu-devtools and binutils)")
    offset, size = data_symbol(library, version)
    outdir.mkdir(parents=True, exist_ok=True)
    package = f"icudt{version}l"
    full, trimmed = outdir / "full", outdir / "trimmed"
    for folder in (full, trimmed):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    with library.open("rb") as src:
        src.seek(offset)
        (full / f"{package}.dat").write_bytes(src.read(size))
    items = [line.strip() for line in run("icupkg", "-l", full / f"{package}.dat").splitlines() if line.strip()]
    if not items:
        raise IcuDataError(f"{library.name} holds no ICU data items")
    dropped = [item for item in items if unused(item)]
    (outdir / "unused.txt").write_text("".join(f"{item}\n" for item in dropped), "utf-8")
    run("icupkg", "-r", outdir / "unused.txt", full / f"{package}.dat", trimmed / f"{package}.dat")
    kept = run("icupkg", "-l", trimmed / f"{package}.dat").split()
    if len(kept) != len(items) - len(dropped):
        raise IcuDataError(f"icupkg kept {len(kept)} items, expected {len(items) - len(dropped)}")
    source = outdir / "icudata.s"
    source.write_text(ASSEMBLY.format(symbol=f"icudt{version}_dat", data=trimmed / f"{package}.dat"), "utf-8")
    run("as", "-o", outdir / "icudata.o", source)
    result = outdir / library.name
    run("ld", "-shared", "-soname", library.name, "-z", "noexecstack", "-o", result, outdir / "icudata.o")
    data_symbol(result, version)  # the new library exports the blob where ICU looks for it
    return result


def trimmed_icu_binaries(binaries: Iterable[tuple[str, str, str]], outdir: Path) -> list[tuple[str, str, str]]:
    """PyInstaller's binaries list with each ICU data library replaced by its rebuilt copy."""
    result = []
    for dest, src, kind in binaries:
        if LIBRARY.match(Path(dest).name):
            try:
                rebuilt = rebuild(Path(src), outdir)
            except IcuDataError as exc:
                print(f"WARNING: keeping the full ICU data ({Path(src).stat().st_size / 1e6:.1f} MB): {exc}",
                      file=sys.stderr)
            else:
                print(f"ICU data: {Path(src).stat().st_size / 1e6:.1f} MB -> {rebuilt.stat().st_size / 1e6:.1f} MB",
                      file=sys.stderr)
                src = str(rebuilt)
        result.append((dest, src, kind))
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    try:
        print(rebuild(Path(argv[0]), Path(argv[1])))
    except IcuDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
