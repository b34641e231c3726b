"""Every service folder has the same shape, and no service imports another (STYLE.md, issue 17)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
SHAPE = ("domain.py", "handlers.py", "adapters/__init__.py", "entrypoint.py", "bootstrap.py", "settings.py")
# the project's own MCP server runs in .venv-mcp, which lacks what runtime needs
MCP_SERVER_MAY_NOT_IMPORT = ("runtime",)


def service_folders(root: Path = SERVICES) -> list[Path]:
    return sorted(p.parent for p in root.glob("*/__init__.py"))


def missing_parts(service: Path) -> list[str]:
    return [part for part in SHAPE if not (service / part).is_file()]


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module ``path`` imports, relative imports resolved against ``package`` (its own)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            names |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return names


def foreign_imports(service: Path, root: Path = SERVICES) -> list[str]:
    """``file: module`` for each import of another service (or, for the MCP server, of runtime)."""
    own = f"{root.name}.{service.name}"
    others = [f"{root.name}.{p.name}" for p in service_folders(root) if p != service]
    forbidden = others + (list(MCP_SERVER_MAY_NOT_IMPORT) if service.name == "mcp_server" else [])
    found = []
    for path in sorted(service.rglob("*.py")):
        package = ".".join([own, *path.relative_to(service).parent.parts])
        for module in sorted(imported_modules(path, package)):
            if any(module == name or module.startswith(f"{name}.") for name in forbidden):
                found.append(f"{path.relative_to(root.parent)}: {module}")
    return found


def test_there_are_services_to_check() -> None:
    assert {p.name for p in service_folders()} >= {"api", "ingest", "converter", "progress", "mcp_server"}


@pytest.mark.parametrize("service", service_folders(), ids=lambda p: p.name)
def test_each_service_has_the_shape(service: Path) -> None:
    assert missing_parts(service) == [], f"services/{service.name} lacks {missing_parts(service)}"


@pytest.mark.parametrize("service", service_folders(), ids=lambda p: p.name)
def test_no_service_imports_another(service: Path) -> None:
    assert foreign_imports(service) == []


def test_the_checks_can_fail(tmp_path: Path) -> None:
    root = tmp_path / "services"
    for name in ("alpha", "beta"):
        (root / name / "adapters").mkdir(parents=True)
        for part in SHAPE:
            (root / name / part).write_text("")
        (root / name / "__init__.py").write_text("")
    (root / "beta" / "bootstrap.py").unlink()
    (root / "alpha" / "handlers.py").write_text("from services.beta import domain\n")
    (root / "alpha" / "adapters" / "x.py").write_text(
        "from ...beta.adapters import y\nimport services.alpha\n"
    )
    (root / "beta" / "domain.py").write_text("from . import settings\nfrom .adapters import z\n")
    assert missing_parts(root / "alpha") == []
    assert missing_parts(root / "beta") == ["bootstrap.py"]
    assert foreign_imports(root / "alpha", root) == [
        "services/alpha/adapters/x.py: services.beta.adapters",
        "services/alpha/adapters/x.py: services.beta.adapters.y",
        "services/alpha/handlers.py: services.beta",
        "services/alpha/handlers.py: services.beta.domain",
    ]
    assert foreign_imports(root / "beta", root) == []
