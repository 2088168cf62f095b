"""flex_emulator's public surface is finished: every public class, method and property has a docstring, and
docs/harness.md names every public method of the world, its accounts and HOMEs."""

import inspect
import re
from pathlib import Path

import flex_emulator
from flex_emulator import answers, details, plugin, servers, subprocesses, transport

ROOT = Path(__file__).resolve().parents[2]
MODULES = (flex_emulator, answers, details, plugin, servers, subprocesses, transport)


def public_classes() -> list[type]:
    found: dict[str, type] = {}
    for module in MODULES:
        names = getattr(module, "__all__", None) or [name for name in vars(module) if not name.startswith("_")]
        for name in names:
            value = getattr(module, name)
            if inspect.isclass(value) and value.__module__.startswith("flex_emulator"):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def undocumented() -> list[str]:
    missing = []
    for cls in public_classes():
        if not inspect.getdoc(cls):
            missing.append(cls.__qualname__)
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
                continue
            owner = next((base for base in cls.__mro__ if name in vars(base)), cls)
            if owner.__module__.startswith("flex_emulator") and not (member.__doc__ or "").strip():
                missing.append(f"{owner.__qualname__}.{name}")
    return sorted(set(missing))


def test_every_public_class_and_method_has_a_docstring() -> None:
    assert len(public_classes()) >= 15
    assert undocumented() == []


def test_the_harness_guides_table_names_every_method_of_the_world_its_accounts_and_homes() -> None:
    guide = (ROOT / "docs" / "harness.md").read_text()
    table = guide.split("## What a world offers", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"[a-z_]+", " ".join(re.findall(r"`([^`]+)`", table))))
    for cls in (flex_emulator.World, flex_emulator.Account, flex_emulator.Home):
        methods = {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}
        fields = set(getattr(cls, "__dataclass_fields__", {}))
        assert sorted(methods - fields - named) == [], cls.__name__
