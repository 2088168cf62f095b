"""The layering docs/architecture.md draws, checked on the source by folder: one import root, each folder
imports only the folders below it, and handlers only translate."""

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("cloud", "home", "shared", "flex_emulator", "tests", "scripts", "docs")
NOT_HANDLERS = ("__init__.py", "routes.py", "kit.py", "view_models.py", "graph.py", "shapes.py", "uploads.py")

# What each folder of a service may import from its own service, besides itself (the longest folder that
# matches a module wins). ``top`` is the wiring at the service's root: app, __main__, appkeys; ``config``
# is the one frozen Config every layer may read.
LAYERS: dict[str, dict[str, set[str]]] = {
    "cloud": {
        "web/api": {"web", "domain", "link", "emulator", "config", "appkeys"},
        "web/pages": {"web", "domain", "link", "emulator", "config", "appkeys"},
        "web": {"domain", "link", "config", "appkeys"},
        "emulator": {"web", "domain", "link", "store", "config", "appkeys"},
        "domain": {"link", "store", "config"},
        "link": set(),
        "store": {"domain/models"},
        "config": set(),
    },
    "home": {
        "fleet": {"web", "domain", "link", "store", "config", "appkeys", "top"},
        "web/pages": {"web", "domain", "link", "config", "appkeys"},
        "web": {"domain", "link", "config", "appkeys"},
        "emulator": {"domain", "link", "config", "appkeys"},
        "link": {"domain"},
        "domain": {"store", "config"},
        "store": {"domain/models"},
        "config": set(),
    },
}


def python_files(folder: str) -> list[Path]:
    """Every module under ``folder``, not following the links flex_emulator/{cloud,home,shared} (seen once)."""
    return sorted(
        Path(here) / name
        for here, _, names in os.walk(ROOT / folder)  # os.walk does not enter linked folders
        for name in names
        if name.endswith(".py")
    )


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def area(service: str, relative: str) -> str:
    """The layer of a path inside a service (``web/api/credits``, ``domain/models``) by its longest folder."""
    for name in sorted(LAYERS[service], key=len, reverse=True):
        if relative == name or relative.startswith(name + "/"):
            return name
    if relative == "domain/models" or relative.startswith("domain/models"):
        return "domain/models"
    return relative.split("/", 1)[0] if "/" in relative else ("config" if relative == "config" else "top")


def target_area(service: str, module: str) -> str | None:
    """The layer an imported ``flex_emulator.<service>.…`` name belongs to, or None for another package."""
    parts = module.split(".")
    if parts[:2] != ["flex_emulator", service]:
        return None
    relative = "/".join(parts[2:])
    while relative and not (ROOT / service / relative).with_suffix(".py").exists():
        if (ROOT / service / relative).is_dir():
            break
        relative = relative.rsplit("/", 1)[0] if "/" in relative else ""
    if relative.startswith("domain/models"):
        return "domain/models"
    if relative in ("appkeys", "config"):
        return relative
    return area(service, relative) if relative else "top"


HANDLERS = sorted(
    path
    for service in ("cloud", "home")
    for path in python_files(service)
    if path.name not in NOT_HANDLERS
    and (
        path.parent.name in ("api", "pages")
        or path.name.startswith("api")
        or path.relative_to(ROOT / service).as_posix() in ("web/api.py", "fleet/api.py")
    )
)


def is_handler_module(name: str) -> bool:
    parts = name.split(".")
    if parts[:1] != ["flex_emulator"] or len(parts) < 3 or parts[1] not in ("cloud", "home"):
        return False
    path = ROOT.joinpath(*parts[1:]).with_suffix(".py")
    return path in HANDLERS


def test_there_are_modules_and_handler_modules_to_check() -> None:
    assert len(HANDLERS) >= 15
    assert len(python_files("cloud")) >= 50 and len(python_files("home")) >= 30


@pytest.mark.parametrize("folder", SOURCES)
def test_everything_imports_the_services_through_the_one_import_root(folder: str) -> None:
    for path in python_files(folder):
        bare = {name for name in imported_modules(path) if name.split(".")[0] in ("cloud", "home", "shared")}
        assert not bare, f"{path.relative_to(ROOT)} imports {bare}: say flex_emulator.cloud / .home / .shared"


@pytest.mark.parametrize("service", ["cloud", "home"])
def test_each_folder_imports_only_the_layers_below_it(service: str) -> None:
    problems = []
    for path in python_files(service):
        relative = path.relative_to(ROOT / service).with_suffix("").as_posix()
        own = area(service, relative)
        if own == "top":
            continue  # app.py, __main__.py and appkeys.py wire the layers together
        allowed = LAYERS[service].get(own, set()) | {own}
        for name in imported_modules(path):
            other = "home" if service == "cloud" else "cloud"
            if name.startswith(f"flex_emulator.{other}"):
                problems.append(f"{relative} imports {name}: the two services share only flex_emulator.shared")
            target = target_area(service, name)
            if target is None or target == own or target in allowed:
                continue
            if target.split("/")[0] in allowed and target != "top":
                continue
            problems.append(f"{relative} ({own}) imports {name} ({target})")
    assert not problems, "\n".join(problems)


def test_shared_imports_neither_service() -> None:
    for path in python_files("shared"):
        services = {
            name for name in imported_modules(path) if name.startswith(("flex_emulator.cloud", "flex_emulator.home"))
        }
        assert not services, f"{path.name} imports {services}: shared sits below both services"


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
    stores = {name for name in imported_modules(path) if ".store" in name}
    assert not stores, f"{path.name} imports the store {stores}: a handler calls a service"


def test_no_service_imports_the_tests() -> None:
    for service in ("cloud", "home", "shared", "scripts", "flex_emulator"):
        for path in python_files(service):
            assert not any(name.split(".")[0] == "tests" for name in imported_modules(path)), path


def test_no_test_module_imports_another_test_module() -> None:
    for path in python_files("tests"):
        tests_imported = {
            name for name in imported_modules(path) if name.startswith("tests.") and "test_" in name.split(".")[-1]
        }
        assert not tests_imported, f"{path} imports {tests_imported}: share it through tests/kit/"
