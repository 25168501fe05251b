"""The package's layout stays as the README draws it: no import circle, no private name imported
across modules, no module over 400 lines without a reason, and the README's map lists every module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sentiment_rnn"
LONG_MODULE_LINES = 400
LONG_MODULE_REASON = "Longer than 400 lines because"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, modules: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """Every sentiment_rnn module ``path`` imports (at the top or inside a function), with the names taken."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name.startswith("sentiment_rnn")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("sentiment_rnn"):
            names = [alias.name for alias in node.names]
            submodules = [f"{node.module}.{name}" for name in names if f"{node.module}.{name}" in modules]
            found += [(module, []) for module in submodules]
            taken = [name for name in names if f"{node.module}.{name}" not in modules]
            if taken:
                found.append((node.module, taken))
    return found


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for imported, _ in imports_of(path, modules):
            if imported != name and imported in modules:
                graph[name].add(imported)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first = last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_circle():
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_private_name_is_imported_across_modules():
    modules = package_modules()
    private = [
        f"{name} imports {imported}.{taken}"
        for name, path in modules.items()
        for imported, names in imports_of(path, modules)
        for taken in names
        if taken.startswith("_") and not taken.startswith("__")
    ]
    assert private == []


def test_long_modules_say_why_at_their_top():
    too_long = []
    for name, path in package_modules().items():
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if len(text.splitlines()) > LONG_MODULE_LINES and LONG_MODULE_REASON not in docstring:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
    assert too_long == []


def readme_map() -> list[str]:
    """The module paths listed in the README's "Where things are" block, e.g. ``sentiment_rnn/data/formats.py``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Where things are", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    paths, folder = [], ""
    for line in section.splitlines():
        match = re.match(r"^(\s*)(\S+)", line)
        if not match:
            continue
        indent, entry = len(match[1]), match[2]
        if indent == 0:
            folder = entry if entry.endswith("/") else ""
            if not entry.endswith("/"):
                paths.append(entry)
        elif indent == 2 and entry.endswith("/"):
            folder = "sentiment_rnn/" + entry
        elif indent == 2:
            folder = "sentiment_rnn/"
            paths.append(folder + entry)
        else:
            paths.append(folder + entry)
    return paths


def test_the_readme_map_lists_every_module_and_no_other():
    actual = sorted(str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py"))
    assert sorted(p for p in readme_map() if p.startswith("sentiment_rnn/")) == actual


def test_pyproject_installs_every_subpackage():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    packages = {module_name(path) for path in PACKAGE.rglob("__init__.py")}
    assert packages - listed == set()
