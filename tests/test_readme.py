"""README's two set-up commands are the ones CI and users run."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bash_blocks(text):
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, re.S)]


def test_ci_runs_readmes_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = _bash_blocks(readme)
    test_cmd = next(b for b in blocks if "pytest" in b)
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd in ci


def test_readme_main_command_builds_the_docs():
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    assert any(b.endswith("derive docs") and "pip install" in b for b in blocks)
