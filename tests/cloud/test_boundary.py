"""Only cloud/ talks to AWS: no other module of the project imports boto3 or botocore."""

from __future__ import annotations

import ast
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".venv", "node_modules", "var", "staticfiles", ".git"}
ALLOWED = [ROOT / "cloud", ROOT / "tests" / "cloud"]
AWS_SDK = {"boto3", "botocore"}


def _project_files() -> list[Path]:
    files = []
    for folder, subfolders, names in os.walk(ROOT):
        here = Path(folder)
        # Prune while walking: the virtualenv alone holds tens of thousands of files.
        subfolders[:] = [name for name in subfolders if name not in SKIPPED and here / name not in ALLOWED]
        files.extend(here / name for name in names if name.endswith(".py"))
    return files


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            roots.add(node.args[0].value.split(".")[0])
    return roots


def test_no_module_outside_cloud_imports_boto3_or_botocore():
    files = _project_files()
    offenders = sorted(str(path.relative_to(ROOT)) for path in files if _imported_roots(path) & AWS_SDK)

    assert len(files) > 20  # the walk did find the project
    assert offenders == [], "Call AWS through cloud/ (cloud.client, cloud.adapters) instead of importing boto3 here."


def test_the_check_catches_an_import(tmp_path):
    sample = tmp_path / "sneaky.py"
    sample.write_text("import importlib\nfrom botocore.exceptions import ClientError\n")

    assert _imported_roots(sample) & AWS_SDK == {"botocore"}
