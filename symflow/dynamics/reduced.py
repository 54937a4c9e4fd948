"""The reduced flow's historical import path: ``from symflow.dynamics.reduced import ReducedFlow, as_model, ...``.

Each name lives in one module: the evaluator (``ReducedFlow``, ``CompactFlow``, ``IMAG_TOL``) in
:mod:`.flow`, the drivers (``simulate``, ``run_until_aligned``, ``AlignedRun``, ``as_model``,
``auto_workers``) in :mod:`.drivers`, the run defaults in :mod:`.defaults`. This module only
re-exports them (tests, the study and the benchmarks import them from here).
"""
from .defaults import GTOL_FACTOR, MAX_STEP_FACTOR, T_END_FACTOR, check_time as _check_time, save_times  # noqa: F401
from .drivers import AUTO_WORKERS_MIN, AlignedRun, as_model, auto_workers, run_until_aligned, simulate  # noqa: F401
from .flow import IMAG_TOL, CompactFlow, EvaluatedFlow, ReducedFlow  # noqa: F401
