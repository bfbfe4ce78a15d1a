"""Run-time hook of the frozen app: plain imports, in place of PyInstaller's inspect and pkgutil hooks.

The spec builds with noarchive=True, so every module is a .pyc file under sys._MEIPASS and PyInstaller's PYZ archive
is empty. PyInstaller still puts its Python-level finder (PyiFrozenFinder) in front of Python's own FileFinder for
every directory of the bundle; with nothing in the archive it only hands each look-up on to a FileFinder, at the cost
of a Python call per look-up (hundreds before the first paint, under a libpython that runs Python slower than a
source run's interpreter). When the archive is empty this hook takes that finder out, so Python finds the .pyc files
itself; with an archive it changes nothing.

PyInstaller's pkgutil hook (pyi_rth_pkgutil) only teaches pkgutil.iter_modules about that finder, and its inspect
hook (pyi_rth_inspect) imports zipfile (with shutil, bz2 and lzma) to read a base_library.zip that a noarchive build
does not have; both ran before the app's first line. Without the finder, pkgutil needs no help. What the inspect hook
did is kept (inspect.getsourcefile resolves the relative file names PyInstaller stores in code objects), without
zipfile, and a module that is only a .pyc file has no source file (None, as for an extension module): PySide6 asks
inspect for the source of every module imported after it (looking for "PySide6" in it), and PyInstaller's hook
answered with the .pyc's own path, which linecache then opened and tried to decode as text, once per module.
"""

import os
import sys


def _drop_empty_archive_finder() -> None:
    importers = sys.modules.get("pyimod02_importers")
    archive = getattr(importers, "pyz_archive", None)
    finder = getattr(importers, "PyiFrozenFinder", None)
    if finder is None or archive is None or archive.toc:
        return
    sys.path_hooks[:] = [hook for hook in sys.path_hooks if getattr(hook, "__self__", None) is not finder]
    for path, cached in list(sys.path_importer_cache.items()):
        if isinstance(cached, finder):
            del sys.path_importer_cache[path]


def _resolve_relative_source_files() -> None:
    import inspect

    original = inspect.getsourcefile
    base = os.path.normpath(sys._MEIPASS)  # type: ignore[attr-defined]  # set by PyInstaller's bootloader

    def getsourcefile(obj: object) -> str | None:
        filename = os.path.normpath(inspect.getfile(obj))  # type: ignore[arg-type]
        if not os.path.isabs(filename):
            main_file = getattr(sys.modules.get("__main__"), "__file__", None)
            if main_file and filename == os.path.basename(main_file):
                return str(main_file)
            return os.path.join(base, filename)
        if filename.startswith(base):
            if filename.endswith(".pyc") and not os.path.exists(filename[:-1]):
                return None  # compiled only: say so at once rather than have linecache open the .pyc as text
            return filename
        return original(obj)  # type: ignore[arg-type]

    inspect.getsourcefile = getsourcefile  # type: ignore[assignment]  # it takes what the original takes


_drop_empty_archive_finder()
_resolve_relative_source_files()
del _drop_empty_archive_finder, _resolve_relative_source_files
