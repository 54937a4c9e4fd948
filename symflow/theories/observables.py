r"""GC and Li2 observables on the same trained network (its neurons read as points of the reduced models).

* **GC** (docs/theory.md sections 2-3): each neuron ``(theta1_m, theta2_m, xi_m)`` concentrates on a single
  irrep orbit (``concentration``), its Fourier blocks there are rank one and rotationally aligned
  (:meth:`TwoLayerNetwork.alignment`, the one alignment criterion), and its energy on the unit spheres
  (each vector normalised) equals the orbit's exact ``Omega*`` (:func:`symflow.theory.equilibria.equilibrium`).
* **Li2** (docs/theory.md section 7): each hidden unit ``w = [theta1_m; theta2_m] / |.|`` (``theta_m`` when
  shared) sits at a local maximum of the Li2 energy ``E`` of ``Model(G, loss="mse")`` on its sphere: the
  Riemannian gradient vanishes (relative to the Euclidean one) and the tangent Hessian has no positive eigenvalue.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..dynamics.network import TwoLayerNetwork

#: |grad_R E| / |grad E| below this counts as a critical point of the Li2 energy.
LI2_CRITICAL = 0.05


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-300)


def gc_observables(network: TwoLayerNetwork) -> dict:
    """``aligned_fraction``, ``concentration`` (mean over neurons), ``omega_error`` (median over neurons of
    ``|Omega_m / Omega*(orbit_m) - 1|`` on the unit spheres)."""
    from ..neuron import bruteforce
    from ..theory.equilibria import equilibrium
    from ..theory.model import Model
    from ..theory.scope import ScopeWarning

    al = network.alignment()
    with warnings.catch_warnings(), np.errstate(all="ignore"):   # a dead neuron (|v| ~ 0) gives NaN: not counted
        warnings.simplefilter("ignore", ScopeWarning)
        model = Model(network.group, shared=network.shared)
        x = np.concatenate([_unit(np.asarray(network.params[k], dtype=float)) for k in model.vector_names], axis=1)
        E = bruteforce.energy(model, x)
        star = {int(o): equilibrium(model, int(o)).omega_star_float for o in np.unique(al.orbit)}
    ratio = np.array([E[m] / star[int(o)] for m, o in enumerate(al.orbit)])
    err = np.abs(ratio - 1.0)
    err[~np.isfinite(err)] = np.inf
    return {"aligned_fraction": al.aligned_fraction(), "concentration": float(np.mean(al.concentration)),
            "omega_error": float(np.median(err))}


def li2_observables(network: TwoLayerNetwork, hessian: bool = True) -> dict:
    """``critical_fraction`` (neurons with ``|grad_R E| / |grad E| < LI2_CRITICAL``), ``maximum_fraction``
    (critical and the tangent Hessian's largest eigenvalue ``<= 1e-2`` times its largest magnitude: the point is only near-critical) and
    ``relative_gradient`` (median)."""
    from ..neuron import bruteforce
    from ..theory.model import Model
    from ..theory.scope import ScopeWarning

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", ScopeWarning)
        model = Model(network.group, shared=network.shared, loss="mse")
        vecs = [np.asarray(network.params[k], dtype=float) for k in (("theta",) if network.shared else ("theta1", "theta2"))]
        x = _unit(np.concatenate(vecs, axis=1))
        g = bruteforce.gradient(model, x)
        gr = bruteforce.riemannian_gradient(model, x)
        rel = np.linalg.norm(gr, axis=1) / np.maximum(np.linalg.norm(g, axis=1), 1e-300)
        crit = np.isfinite(rel) & (rel < LI2_CRITICAL)
        maxima = np.zeros(len(x), dtype=bool)
        if hessian:
            for m in np.flatnonzero(crit):
                J, _ = bruteforce.tangent_hessian(model, x[m])
                ev = np.linalg.eigvalsh((J + J.T) / 2)
                maxima[m] = ev.max() <= 1e-2 * max(np.abs(ev).max(), 1e-300) + 1e-12
    return {"critical_fraction": float(crit.mean()), "maximum_fraction": float(maxima.mean()),
            "relative_gradient": float(np.median(rel))}
