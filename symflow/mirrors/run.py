r"""One ``symflow mirrors`` run: dictionary, exact solution, reconstruction, proofs, training; JSON and report.

:func:`run_mirrors` returns the public JSON contract::

    {"depth", "activation", "beta", "n", "status",
     "dictionary": {"columns", "distinct", "vanished"},
     "objective", "l1", "bias", "unique", "face": [formulas of the columns the optima found use],
     "features": [{"coefficient", "breakpoints", "reflection": null | {"point", "of", "about", "formula",
                   "is_data_point", "is_kink"}, "formula", "name", "column", "signs", "data_indices",
                   "multiplicity", "proof": {"unit_equals_z_F", "penalty_equals_beta_abs_z", "max_abs_error",
                   "penalty_error"}}],
     "reconstruction": {"max_abs_error", "grid_max_abs_error", "penalty", "penalty_lasso", "units"},
     "certificate": {beta = 0: "residual", "off_support_mass", "support_rank_full";
                     beta > 0: "lower", "upper", "gap", "kkt", "coordinate_descent_converged", "polished"},
     "min_norm", "min_norm_bound_holds" (beta > 0 only: the LP's ||z||_1 and beta * min_norm >= objective),
     "proofs": {"unit_identity", "amgm"},
     "training": {"runs", "objectives", "reached", "lower_bound_violations"; with runs > 0 also
                  "reached_share", "optimum", "lower_bound", "reach_tolerance", "width", "steps", "lr",
                  "seeds", "features" (per run, per active unit), "reflections" (per run)},
     "timings_s": {...}}

``objective`` is ``||z||_1`` of the minimum-norm interpolant at ``beta = 0`` and the Lasso optimum
``1/2 ||A z + xi 1 - y||^2 + beta ||z||_1`` at ``beta > 0``; ``penalty`` is the reconstructed
network's ``(beta/L) sum |w|^L`` (``(1/L) sum |w|^L`` at ``beta = 0``), equal to ``beta ||z||_1``
(``||z||_1``). A solver that ends anywhere but at an optimum gives ``status`` = its state (e.g.
"the minimum-norm interpolation LP is infeasible") and ``null`` numbers.
"""
from __future__ import annotations

import time

import numpy as np

from .data import Data
from .dictionary import build_dictionary
from .network import degree, describe_column, reconstruction_check, unit_errors
from .solve import SolverStateError, lasso, min_norm
from .symbolic import amgm_lemma, unit_case, unit_identity


def empty_training() -> dict:
    return {"runs": 0, "objectives": [], "reached": 0, "lower_bound_violations": 0}


def run_mirrors(data: Data, depth: int = 2, activation: str = "relu", beta: float = 0.0, train: int = 0,
                seed: int = 0, steps: int = 20000, width: int | None = None) -> dict:
    """The whole analysis of one data set (module docstring); ``train`` seeds ``seed, seed+1, ...``."""
    timings = {}
    t0 = time.perf_counter()
    D = build_dictionary(data, depth, activation)
    timings["dictionary"] = time.perf_counter() - t0
    out = {"depth": D.depth, "activation": D.activation, "beta": float(beta), "n": int(data.n), "status": "optimal",
           "dictionary": D.summary(), "objective": None, "l1": None, "bias": None, "unique": None, "face": [],
           "features": [], "reconstruction": {"max_abs_error": None, "penalty": None},
           "training": empty_training()}
    t0 = time.perf_counter()
    try:
        if beta == 0:
            sol = min_norm(D.matrix, data.y, x=data.x)
        else:
            sol = lasso(D.matrix, data.y, beta)
            ref = min_norm(D.matrix, data.y, face=False, x=data.x)
            out["min_norm"] = ref.objective
            out["min_norm_bound_holds"] = bool(sol.objective <= beta * ref.objective * (1 + 1e-9) + 1e-12)
    except SolverStateError as exc:
        out["status"] = str(exc)
        timings["solve"] = time.perf_counter() - t0
        out["timings_s"] = timings
        return out
    timings["solve"] = time.perf_counter() - t0
    out.update({"objective": sol.objective, "l1": sol.l1, "bias": sol.xi, "unique": sol.unique,
                "certificate": sol.certificate})
    t0 = time.perf_counter()
    support = sol.support
    z = np.zeros_like(sol.z)
    z[support] = sol.z[support]
    deg = degree(D.activation)
    out_proofs = {"unit_identity": unit_identity(D.depth, deg), "amgm": amgm_lemma(D.depth if deg else 2)}
    unit_checks = unit_errors(D, z, sol.xi)
    for c in support:
        f = describe_column(D, int(c))
        f["coefficient"] = float(sol.z[c])
        signs = tuple(int(v) for v in D.signs[c])
        f["proof"] = {"unit_equals_z_F": unit_case(D.depth, deg, signs, int(np.sign(sol.z[c]))),
                      "penalty_equals_beta_abs_z": out_proofs["unit_identity"]["proved"], **unit_checks[int(c)]}
        out["features"].append(f)
    if sol.face:
        out["face"] = [describe_column(D, int(c))["formula"] for c in sol.face]
    out["reconstruction"] = reconstruction_check(D, z, sol.xi, beta)
    out["proofs"] = out_proofs
    timings["features_and_proofs"] = time.perf_counter() - t0
    if train:
        if beta == 0:
            from ..errors import SymflowError

            raise SymflowError("--train needs --beta > 0: at beta = 0 the training problem has no regulariser "
                               "to compare with the minimum norm")
        from .training import compare_with_optimum, train_runs

        t0 = time.perf_counter()
        runs = train_runs(D, beta, list(range(seed, seed + train)), steps=steps, width=width)
        out["training"] = compare_with_optimum(D, runs, sol.objective, sol.certificate.get("lower", sol.objective))
        out["training"]["seeds"] = list(range(seed, seed + train))
        timings["training"] = time.perf_counter() - t0
        out["_runs"] = runs
    out["_dictionary"] = D
    out["_solution"] = sol
    out["timings_s"] = timings
    return out


