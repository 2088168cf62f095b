"""The layering docs/architecture.md draws, checked on the source: handlers only translate."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted(
    path
    for service in ("cloud", "home")
    for path in (ROOT / service).rglob("*.py")
    if path.name.startswith(("api", "pages_"))
)
SERVICES = ("cloud", "home", "shared")


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def is_handler_module(name: str) -> bool:
    return name.split(".")[-1].startswith(("api", "pages_")) and name.split(".")[0] in ("cloud", "home")


def test_there_are_handler_modules_to_check() -> None:
    assert len(HANDLERS) >= 10


@pytest.mark.parametrize("path", HANDLERS, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_handler_module_imports_no_other_handler_module(path: Path) -> None:
    others = {name for name in imported_modules(path) if is_handler_module(name)}
    assert not others, f"{path.name} imports handler modules {others}: move what they share to a service or kit"


@pytest.mark.parametrize("path", HANDLERS, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_handler_opens_no_transaction_and_writes_no_sql(path: Path) -> None:
    tree = ast.parse(path.read_text())
    calls = {
        node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert "transaction" not in calls, f"{path.name} opens a transaction: that is a service's job"
    strings = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    sql = [text for text in strings if text.lstrip().upper().startswith(("SELECT ", "INSERT ", "UPDATE ", "DELETE "))]
    assert not sql, f"{path.name} holds SQL: it belongs in the store"


def test_no_service_imports_the_tests() -> None:
    for service in (*SERVICES, "scripts", "flex_emulator"):
        for path in (ROOT / service).rglob("*.py"):
            assert not any(name.split(".")[0] == "tests" for name in imported_modules(path)), path


def test_no_test_module_imports_another_test_module() -> None:
    for path in (ROOT / "tests").rglob("*.py"):
        tests_imported = {
            name for name in imported_modules(path) if name.startswith("tests.") and "test_" in name.split(".")[-1]
        }
        assert not tests_imported, f"{path} imports {tests_imported}: share it through tests/kit/"
