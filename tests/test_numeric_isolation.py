"""numeric/ is the NumPy side: no module in it imports sympy or derive, directly or not."""
from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import numeric

FORBIDDEN = ("sympy", "derive")
MODULES = sorted(m.name for m in pkgutil.iter_modules(numeric.__path__))


def _imports(path: Path) -> set:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            names |= {a.value.split(".")[0] for a in node.args if isinstance(a, ast.Constant)}
    return names


@pytest.mark.parametrize("name", MODULES)
def test_no_numeric_module_names_sympy_or_derive(name):
    path = Path(numeric.__file__).parent / f"{name}.py"
    assert not _imports(path) & set(FORBIDDEN)


def test_importing_all_of_numeric_loads_neither():
    code = ("import sys, importlib\n"
            f"for m in {MODULES!r}: importlib.import_module('numeric.' + m)\n"
            f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
            "print(bad)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=Path(numeric.__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["numeric.layercase", "numeric.verify", "numeric.watch",
                                    "numeric.cases", "derive.files", "derive.argv",
                                    "derive.verification", "derive.commands.verify_cmd",
                                    "derive.commands.layer_args"])
def test_doctests_of_the_new_modules(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
