"""Benchmark: the reduced Fourier flow vs the brute-force parameter-space flow, and the targets.

Run: ``python bench/bench_reduced.py [--quick] [--workers N] [--skip-targets] [--skip-scaling]``

Table 1 (scaling): time of one right-hand-side evaluation per neuron, reduced flow (generated
code on the integrators' working arrays: compact rows when the group has complex-conjugate pairs of
irreps, stored part by part, chunked as the integrators run it) vs
``symflow.neuron.bruteforce.flow`` (Cayley-table sums, ``O(n^2)`` per neuron; skipped when its
``n x n`` gather would exceed ~1 GB), with the cost models ``sum_rho d_rho^3`` and ``n^2``.

Table 2 (targets, issue 4), each with ``workers = 1`` and ``workers = N`` (default: all CPUs):
  * Z_1009, shared, M = 10^4, uniform start, to equilibrium (every neuron at |grad| < gtol;
    target < 60 s on 2 cores); reference in the same run: the same problem with fixed-step RK4;
  * S5, M = 1024, to equilibrium (target < 60 s);
  * F21, M = 512, separate spheres: ``run_until_aligned`` (>= 95 % of neurons with
    sigma2/sigma1 < 0.1 and all cosines > 0.99), time and steps; baseline in the same run: the
    brute-force flow integrated with SciPy DOP853 in parameter space for a few neurons over the
    same time span (time per neuron, ratio). The comparison with parameter-space training loops
    is ``bench/bench_network.py``.
All numbers are measured in this run; nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from symflow.dynamics import ReducedFlow, initial, run_until_aligned, simulate  # noqa: E402
from symflow.dynamics.integrators import chunk_rows  # noqa: E402
from symflow.neuron import bruteforce
from symflow.theory import Model  # noqa: E402

SCALING = os.environ.get("SCALING_GROUPS", "Z101,Z1009,Z10007,D50,D500,F21,S4,S5,A5,S6").split(",")
BRUTE_MAX_BYTES = 1 << 30


def best_time(fn, repeat=3, inner=1):
    fn()
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t) / inner)
    return best


def rhs_time_reduced(model, M):
    """Per-neuron time of one evaluation as the integrators run it: compact rows (if the group has
    conjugate pairs), stored part by part, in chunks of ``chunk_rows``."""
    flow = ReducedFlow(model)
    work = flow.compact_flow() or flow
    y = initial.uniform(model, M, 0).data
    if work is not flow:
        y = work.compress(y)
    rows = min(M, chunk_rows(work.layout))
    chunks = []
    for a in range(0, M, rows):
        lay = work.layout.blocked(min(rows, M - a))
        chunks.append((lay, lay.from_rows(y[a:a + rows]), np.empty((lay.m, work.layout.size), dtype=np.complex128)))

    def run():
        for lay, yb, out in chunks:
            work.evaluate(yb, out=out, check=False, layout=lay)

    return best_time(run) / M


def rhs_time_brute(model, M):
    G = model.group
    n = G.order
    if 3 * M * n * n * 8 > BRUTE_MAX_BYTES:
        return np.nan
    p = initial._normalise(model, initial.gaussian_parameters(model, M, 0))
    return best_time(lambda: bruteforce.flow(G, p["theta1"], p["theta2"], p["xi"])) / M


def scaling_table(groups, M):
    print(f"Table 1: one RHS evaluation per neuron (M = {M}; brute force on min(M, 4) neurons)")
    print(f"{'group':8s} {'n':>6s} {'sum d^3':>8s} {'reduced us':>11s} {'us/sum d^3':>11s} "
          f"{'brute us':>10s} {'ns/n^2':>8s} {'brute/reduced':>14s}")
    for name in groups:
        try:
            model = Model(name)
            G = model.group
            dims = [1] * G.order if G.abelian_factors else [r.dim for r in G.irreps]
        except Exception as exc:  # a family not available in this checkout
            print(f"{name:8s} skipped: {exc}")
            continue
        t0 = time.perf_counter()
        try:
            tr = rhs_time_reduced(model, M)
        except Exception as exc:
            print(f"{name:8s} skipped: {exc}")
            continue
        setup = time.perf_counter() - t0
        tb = rhs_time_brute(model, min(M, 4))
        s3 = sum(d ** 3 for d in dims)
        n = G.order
        brute = "n/a" if np.isnan(tb) else f"{tb * 1e6:10.1f}"
        norm_b = "n/a" if np.isnan(tb) else f"{tb * 1e9 / n ** 2:8.3f}"
        ratio = "n/a" if np.isnan(tb) else f"{tb / tr:14.1f}"
        print(f"{name:8s} {n:6d} {s3:8d} {tr * 1e6:11.2f} {tr * 1e6 / s3:11.4f} {brute:>10s} {norm_b:>8s} {ratio:>14s}"
              f"   (codegen+setup {setup:.1f} s)")


def _timed_simulate(model, M, workers, **kw):
    t = time.perf_counter()
    res = simulate(model, width=M, seed=0, n_save=2, progress=False, workers=workers, **kw)
    wall = time.perf_counter() - t
    eq = res.equilibrium_time
    return res, wall, float(np.nanmax(eq)) if np.any(np.isfinite(eq)) else float("nan"), bool(np.all(np.isfinite(eq)))


def targets(workers, quick):
    print("\nTable 2: targets (wall time of the whole simulate call; generated code cached)")
    M_big = 1000 if quick else 10_000
    model = Model("Z1009", shared=True)
    simulate(model, width=4, seed=0, n_save=2, t_end=1.0, progress=False)   # load the generated code
    n = 1009
    for w in sorted({1, workers}):
        res, wall, eqmax, done = _timed_simulate(model, M_big, w)
        s = res.summary()
        print(f"Z1009 shared M={M_big}, workers={w}: {wall:.1f} s, {res.metadata['steps']} chunk steps, "
              f"{res.metadata['rhs_evaluations']} chunk RHS evaluations, every neuron at equilibrium: {done} "
              f"(last at t = {eqmax:.4g} = {eqmax / n ** 2:.3f} n^2), aligned {s['aligned_fraction']:.3f}   "
              f"[target M=10^4 < 60 s]")
    res, wall, eqmax, done = _timed_simulate(model, M_big, workers, dt=0.5 * n ** 1.5)
    print(f"   reference, same run: fixed-step RK4 dt = 0.5 n^1.5, workers={workers}: {wall:.1f} s, at equilibrium: "
          f"{done} (last at {eqmax / n ** 2:.3f} n^2)")
    try:
        s5_target(workers)
    except Exception as exc:
        print(f"S5 skipped: {exc}")
    try:
        model = Model("F21")
        run_until_aligned(model, width=512, seed=0)      # warm-up
        walls = []
        for _ in range(5):
            t = time.perf_counter()
            run = run_until_aligned(model, width=512, seed=0)
            walls.append(time.perf_counter() - t)
        print(f"F21 M=512 run_until_aligned: aligned {run.fraction:.3f} at t = {run.time:.4g} after {run.steps} "
              f"chunk steps ({run.evaluations} RHS evaluations), wall min {min(walls) * 1e3:.0f} ms, median "
              f"{np.median(walls) * 1e3:.0f} ms of 5")
        # baseline: brute-force parameter-space flow + SciPy DOP853, few neurons, same time span
        from scipy.integrate import solve_ivp

        G = model.group
        n = G.order
        Mb = 8
        p = initial._normalise(model, initial.gaussian_parameters(model, Mb, 0))
        y0 = np.concatenate([p["theta1"], p["theta2"], p["xi"]], axis=1).reshape(-1)

        def f(_, y):
            th1, th2, xi = np.split(y.reshape(Mb, 3 * n), 3, axis=1)
            return np.concatenate(bruteforce.flow(G, th1, th2, xi), axis=1).reshape(-1)

        t = time.perf_counter()
        sol = solve_ivp(f, (0, run.time), y0, method="DOP853", rtol=1e-8, atol=1e-11)
        tb = (time.perf_counter() - t) / Mb
        tr = min(walls) / 512
        print(f"  baseline brute force + DOP853: {tb * 1e3:.2f} ms per neuron ({sol.nfev} evaluations) vs reduced "
              f"{tr * 1e3:.3f} ms per neuron (whole run_until_aligned call): ratio {tb / tr:.1f}")
    except Exception as exc:
        print(f"F21 skipped: {exc}")


def _cpu_now() -> float:
    """CPU seconds of this process and its reaped children (the worker processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def brute_force_integration(model, M, t_end, seed=0, rtol=1e-6, atol=1e-9, width=None):
    """The baseline of issue 26's S5 goal: the same neurons (the first ``M`` of ``simulate``'s uniform start of
    ``width`` neurons, ``initial.uniform``), integrated in parameter space with the brute-force flow
    (``symflow.neuron.bruteforce.flow``, Cayley-table sums) by SciPy's ``RK45`` (Dormand-Prince 5(4), the
    tableau of symflow's geometric stepper) at symflow's default tolerances, vectorised over the ``M`` neurons
    in one system, from 0 to ``t_end``. Returns ``(CPU seconds, evaluations, final parameters)``."""
    from scipy.integrate import solve_ivp

    G = model.group
    n = G.order
    p = initial.uniform(model, width or M, seed).to_parameters()
    y0 = np.concatenate([p["theta1"][:M], p["theta2"][:M], p["xi"][:M]], axis=1).reshape(-1)

    def f(_, y):
        th1, th2, xi = np.split(y.reshape(M, 3 * n), 3, axis=1)
        return np.concatenate(bruteforce.flow(G, th1, th2, xi, shared=model.shared, spheres=model.spheres),
                              axis=1).reshape(-1)

    c0 = _cpu_now()
    sol = solve_ivp(f, (0.0, t_end), y0, method="RK45", rtol=rtol, atol=atol / n)
    return _cpu_now() - c0, sol.nfev, sol.y[:, -1].reshape(M, 3 * n)


def s5_target(workers, M=1024, M_brute=32):
    """S5, ``M`` neurons to equilibrium (reduced flow, CPU seconds per neuron) against the brute-force
    parameter-space integration of ``M_brute`` of the same neurons over the same time span (to the last
    neuron's equilibrium time), CPU seconds per neuron: the ratio is issue 26's S5 goal (>= 20x)."""
    s5 = Model("S5")
    n = s5.group.order
    simulate(s5, width=4, seed=0, n_save=2, t_end=1.0, progress=False)
    cpu = {}
    for w in sorted({1, workers}):
        c0 = _cpu_now()
        res, wall, eqmax, done = _timed_simulate(s5, M, w)
        cpu[w] = _cpu_now() - c0
        print(f"S5 M={M}, workers={w}: {wall:.1f} s wall, {cpu[w]:.1f} CPU s, every neuron at equilibrium: {done} "
              f"(last at t = {eqmax:.4g} = {eqmax / n ** 2:.3f} n^2), aligned {res.summary()['aligned_fraction']:.3f}, "
              f"{res.metadata['rhs_evaluations']} chunk RHS evaluations   [target < 60 s]")
    tb, nfev, final = brute_force_integration(s5, M_brute, eqmax, width=M)
    reduced = min(cpu.values()) / M
    brute = tb / M_brute
    # the same neurons at the same time: the brute-force end state against the reduced one (which stops each
    # neuron at its own equilibrium; both are within ~gtol of the same equilibrium)
    p = res.final_state.to_parameters()
    ours = np.concatenate([p["theta1"], p["theta2"], p["xi"]], axis=1)[:M_brute]
    print(f"  baseline, same run: brute-force flow in parameter space + SciPy RK45 (rtol 1e-6), {M_brute} of the same "
          f"neurons over [0, {eqmax:.4g}]: {brute * 1e3:.1f} CPU ms per neuron ({nfev} evaluations); reduced "
          f"{reduced * 1e3:.2f} CPU ms per neuron (whole simulate call) -> ratio {brute / reduced:.1f}x   "
          f"[goal >= 20x]; max |end state difference| {np.abs(final - ours).max():.2e}")
    return brute / reduced


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="M = 1000 for Z1009 and no S6")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--width", type=int, default=64, help="neurons in the scaling table")
    ap.add_argument("--skip-targets", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--only-s5", action="store_true", help="only the S5 goal (reduced against the brute-force integrator)")
    args = ap.parse_args(argv)
    os.environ.setdefault("SYMFLOW_CACHE", tempfile.mkdtemp(prefix="symflow_bench_"))
    if args.only_s5:
        print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
        s5_target(args.workers)
        return
    groups = [g for g in SCALING if not (args.quick and g == "S6")]
    if not args.skip_scaling:
        scaling_table(groups, args.width)
    if not args.skip_targets:
        targets(args.workers, args.quick)


if __name__ == "__main__":
    main()
