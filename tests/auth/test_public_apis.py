"""Sign-in uses only the public APIs of azure-identity, azure-core, msal and msal-extensions: no private modules,
names or leading-underscore arguments, which any release may change or remove."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "desktop"
PACKAGES = ("azure", "msal", "msal_extensions")


def _ours(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] in PACKAGES


def _private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


def private_uses(source: str, filename: str = "<source>") -> list[str]:
    """Every private name of those packages the source imports or reaches, and every leading-underscore argument."""
    tree = ast.parse(source, filename)
    found: list[str] = []
    modules: set[str] = set()  # local names bound to one of the packages' modules
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name):
                    modules.add((alias.asname or alias.name).split(".")[0])
                    if _private(alias.name):
                        found.append(f"{filename}:{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and _ours(node.module):
            for alias in node.names:
                if _private(node.module) or alias.name.startswith("_"):
                    found.append(f"{filename}:{node.lineno}: from {node.module} import {alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            found.append(f"{filename}:{node.lineno}: {node.value.id}.{node.attr}")
        if isinstance(node, ast.Call):
            found += [
                f"{filename}:{node.lineno}: argument {kw.arg}="
                for kw in node.keywords
                if kw.arg is not None and kw.arg.startswith("_")
            ]
    return found


def test_no_module_in_desktop_uses_a_private_name() -> None:
    files = sorted(ROOT.rglob("*.py"))
    assert len(files) > 50  # the whole package is scanned
    problems = [p for f in files for p in private_uses(f.read_text(encoding="utf-8"), str(f.relative_to(ROOT)))]
    assert problems == []


@pytest.mark.parametrize(
    "source",
    [
        "from azure.identity._internal import AuthCodeRedirectServer",
        "from azure.identity._persistent_cache import _load_persistent_cache",
        "from azure.identity import _internal",
        "import azure.identity._internal",
        "import msal\nmsal._private_helper()",
        "from msal import token_cache as tc\ntc._x",
        "from azure.identity import InteractiveBrowserCredential\nInteractiveBrowserCredential(_server_class=object)",
    ],
)
def test_the_check_catches_private_names(source: str) -> None:
    assert private_uses(source)


def test_the_check_allows_public_names() -> None:
    source = (
        "import msal\nfrom azure.identity import AuthenticationRecord, TokenCachePersistenceOptions\n"
        "msal.TokenCache.CredentialType\nAuthenticationRecord.deserialize('{}')\n"
    )
    assert private_uses(source) == []
