"""The frozen app's own run-time hooks (packaging/pyinstaller/rthook_*.py) and the hooks the spec leaves out."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / "packaging" / "pyinstaller" / "rthook_qt.py"
IMPORTS_HOOK = REPO / "packaging" / "pyinstaller" / "rthook_imports.py"
SPEC = REPO / "packaging" / "pyinstaller" / "azure-openai-chat.spec"


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_qt_hook_sets_the_plugin_path_without_loading_qt(tmp_path: Path) -> None:
    script = (
        "import json, os, runpy, sys\n"
        f"sys._MEIPASS = {str(tmp_path)!r}\n"
        f"runpy.run_path({str(HOOK)!r})\n"
        "print(json.dumps([os.environ['QT_PLUGIN_PATH'], [m for m in sys.modules if m.startswith('PySide6')]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    plugins, qt_modules = json.loads(out.stdout)
    qt_dir = tmp_path / "PySide6" if sys.platform.startswith("win") else tmp_path / "PySide6" / "Qt"
    assert Path(plugins) == qt_dir / "plugins"
    assert qt_modules == []
    assert _imported(HOOK) == {"os", "sys"}


def test_the_app_never_uses_multiprocessing_whose_hook_the_bundle_leaves_out() -> None:
    sources = [*sorted((REPO / "desktop").rglob("*.py")), REPO / "packaging" / "pyinstaller" / "launch.py"]
    users = [str(p.relative_to(REPO)) for p in sources if "multiprocessing" in {n.split(".")[0] for n in _imported(p)}]
    assert users == []
    spec = SPEC.read_text(encoding="utf-8")
    assert '"pyi_rth_multiprocessing"' in spec.split("_REPLACED_RTHOOKS = ")[1].splitlines()[0]


def test_the_spec_runs_its_own_hooks_in_place_of_pyinstallers_qt_inspect_and_pkgutil_hooks() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    replaced = ast.literal_eval(spec.split("_REPLACED_RTHOOKS = ")[1].splitlines()[0])
    assert replaced == {"pyi_rth_pyside6", "pyi_rth_multiprocessing", "pyi_rth_inspect", "pyi_rth_pkgutil"}
    assert 'f"rthook_{name}.py") for name in ("qt", "imports")]' in spec
    assert "noarchive=True" in spec  # what lets rthook_imports.py take PyInstaller's finder out


# A stand-in for PyInstaller's bootstrap module as the bootloader leaves it: its finder is a path hook and already
# cached for the bundle's directory (sys.path[0] here).
_FAKE_BOOTSTRAP = """
import importlib.machinery, json, sys, types
importers = types.ModuleType("pyimod02_importers")
class PyiFrozenFinder:
    @classmethod
    def path_hook(cls, path):
        raise ImportError("not a bundle directory")
    def find_spec(self, name, target=None):  # like PyInstaller's, it falls back on a FileFinder
        loaders = (importlib.machinery.SourceFileLoader, [".py"])
        return importlib.machinery.FileFinder(sys.path[0], loaders).find_spec(name, target)
importers.PyiFrozenFinder = PyiFrozenFinder
importers.pyz_archive = types.SimpleNamespace(toc=TOC)
sys.modules["pyimod02_importers"] = importers
sys._MEIPASS = sys.path[0]
sys.path_hooks.insert(0, PyiFrozenFinder.path_hook)
sys.path_importer_cache[sys.path[0]] = PyiFrozenFinder()
with open(HOOK, encoding="utf-8") as hook:  # as the bootloader runs it (runpy would import pkgutil)
    exec(compile(hook.read(), HOOK, "exec"), {"__name__": "__main__"})