def public(result: dict) -> dict:
    """The JSON-serialisable part of a result (drops the ``_``-prefixed objects)."""
    return {k: v for k, v in result.items() if not k.startswith("_")}


def figure(result: dict):
    """Data, fitted function and each chosen feature (times its coefficient); with training, the
    trained objectives against the optimum."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    D, sol = result["_dictionary"], result["_solution"]
    x, y = D.data.x, D.data.y
    pad = 0.15 * (x[-1] - x[0])
    grid = np.linspace(x[0] - pad, x[-1] + pad, 600)
    cols = sol.support
    F = D.evaluate(grid, cols)
    fit = F @ sol.z[cols] + sol.xi
    train = result["training"]["runs"] > 0
    fig, axes = plt.subplots(1, 3 if train else 2, figsize=(15 if train else 10, 4), constrained_layout=True)
    ax = axes[0]
    ax.plot(grid, fit, color="C0", label="fit (Lasso = reconstructed network)")
    ax.scatter(x, y, color="C3", zorder=3, label="data")
    ax.set_title(f"depth {result['depth']}, {result['activation']}, beta = {result['beta']:g}")
    ax.legend(fontsize="small")
    ax = axes[1]
    for i, c in enumerate(cols):
        f = result["features"][i]
        ax.plot(grid, sol.z[c] * F[:, i], label=f"{f['coefficient']:.3g} x {f['formula'][:40]}")
    ax.set_title("chosen features (coefficient x feature)")
    if len(cols):
        ax.legend(fontsize="x-small")
    if train:
        ax = axes[2]
        objs = np.sort(result["training"]["objectives"])
        ax.semilogy(np.arange(1, len(objs) + 1), objs, "o", label="trained (sorted)")
        ax.axhline(result["objective"], color="k", ls="--", label="Lasso optimum")
        ax.set_xlabel("run")
        ax.set_ylabel("objective")
        ax.set_title(f"{result['training']['reached']} of {len(objs)} runs reach the optimum")
        ax.legend(fontsize="small")
    return fig


def write_report(result: dict, folder) -> dict:
    """``mirrors.json`` and (with matplotlib) ``mirrors.png`` in the staged output folder."""
    import json
    from pathlib import Path

    import importlib.util

    folder = Path(folder)
    files = {"json": str(folder / "mirrors.json")}
    (folder / "mirrors.json").write_text(json.dumps(public(result), indent=1) + "\n")
    if importlib.util.find_spec("matplotlib") is not None and result["objective"] is not None:
        import matplotlib.pyplot as plt

        fig = figure(result)
        fig.savefig(folder / "mirrors.png", dpi=110)
        plt.close(fig)
        files["figure"] = str(folder / "mirrors.png")
    return files
