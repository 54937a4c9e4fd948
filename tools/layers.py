"""The layers of symflow, as data, and the imports that break them.

    python tools/layers.py symflow      # one line per import from a lower layer to a higher one (or sideways)

Each top-level module or package of ``symflow`` sits in one layer; a module may import from its own package
and from strictly lower layers only. Two packages in the same layer are peers and import neither each other
(unless the pair is listed in ``SIDEWAYS`` with the reason). ``tests/test_architecture.py`` runs the check,
and also checks that every top-level module is placed in some layer, so a new package has to be placed
on purpose. Imports are counted as ``tools/import_cycles.py`` counts them (module level and inside
functions).
"""
from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from import_cycles import import_graph  # noqa: E402

#: Low to high. The names are top-level modules or packages of ``symflow`` ("symflow" is the package's own
#: ``__init__``: the flat namespace, which loads the rest lazily).
LAYERS = [
    ("base", ["_version", "errors"]),
    ("utilities", ["validation", "provenance", "blas", "progress", "statistics", "outputs", "resources", "interrupts"]),
    ("groups", ["groups"]),
    ("neuron", ["neuron"]),
    ("theory", ["theory"]),
    ("codegen", ["codegen"]),
    ("dynamics", ["dynamics"]),
    ("analyses", ["landscape", "modular", "theories", "testing", "mirrors"]),
    ("studies", ["li2", "study", "atlas"]),
    ("commands", ["commands"]),
    ("cli", ["cli"]),
    ("entry", ["__main__", "symflow"]),
]

#: Imports between peers of one layer that are allowed, with the reason (none today).
SIDEWAYS: dict = {}


def layer_of() -> dict:
    """``{top-level name: layer index}``."""
    return {name: i for i, (_, names) in enumerate(LAYERS) for name in names}


def top(module: str) -> str:
    """``symflow.theory.rates.numeric`` -> ``theory``; ``symflow`` -> ``symflow``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def violations(root) -> list:
    """``[(importer, imported, why)]`` for every import that goes up a layer or sideways, and every
    top-level module that has no layer."""
    graph = import_graph(root)
    layers = layer_of()
    out = []
    unplaced = sorted({top(m) for m in graph} - set(layers))
    out += [(name, "", "not placed in any layer of tools/layers.py") for name in unplaced]
    for m, deps in sorted(graph.items()):
        a = top(m)
        for d in sorted(deps):
            b = top(d)
            if a == b or a not in layers or b not in layers:
                continue
            if layers[b] > layers[a]:
                out.append((m, d, f"imports from a higher layer ({LAYERS[layers[b]][0]} above {LAYERS[layers[a]][0]})"))
            elif layers[b] == layers[a] and (a, b) not in SIDEWAYS:
                out.append((m, d, f"imports a peer of its layer ({LAYERS[layers[a]][0]})"))
    return out


if __name__ == "__main__":
    found = violations(sys.argv[1] if len(sys.argv) > 1 else "symflow")
    for importer, imported, why in found:
        print(f"{importer} -> {imported}: {why}" if imported else f"{importer}: {why}")
    sys.exit(1 if found else 0)
