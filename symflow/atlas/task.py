"""One atlas task, run on a Dask worker: the landscape of one group in one setting, as table rows.

:func:`run_task` never raises for a failure of the computation: it returns the error text, which the
writer stores in ``runs.error`` (a failed task is tried again by the next run). Rows are plain Python
values, so the result pickles between processes and machines.
"""
from __future__ import annotations

import os
import socket
import time
import traceback

from .._version import LANDSCAPE_ENGINE

SETTINGS = ("unshared", "shared")
def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def attractor_rows(L, n: int, k: int, setting: str) -> list:
    """The ``attractors`` rows of a :class:`~symflow.landscape.Landscape`, in its order (``idx``)."""
    rows = []
    for idx, a in enumerate(L.attractors):
        slow, fast = a.rate_range("slowest"), a.rate_range("fastest")
        lo, hi = a.ci95
        rows.append({"order": n, "gap_id": k, "setting": setting, "idx": idx, "orbit": L.labels(a),
                     "orbit_dim": a.dim, "orbit_size": a.orbits[0].size if a.orbits else 1,
                     "type": a.type, "energy": float(a.energy),
                     "energy_exact": a.energy_exact, "rank": int(a.rank), "family_dimension": int(a.family_dimension),
                     "stable": bool(a.stable), "slowest_rate": float(slow[1]) if slow else None,
                     "fastest_rate": float(fast[0]) if fast else None,
                     "basin_fraction": float(a.fraction), "basin_lo": float(lo), "basin_hi": float(hi),
                     "count": int(a.count), "source": a.source})
    return rows


def predicted_rows(model, L, n: int, k: int, setting: str, starts: int, seed: int, samples: int) -> tuple:
    """``(rows, run)``: the ``predicted_basins`` rows of the task (:func:`symflow.atlas.predict.prediction`) and
    its ``runs`` columns; a failure of the predictor is its ``pred_error`` (the landscape's rows are kept)."""
    from .predict import prediction, prediction_json

    c0 = time.process_time()
    try:
        got = prediction(model, L, starts, seed, samples)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # the predictor's failure does not lose the landscape
        return [], {"pred_error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                    "pred_cpu_time": time.process_time() - c0}
    rows = [{"order": n, "gap_id": k, "setting": setting, **r} for r in got["rows"]]
    run = dict(got["run"], pred_error=None)
    run["prediction"] = prediction_json(run)
    return rows, run


def run_task(n: int, k: int, name: str, setting: str, starts: int, seed: int,
             samples: int | None = None) -> dict:
    """The landscape of group ``name`` (SmallGroup(n, k)) with shared or unshared embeddings (CE loss,
    quadratic activation, separate spheres), and the orbit predictor's basins beside it (``samples`` Monte Carlo
    starts, default :data:`~symflow.atlas.predict.PREDICTOR_SAMPLES`): ``{"order", "gap_id", "setting", "group",
    "attractors", "predicted", "prediction", "unconverged", "wall_time", "worker", "error"}``."""
    import warnings

    t0, c0 = time.perf_counter(), time.process_time()
    out = {"order": int(n), "gap_id": int(k), "setting": setting, "name": name, "group": None, "attractors": [],
           "predicted": [], "prediction": {}, "unconverged": None, "model": {}, "wall_time": None,
           "worker": worker_name(), "error": None,
           "engine": LANDSCAPE_ENGINE}     # the worker's engine: the row's resume key (store.py)
    try:
        from ..groups import group
        from ..landscape import landscape
        from ..theory.model import Model
        from .groups import group_row

        G = group(name)
        out["group"] = group_row(G, n, k, name)
        with warnings.catch_warnings():   # the scope notes are the theory's, not the atlas's
            warnings.simplefilter("ignore")
            model = Model(G, shared=setting == "shared")
            out["model"] = {"loss": model.loss, "spheres": model.spheres, "activation": model.activation_text}
            L = landscape(model, starts=starts, seed=seed)
        out["attractors"] = attractor_rows(L, n, k, setting)
        out["unconverged"] = int(L.unconverged)
        from .predict import PREDICTOR_SAMPLES

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["predicted"], out["prediction"] = predicted_rows(
                model, L, int(n), int(k), setting, starts, seed, PREDICTOR_SAMPLES if samples is None else samples)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # stored, the run goes on
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" ({os.path.basename(last[0].filename)}:{last[0].lineno})" if last else ""
        out["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}{where}"
        out["attractors"], out["predicted"], out["prediction"] = [], [], {}
    out["wall_time"] = time.perf_counter() - t0
    out["cpu_time"] = time.process_time() - c0
    try:
        from ..provenance import versions

        out["versions"] = versions("sympy", "scipy", "dask", "distributed")
    except Exception:  # pragma: no cover - provenance never blocks a result
        out["versions"] = {}
    return out
