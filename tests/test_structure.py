"""The package's structure, read from its source with ``ast``.

- no import cycle between optviz modules (imports inside functions count: a cycle hidden
  by a function-local import is still a cycle);
- no private name (``_x``) imported from another module, and a private module
  (``optviz.plot._style``) imported only from inside its own package;
- no module over 400 lines and no function over 80 lines (counted from the first
  statement after the docstring to the end of the function);
- no citation of documents that are not in the repository ("SPEC §", "seed 00…"): the
  math reference the code cites is ``docs/math.md``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "optviz"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str, mods: dict[str, Path]) -> bool:
    return mods[name].name == "__init__.py"


def resolve(node: ast.ImportFrom, importer: str, mods: dict[str, Path]) -> str:
    """The absolute module an ``import from`` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package(importer, mods):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(name: str, path: Path, mods: dict[str, Path]) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import in the module, at any depth."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(node, name, mods)
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in mods:
                    out.append((sub, None, node.lineno))
                else:
                    out.append((target, a.name, node.lineno))
    return [entry for entry in out if entry[0] == "optviz" or entry[0].startswith("optviz.")]


def graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for target, _, _ in imports(name, path, mods):
            while target not in mods and "." in target:
                target = target.rsplit(".", 1)[0]
            # importing a package runs its __init__; a package's own modules importing
            # the package itself for its version or lazy table are not an edge back
            if target in mods and target != name and not name.startswith(target + "."):
                edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    assert cycles(graph(modules())) == []


def private_imports(mods: dict[str, Path]) -> list[str]:
    bad = []
    for name, path in mods.items():
        package = name if is_package(name, mods) else name.rsplit(".", 1)[0]
        for target, imported, line in imports(name, path, mods):
            where = f"{path.relative_to(ROOT)}:{line}"
            if imported is not None and imported.startswith("_") and not imported.startswith("__"):
                bad.append(f"{where} imports the private name {imported} from {target}")
            private = [p for p in target.split(".") if p.startswith("_") and not p.startswith("__")]
            if private:
                owner = target.rsplit(".", 1)[0]
                if not (package == owner or package.startswith(owner + ".")):
                    bad.append(f"{where} imports {target}, private to {owner}")
    return bad


def test_no_private_name_imported_across_modules():
    assert private_imports(modules()) == []


def test_no_module_over_400_lines():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def function_lengths(path: Path) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str) and len(body) > 1:
                body = body[1:]
            out.append((node.name, node.end_lineno - body[0].lineno + 1))
    return out


def test_no_function_over_80_lines():
    long = [f"{path.relative_to(ROOT)}:{fn} {n}" for path in modules().values()
            for fn, n in function_lengths(path) if n > MAX_FUNCTION_LINES]
    assert long == []


CITATION = re.compile(r"SPEC\s*§|SPEC\.md|seed\s*00\d")


def test_no_citation_of_documents_outside_the_repository():
    found = [f"{path.relative_to(ROOT)}:{i}" for path in modules().values()
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if CITATION.search(line)]
    assert found == []


def test_the_cited_math_reference_is_in_the_repository():
    text = (ROOT / "docs" / "math.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)[. ]", text, flags=re.M))
    cited = {m for path in modules().values()
             for m in re.findall(r"docs/math\.md §(\d+(?:\.\d+)?)", path.read_text(encoding="utf-8"))}
    assert cited, "the package cites docs/math.md"
    assert cited - sections == set()


@pytest.mark.parametrize("checker", [cycles])
def test_the_cycle_finder_finds_a_cycle(checker):
    assert checker({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_the_private_import_check_sees_a_function_local_import(tmp_path, monkeypatch):
    pkg = tmp_path / "optviz"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def _hidden():\n    pass\n")
    (pkg / "b.py").write_text("def f():\n    from optviz.a import _hidden\n    return _hidden\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    mods = {module_name(p): p for p in sorted(pkg.rglob("*.py"))}
    assert len(private_imports(mods)) == 1
    assert graph(mods)["optviz.b"] == {"optviz.a"}


def library_messages_naming_flags(mods: dict[str, Path]) -> list[str]:
    """Error messages outside the command line that spell a flag (``--lr``) instead of a field."""
    bad = []
    for name, path in mods.items():
        if name == "optviz.cli" or name.startswith("optviz.cli."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "OptvizError":
                for part in ast.walk(node):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str) \
                            and re.search(r"(^|[\s(])--[a-z]", part.value):
                        bad.append(f"{path.relative_to(ROOT)}:{part.lineno}: {part.value[:60]!r}")
    return bad


def test_library_errors_name_keywords_not_flags():
    assert library_messages_naming_flags(modules()) == []


def test_drawing_code_reads_records_not_the_api_or_function_files():
    mods = modules()
    bad = [f"{name} imports {target}" for name, path in mods.items() if name.startswith("optviz.plot")
           for target, imported, _ in imports(name, path, mods)
           if target.startswith(("optviz.api", "optviz.library", "optviz.cli")) or imported == "read_toml"]
    assert bad == []


def test_the_numerical_core_imports_no_drawing_or_command_line_code():
    core = ("optviz.optim", "optviz.nn", "optviz.runner", "optviz.objective", "optviz.expr", "optviz.oracles",
            "optviz.batch", "optviz.trajectory", "optviz.recording", "optviz.settings", "optviz.api")
    heavy = ("matplotlib", "typer", "rich", "optviz.plot", "optviz.cli", "optviz.report")
    bad = []
    for name, path in modules().items():
        if not name.startswith(core):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad += [f"{name} imports {t}" for t in targets if t.startswith(heavy)]
    assert bad == []