import probe
print(json.dumps({
    "hooked": any(getattr(h, "__self__", None) is PyiFrozenFinder for h in sys.path_hooks),
    "cached": type(sys.path_importer_cache[sys.path[0]]).__name__,
    "probe": probe.VALUE,
    "loaded": sorted(m for m in ("zipfile", "pkgutil", "shutil", "bz2", "lzma") if m in sys.modules),
}))
"""


def _run_imports_hook(tmp_path: Path, toc: dict[str, object]) -> dict[str, object]:
    (tmp_path / "probe.py").write_text("VALUE = 42\n", encoding="utf-8")
    script = tmp_path / "bootstrap.py"
    script.write_text(_FAKE_BOOTSTRAP.replace("TOC", repr(toc)).replace("HOOK", repr(str(IMPORTS_HOOK))), "utf-8")
    # -S: no site, so nothing but the hook can have imported zipfile or pkgutil.
    out = subprocess.run([sys.executable, "-S", str(script)], capture_output=True, text=True, timeout=60, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_with_an_empty_archive_the_imports_hook_leaves_finding_modules_to_python(tmp_path: Path) -> None:
    result = _run_imports_hook(tmp_path, toc={})
    assert result == {"hooked": False, "cached": "FileFinder", "probe": 42, "loaded": []}


def test_with_modules_in_the_archive_the_imports_hook_keeps_pyinstallers_finder(tmp_path: Path) -> None:
    result = _run_imports_hook(tmp_path, toc={"probe": (0, 0, 0)})
    assert result["hooked"] is True
    assert result["cached"] == "PyiFrozenFinder"


def test_the_imports_hook_resolves_the_relative_source_names_of_frozen_code(tmp_path: Path) -> None:
    script = (
        "import inspect, json, os, runpy, sys\n"
        f"sys._MEIPASS = {str(tmp_path)!r}\n"
        f"runpy.run_path({str(IMPORTS_HOOK)!r})\n"
        "frozen = {}\n"
        "exec(compile('def f(): pass', os.path.join('desktop', 'app.py'), 'exec'), frozen)\n"
        "print(json.dumps([inspect.getsourcefile(frozen['f']), inspect.getsourcefile(json.dumps)]))\n"
    )
    out = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True, timeout=60, check=True)
    frozen_file, stdlib_file = json.loads(out.stdout)
    assert Path(frozen_file) == tmp_path / "desktop" / "app.py"
    assert stdlib_file is not None
    assert Path(stdlib_file).name == "__init__.py"
    assert _imported(IMPORTS_HOOK) == {"os", "sys", "inspect"}


def test_the_imports_hook_says_at_once_that_a_compiled_only_module_has_no_source(tmp_path: Path) -> None:
    # PySide6 asks inspect for the source of every module imported after it; in the bundle each is a lone .pyc.
    script = (
        "import inspect, json, py_compile, sys, types\n"
        f"sys._MEIPASS = {str(tmp_path)!r}\n"
        f"exec(compile(open({str(IMPORTS_HOOK)!r}).read(), 'hook', 'exec'), {{'__name__': '__main__'}})\n"
        f"(lone := types.ModuleType('lone')).__file__ = {str(tmp_path / 'lone.pyc')!r}\n"
        f"(kept := types.ModuleType('kept')).__file__ = {str(tmp_path / 'kept.pyc')!r}\n"
        "try:\n"
        "    inspect.getsource(lone)\n"
        "    error = None\n"
        "except OSError as e:\n"
        "    error = str(e)\n"
        "print(json.dumps([inspect.getsourcefile(lone), inspect.getsourcefile(kept), error]))\n"
    )
    (tmp_path / "lone.pyc").write_bytes(b"\xa7\r\r\n not text")
    (tmp_path / "kept.pyc").write_bytes(b"\xa7\r\r\n not text")
    (tmp_path / "kept.py").write_text("X = 1\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True, timeout=60, check=True)
    lone, kept, error = json.loads(out.stdout)
    assert lone is None
    assert error == "source code not available"
    assert Path(kept) == tmp_path / "kept.pyc"  # PyInstaller's answer, kept where a source file exists
