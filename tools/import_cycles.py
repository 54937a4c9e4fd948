"""Import cycles among the modules of a package, counting every import statement (module level and
inside functions, since a function-level import that closes a cycle is still a cycle of ideas).

    python tools/import_cycles.py symflow      # one line per cycle; exit 1 if there is any

``from . import x`` where ``x`` is a submodule counts as an import of the submodule only (not of the
package's ``__init__``). Used by ``tests/test_architecture.py``.
"""
from __future__ import annotations

import ast
import pathlib
import sys


def import_graph(root) -> dict:
    """``{module: set of modules of the same package it imports}`` for the package folder ``root``."""
    root = pathlib.Path(root).resolve()
    mods = {}
    for p in root.rglob("*.py"):
        parts = list(p.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = p
    graph = {m: set() for m in mods}
    for m, p in mods.items():
        base = m.split(".") if p.name == "__init__.py" else m.split(".")[:-1]
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    b = base[:len(base) - (node.level - 1)]
                    target = ".".join(b + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for a in node.names:
                    sub = target + "." + a.name
                    dep = sub if sub in mods else target
                    if dep in mods and dep != m:
                        graph[m].add(dep)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in mods and a.name != m:
                        graph[m].add(a.name)
    return graph


def import_cycles(root) -> list:
    """Strongly connected components of more than one module (Tarjan), each a sorted list."""
    graph = import_graph(root)
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
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
                out.append(sorted(comp))

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return sorted(out)


if __name__ == "__main__":
    cycles = import_cycles(sys.argv[1] if len(sys.argv) > 1 else "symflow")
    for c in cycles:
        print(" <-> ".join(c))
    sys.exit(1 if cycles else 0)
