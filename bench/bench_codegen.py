"""Benchmark: code generation time, and generated code vs plain ``sympy.lambdify``.

Run: ``python bench/bench_codegen.py [--groups F21,S4,S5] [--width 256] [--repeat 20]``
(add S6 for d up to 16; its block flows take a while to derive).

Table 1 (codegen time per model): deriving the block flows (theory engine, first call in this
process), generating the module (cse or matrix form), importing it.
Table 2 (per block dimension d, arrays of ``width`` neurons x k irreps): time of one evaluation of
omega_block and all drives by
  * the generated module (``style=auto``, and both styles: the entries/matrix crossover that sets
    ``AUTO_MATRIX_FROM_D``),
  * the baseline ``sympy.lambdify`` of the same entry expressions without cse (and with cse;
    skipped without cse for d > 8, and reported as failing where Python cannot compile it),
and the ratio baseline / generated.
Table 3 (start-up): a fresh Python process loading each model's kernels from the warm cache
(``flow_kernels``): wall time and whether SymPy got imported (a cache hit should not need it).
All numbers are measured in this run; no assertions.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sympy as sp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from symflow.codegen import flow_kernels  # noqa: E402
from symflow.codegen.cache import load_module, write_atomic  # noqa: E402
from symflow.codegen.expressions import flow_expressions  # noqa: E402
from symflow.codegen.generator import AUTO_MATRIX_FROM_D, generate_source  # noqa: E402
from symflow.theory import Model  # noqa: E402


def timeit(fn, repeat):
    fn()
    best = np.inf
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - t) / repeat)
    return best


def codegen_times(name):
    model = Model(name)
    t0 = time.perf_counter()
    fx = flow_expressions(model)
    t1 = time.perf_counter()
    src = generate_source(model, fx=fx)
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "flow.py")
        write_atomic(path, src.source)
        load_module(path)
    t3 = time.perf_counter()
    return model, fx, src, (t1 - t0, t2 - t1, t3 - t2)


def lambdified(be, use_cse):
    syms = [s for nm in be.names for s in be.blocks[nm]]
    exprs = [be.omega_block] + [e for nm in be.names for e in be.drive[nm]]
    t = time.perf_counter()
    f = sp.lambdify([be.n] + syms, exprs, modules="numpy", cse=use_cse)
    return f, time.perf_counter() - t


_FRESH_LOAD = """
import sys, time
t = time.perf_counter()
from symflow.codegen import flow_kernels
from symflow.theory import Model
k = flow_kernels(Model({name!r}))
print(f"{{time.perf_counter() - t:.3f}} {{not k.generated}} {{'sympy' in sys.modules}}")
"""


def fresh_load(name):
    """``(seconds, cache hit, SymPy imported)`` of loading ``name``'s kernels in a new process."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    out = subprocess.run([sys.executable, "-c", _FRESH_LOAD.format(name=name)], cwd=root, env=dict(os.environ),
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), out[1] == "True", out[2] == "True"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", default="F21,S4,S5")
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args(argv)
    os.environ.setdefault("SYMFLOW_CACHE", tempfile.mkdtemp(prefix="symflow_bench_"))
    rng = np.random.default_rng(0)

    print(f"symflow codegen benchmark (SymPy {sp.__version__}, NumPy {np.__version__}); "
          f"AUTO_MATRIX_FROM_D = {AUTO_MATRIX_FROM_D}\n")
    print("Table 1: code generation time")
    print(f"{'model':8s} {'dims':>14s} {'derive s':>9s} {'generate s':>11s} {'import s':>9s} {'lines':>6s}")
    rows = []
    for name in args.groups.split(","):
        model, fx, src, (td, tg, ti) = codegen_times(name)
        print(f"{name:8s} {str(fx.dims):>14s} {td:9.3f} {tg:11.3f} {ti:9.3f} {len(src.source.splitlines()):6d}")
        rows.append((model, fx))

    print("\nTable 2: one evaluation of omega_block + drives, width "
          f"{args.width} x k irreps (ms); ratios = lambdify / generated(auto)")
    print(f"{'model':6s} {'d':>3s} {'k':>3s} {'auto':>8s} {'entries':>9s} {'matrix':>8s} {'lambdify':>9s} "
          f"{'lamb+cse':>9s} {'ratio':>7s} {'ratio cse':>9s}")
    for model, fx in rows:
        mods = {st: flow_kernels(model, style=st).module for st in ("auto", "entries", "matrix")}
        G = model.group
        for d in fx.dims:
            be = fx.blocks[d]
            k = len(G.irreps_by_dim[d])
            arrs = [rng.standard_normal((args.width, k, d, d)) + 1j * rng.standard_normal((args.width, k, d, d))
                    for _ in be.names]
            n = G.order
            times = {st: timeit(lambda m=m: m.BLOCK_TERMS[d](*arrs, n), args.repeat) for st, m in mods.items()}
            entries = [a[..., i, j] for a in arrs for i in range(d) for j in range(d)]
            lam = {}
            for use_cse in (False, True):
                if d > 8 and not use_cse:
                    lam[use_cse] = np.nan  # d^3 terms per entry without cse: minutes, skipped
                    continue
                try:
                    f, _ = lambdified(be, use_cse)
                except RecursionError:  # Python cannot compile lambdify's single-line sums at d = 16
                    lam[use_cse] = np.nan
                    print(f"  ({G.name} d={d}: sympy.lambdify(cse={use_cse}) fails to compile: RecursionError)")
                    continue
                lam[use_cse] = timeit(lambda f=f: f(n, *entries), max(2, args.repeat // 4))
            print(f"{G.name:6s} {d:3d} {k:3d} {times['auto'] * 1e3:8.3f} {times['entries'] * 1e3:9.3f} "
                  f"{times['matrix'] * 1e3:8.3f} {lam[False] * 1e3:9.3f} {lam[True] * 1e3:9.3f} "
                  f"{lam[False] / times['auto']:7.2f} {lam[True] / times['auto']:9.2f}")

    print("\nTable 3: start-up, kernels from the warm cache in a fresh process")
    print(f"{'model':8s} {'seconds':>8s} {'cache hit':>9s} {'sympy imported':>14s}")
    for model, _ in rows:
        seconds, hit, sympy_imported = fresh_load(model.group.name)
        print(f"{model.group.name:8s} {seconds:8.3f} {str(hit):>9s} {str(sympy_imported):>14s}")


if __name__ == "__main__":
    main()
