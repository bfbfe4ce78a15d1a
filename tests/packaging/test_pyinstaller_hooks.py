"""The frozen app's own run-time hook (packaging/pyinstaller/rthook_qt.py) and the hooks the spec leaves out."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / "packaging" / "pyinstaller" / "rthook_qt.py"


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
    spec = (REPO / "packaging" / "pyinstaller" / "azure-openai-chat.spec").read_text(encoding="utf-8")
    assert '_REPLACED_RTHOOKS = {"pyi_rth_pyside6", "pyi_rth_multiprocessing"}' in spec
    assert 'runtime_hooks=[str(ROOT / "packaging" / "pyinstaller" / "rthook_qt.py")]' in spec
