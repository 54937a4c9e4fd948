r"""Each theory's statement about one layer ``h_b = W h_a`` (:mod:`symflow.theories.layers`), as a pair of
matrices (measured side, predicted side) and a metric from :mod:`symflow.theories.metrics`.

* **FACT** (Boix-Adsera, Mallinar, Simon, Belkin, arXiv:2507.05644), forward: at a critical point of
  ``loss + lambda/2 |W|^2`` (loss with its reduction: mean ``1/P`` or sum), ``grad_W loss + lambda W = 0``
  with ``grad_W loss = sum_p g_b h_a^T``, so ``W^T W = -(1/lambda) sum_p g_a,p h_a,p^T`` (``g_a = W^T g_b``);
  backward: ``W W^T = -(1/lambda) sum_p g_b,p h_b,p^T``. The coefficient for other conventions is derived by
  :func:`symflow.theories.symbolic.fact_coefficient`. Away from a critical point the forward residual matrix
  is exactly ``W^T (grad_W loss + lambda W) / lambda``: it shrinks linearly with the regularised gradient.
* **NFA** (Radhakrishnan et al.): ``W^T W`` proportional to ``AGOP^alpha`` (``alpha = 1/2``), with
  ``AGOP = mean_p J_p^T J_p`` and ``J_p = d f(x_p) / d h_a`` the Jacobian of the network's output with
  respect to the layer's input.
* **CRH** (Ziyin, Chuang, Galanti, Poggio, arXiv:2410.03006): six alignments among ``H = E[h h^T]``,
  ``G = E[g g^T]`` and ``Z_a = W^T W`` / ``Z_b = W W^T``: on the input side (a) ``H_a ~ Z_a``, ``G_a ~ Z_a``,
  ``H_a ~ G_a``; on the output side (b) ``H_b ~ Z_b``, ``G_b ~ Z_b``, ``H_b ~ G_b``.
* **PAH**: when those break, power laws ``H ~ Z^p``, ``G ~ Z^q`` in the eigenbasis of ``Z``
  (:func:`power_law`, least squares on logs with bootstrap intervals); the exponents that pairs of exact
  alignments allow are :func:`symflow.theories.symbolic.exponent_table`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layers import Layer
from .metrics import compare


@dataclass
class Statement:
    """One theory's statement on one layer: ``lhs`` (measured) against ``rhs`` (predicted) under ``metric``."""

    theory: str
    name: str
    text: str
    layer: str
    metric: str
    lhs: np.ndarray
    rhs: np.ndarray

    @property
    def value(self) -> float:
        return compare(self.metric, self.lhs, self.rhs)


def fact_rhs(layer: Layer, weight_decay: float, backward: bool = False, convention: str = "half") -> np.ndarray:
    """``-(1/(k lambda)) sum_p g_p h_p^T`` on the input side (``g_a, h_a``) or, ``backward``, the output side;
    ``k = 1`` for ``lambda/2 |W|^2`` (``convention="half"``), 2 for ``lambda |W|^2``. The reduction weight is in ``g``."""
    if not weight_decay > 0:
        raise ValueError("FACT needs a positive weight decay lambda")
    k = 1.0 if convention == "half" else 2.0
    if backward:
        return -(layer.g_b @ layer.h_b.T) / (k * weight_decay)
    return -(layer.g_a @ layer.h_a.T) / (k * weight_decay)


def fact(layer: Layer, weight_decay: float, convention: str = "half") -> Statement:
    return Statement("FACT", "FACT", "W^T W = -(1/lambda) sum_p grad_h loss_p h_p^T", layer.name,
                     "relative_residual", layer.Z_a(), fact_rhs(layer, weight_decay, False, convention))


def backward_fact(layer: Layer, weight_decay: float, convention: str = "half") -> Statement:
    return Statement("FACT", "backward FACT", "W W^T = -(1/lambda) sum_p grad_{Wh} loss_p (W h_p)^T", layer.name,
                     "relative_residual", layer.Z_b(), fact_rhs(layer, weight_decay, True, convention))


def agop(network, layer: Layer) -> np.ndarray:
    """``mean_p J_p^T J_p`` with ``J_p = d f(x_p) / d h_a`` for the layers of the two-layer network:
    readout ``J = W`` (so ``AGOP = W^T W``); embedding ``J_p = xi^T D_p W1`` with ``D_p = diag((a/M) sigma'(h_p))``,
    so ``AGOP = W1^T ((xi xi^T) o (D D^T / P)) W1``."""
    if layer.name == "readout":
        return layer.W.T @ layer.W
    c = np.asarray(network.a, dtype=float) / network.width
    D = c[:, None] * network.activation.dsigma(layer.h_b)          # (M, P)
    xi = np.asarray(network.xi, dtype=float)
    K = (xi @ xi.T) * (D @ D.T) / layer.samples
    return layer.W.T @ K @ layer.W


