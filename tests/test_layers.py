"""The layers import downwards only: inference code never loads training code."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import kinema

ROOT = Path(kinema.__file__).parent
INFERENCE = ("engines", "models", "io", "ops", "weights")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("layer", INFERENCE)
def test_no_inference_module_names_training_code(layer):
    for path in sorted((ROOT / layer).rglob("*.py")):
        bad = sorted(n for n in _imports(path) if n == "kinema.train" or n.startswith("kinema.train."))
        assert not bad, f"{path.relative_to(ROOT.parent)} imports {bad}"


def test_importing_every_inference_module_loads_no_training_code():
    modules = [
        ".".join(path.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__")
        for layer in INFERENCE
        for path in sorted((ROOT / layer).rglob("*.py"))
    ]
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print(sorted(m for m in sys.modules if m.startswith('kinema.train')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
