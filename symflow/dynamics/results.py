"""Results of a reduced-flow simulation: arrays, provenance, summaries, NPZ files.

Public NPZ contract (``SimulationResult.save`` and ``symflow simulate --save``):

==================  ===========  ==================================================================
``t``               ``(K,)``     save times (symflow's time unit ``c = 1``)
``theta1``          ``(K,M,n)``  parameter-space vectors, elements in the order of
``theta2``          ``(K,M,n)``  ``symflow group NAME --json`` (shared models: ``theta2 = theta1``)
``xi``              ``(K,M,n)``
``omega``           ``(K,M)``    the energy ``Omega`` of each neuron
``equilibrium_time````(M,)``     first time ``|Riemannian grad| < gtol`` (``nan``: not reached)
``metadata``        scalar str   JSON: versions, model, seed, width, integrator, tolerances, ...
==================  ===========  ==================================================================
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import SymflowError
from .. import provenance
from .observables import neuron_table, population_summary
from .reduced import ReducedFlow
from .state import FourierState

CONTRACT_VERSION = 1


def versions() -> dict:
    """The provenance of a simulation result (:func:`symflow.provenance.versions`, in the contract's key order)."""
    found = provenance.versions("sympy", "scipy")
    return {k: found[k] for k in ("symflow", "sympy", "numpy", "scipy", "python")}


class SimulationResult:
    """Trajectory of a population of neurons under the reduced flow.

    Attributes
    ----------
    t : (K,) save times
    params : dict name -> (K, M, n) parameter-space vectors (``theta1, theta2, xi``)
    omega : (K, M)
    equilibrium_time : (M,) (``nan`` where not reached)
    final_state : :class:`~symflow.dynamics.state.FourierState` at ``t[-1]`` (``None`` after ``load``)
    metadata : dict (JSON-able; see module docstring)
    interrupted, stopped_early : bool
    """

    def __init__(self, model, t, params, omega, equilibrium_time, metadata, final_state=None,
                 interrupted=False, stopped_early=False, flow=None):
        self.model = model
        self.t = np.asarray(t, dtype=float)
        self.params = params
        self.omega = np.asarray(omega, dtype=float)
        self.equilibrium_time = np.asarray(equilibrium_time, dtype=float)
        self.metadata = metadata
        self.final_state = final_state
        self.interrupted = bool(interrupted)
        self.stopped_early = bool(stopped_early)
        self._flow = flow

    # ------------------------------------------------------------------ arrays
    @property
    def theta1(self) -> np.ndarray:
        return self.params["theta1"]

    @property
    def theta2(self) -> np.ndarray:
        return self.params["theta2"]

    @property
    def xi(self) -> np.ndarray:
        return self.params["xi"]

    @property
    def width(self) -> int:
        return int(self.omega.shape[1])

    @property
    def flow(self):
        if self._flow is None:
            self._flow = ReducedFlow(self.model)
        return self._flow

    def state(self, k: int = -1):
        """The :class:`FourierState` at save index ``k``."""
        K = len(self.t)
        if not -K <= k < K:
            raise SymflowError(f"save index {k} out of range for {K} saved times")
        if k in (-1, K - 1) and self.final_state is not None:
            return self.final_state
        arrays = {nm: self.params[_param_key(nm)][k] for nm in self.model.vector_names}
        return FourierState.from_parameters(self.model, arrays)

    # ------------------------------------------------------------------ summaries
    def observables(self, k: int = -1) -> dict:
        """Per-neuron observables at save index ``k`` (see :mod:`symflow.dynamics.observables`)."""
        return neuron_table(self.state(k), self.flow)

    def summary(self, k: int = -1) -> dict:
        """JSON-able population summary at save index ``k`` plus run information."""
        s = population_summary(self.state(k), self.flow)
        eq = self.equilibrium_time
        s["run"] = {
            "t": float(self.t[k]), "saved_times": int(len(self.t)), "interrupted": self.interrupted,
            "stopped_at_equilibrium": self.stopped_early,
            "equilibrium_fraction": float(np.mean(~np.isnan(eq))) if eq.size else 0.0,
            "equilibrium_time_max": float(np.nanmax(eq)) if np.any(~np.isnan(eq)) else None,
            "steps": self.metadata.get("steps"), "wall_time_s": self.metadata.get("wall_time_s"),
        }
        s["model"] = self.metadata.get("model")
        s["seed"] = self.metadata.get("seed")
        return s

    # ------------------------------------------------------------------ files
    def save(self, path) -> Path:
        """Write the NPZ contract (module docstring) to ``path``; returns the path."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, t=self.t, theta1=self.theta1, theta2=self.theta2, xi=self.xi, omega=self.omega,
                     equilibrium_time=self.equilibrium_time, metadata=np.array(json.dumps(self.metadata)))
        except OSError as exc:
            raise SymflowError(f"cannot write {path}: {exc.strerror}") from None
        return path

    @classmethod
    def load(cls, path) -> "SimulationResult":
        """Read a file written by :meth:`save` (the model is rebuilt from the metadata)."""
        from ..theory import Model

        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise SymflowError(f"cannot read simulation file {path}: {exc}") from None
        missing = [k for k in ("t", "theta1", "theta2", "xi", "omega", "metadata") if k not in data]
        if missing:
            raise SymflowError(f"{path} is not a symflow simulation file (missing {', '.join(missing)})")
        meta = json.loads(str(data["metadata"]))
        md = meta.get("model", {})
        model = Model(md.get("group"), shared=md.get("shared", False), spheres=md.get("spheres"),
                      activation=md.get("activation"), loss=md.get("loss", "ce"), constraint=md.get("constraint", "sphere"))
        params = {"theta1": data["theta1"], "theta2": data["theta2"], "xi": data["xi"]}
        return cls(model, data["t"], params, data["omega"], data.get("equilibrium_time", np.full(data["omega"].shape[1], np.nan)),
                   meta, interrupted=meta.get("interrupted", False), stopped_early=meta.get("stopped_early", False))

    def __repr__(self) -> str:
        flag = " (interrupted)" if self.interrupted else ""
        return (f"<SimulationResult {self.model.group.name} {'shared' if self.model.shared else 'unshared'}: "
                f"{self.width} neurons, {len(self.t)} saves up to t = {self.t[-1]:.4g}{flag}>")


def _param_key(name: str) -> str:
    return {"theta": "theta1"}.get(name, name)


def build_metadata(model, width, seed, stepper, options: dict, flow, output) -> dict:
    """The ``metadata`` dictionary of a run (JSON-able)."""
    meta = {
        "contract_version": CONTRACT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "model": model.to_dict(),
        "model_key": model.key(),
        "width": int(width),
        "seed": None if seed is None else int(seed),
        "integrator": {"method": options.get("method"), "stepper": repr(stepper), **stepper.tolerances},
        "element_order": "as in `symflow group NAME --json` (field 'elements')",
        "time_unit": "c = 1 (docs/theory.md section 2)",
        "codegen": {"expression_hash": flow.kernels.expression_hash, "code_hash": flow.kernels.code_hash,
                    "styles": {str(k): v for k, v in flow.kernels.styles.items()}},
        "steps": int(output.counts.steps), "rejected_steps": int(output.counts.rejected),
        "rhs_evaluations": int(output.counts.evaluations), "wall_time_s": round(float(output.wall_time), 4),
        "interrupted": bool(output.interrupted), "stopped_early": bool(output.stopped_early),
    }
    for k, v in options.items():
        if k != "method":
            meta[k] = _jsonable(v)
    return meta


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    return v