def matrix_power(A: np.ndarray, alpha: float) -> np.ndarray:
    """``A^alpha`` of a symmetric positive semi-definite matrix (negative eigenvalues from rounding set to 0)."""
    vals, vecs = np.linalg.eigh((A + A.T) / 2)
    return (vecs * np.clip(vals, 0.0, None) ** alpha) @ vecs.T


def nfa(network, layer: Layer, alpha: float = 0.5, metric: str = "pearson") -> Statement:
    return Statement("NFA", f"NFA ({metric})", f"W^T W ~ AGOP^{alpha:g}", layer.name, metric,
                     layer.Z_a(), matrix_power(agop(network, layer), alpha))


#: The six CRH alignments: (name, description, left, right) with matrices named as Layer methods.
CRH_ALIGNMENTS = (
    ("H_a~Z_a", "representation-weight, input side", "H_a", "Z_a"),
    ("G_a~Z_a", "gradient-weight, input side", "G_a", "Z_a"),
    ("H_a~G_a", "representation-gradient, input side", "H_a", "G_a"),
    ("H_b~Z_b", "representation-weight, output side", "H_b", "Z_b"),
    ("G_b~Z_b", "gradient-weight, output side", "G_b", "Z_b"),
    ("H_b~G_b", "representation-gradient, output side", "H_b", "G_b"),
)


def crh(layer: Layer, metric: str = "cosine") -> list[Statement]:
    out = []
    mats = {k: getattr(layer, k)() for k in ("H_a", "G_a", "Z_a", "H_b", "G_b", "Z_b")}
    for name, what, left, right in CRH_ALIGNMENTS:
        out.append(Statement("CRH", f"CRH {name}", f"{left} ~ {right} ({what})", layer.name, metric,
                             mats[left], mats[right]))
    return out


@dataclass
class PowerLaw:
    """``M ~ Z^exponent`` in the eigenbasis of ``Z``; ``ci95`` from the bootstrap over eigen-directions."""

    name: str
    layer: str
    exponent: float
    ci95: tuple
    points: int

    def to_json(self) -> dict:
        return {"name": self.name, "layer": self.layer, "exponent": self.exponent, "ci95": list(self.ci95),
                "points": self.points}


def power_law(M: np.ndarray, Z: np.ndarray, name: str = "", layer: str = "", boot: int = 200, seed: int = 0,
              rel_floor: float = 1e-8) -> PowerLaw:
    """Fit ``log diag(U^T M U) = p log z + c`` over the eigenpairs ``(z, U)`` of ``Z`` with ``z`` and the diagonal
    above ``rel_floor`` times their largest value; 95% percentile interval of ``p`` from ``boot`` resamples
    (``numpy.random.default_rng(seed)``) of the eigen-directions. NaN when fewer than 3 usable directions."""
    vals, vecs = np.linalg.eigh((Z + Z.T) / 2)
    d = np.einsum("ik,ij,jk->k", vecs, (M + M.T) / 2, vecs)
    keep = (vals > rel_floor * max(vals.max(), 1e-300)) & (d > rel_floor * max(np.abs(d).max(), 1e-300))
    x, y = np.log(vals[keep]), np.log(d[keep])
    k = len(x)
    if k < 3 or np.ptp(x) < 1e-12:
        return PowerLaw(name, layer, float("nan"), (float("nan"), float("nan")), int(k))
    slope = float(np.polyfit(x, y, 1)[0])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, k, size=(boot, k))
    xs, ys = x[idx], y[idx]
    xc = xs - xs.mean(axis=1, keepdims=True)
    den = (xc * xc).sum(axis=1)
    ok = den > 1e-12
    slopes = (xc * (ys - ys.mean(axis=1, keepdims=True))).sum(axis=1)[ok] / den[ok]
    lo, hi = (np.percentile(slopes, [2.5, 97.5]) if len(slopes) else (float("nan"), float("nan")))
    return PowerLaw(name, layer, slope, (float(lo), float(hi)), int(k))


def power_laws(layer: Layer, boot: int = 200, seed: int = 0) -> list[PowerLaw]:
    """The four PAH exponents ``H_a ~ Z_a^p``, ``G_a ~ Z_a^q``, ``H_b ~ Z_b^p'``, ``G_b ~ Z_b^q'``."""
    Za, Zb = layer.Z_a(), layer.Z_b()
    return [power_law(layer.H_a(), Za, "H_a~Z_a^p", layer.name, boot, seed),
            power_law(layer.G_a(), Za, "G_a~Z_a^q", layer.name, boot, seed),
            power_law(layer.H_b(), Zb, "H_b~Z_b^p'", layer.name, boot, seed),
            power_law(layer.G_b(), Zb, "G_b~Z_b^q'", layer.name, boot, seed)]
