"""The one description of a neuron: which vectors it has and which of them share a unit sphere.

A neuron of the two-layer group-composition network (docs/theory.md section 2) is a tuple of real vectors
``nu: G -> R``. Its variant is fixed by

* ``loss``: ``"ce"`` (GC: input embeddings ``theta1, theta2`` and output ``xi``) or ``"mse"``
  (Li2: input halves ``u, v``, no output vector);
* ``shared``: one input embedding for both arguments (``theta1 = theta2 = theta``; ``u = v``);
* ``spheres``: ``"separate"`` (every vector on its own unit sphere) or ``"joint"`` (the two input
  embeddings ``[theta1; theta2]`` on one sphere, as in the GC authors' code; needs unshared
  embeddings). ``None`` means ``"joint"`` for unshared MSE (Li2's ``w = [u; v]``), else ``"separate"``;
* ``constraint``: ``"sphere"`` (Stage I, projected flow) or ``"none"`` (plain gradient ascent).

From these, and only here, symflow derives the vector names, the input roles and the sphere
groups that the theory engine, the reduced dynamics, the parameter-space trainer, the rates and the
tests use::

    CE unshared  vectors (theta1, theta2, xi)   roles (theta1, theta2, xi)   spheres separate: (theta1)(theta2)(xi)
    CE shared    vectors (theta, xi)            roles (theta, theta, xi)     joint: (theta1 theta2)(xi)
    MSE unshared vectors (u, v)                 roles (u, v, None)
    MSE shared   vectors (u,)                   roles (u, u, None)

>>> Neuron(shared=True).vector_names, Neuron(spheres="joint").sphere_groups
(('theta', 'xi'), (('theta1', 'theta2'), ('xi',)))
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ModelError

LOSSES = ("ce", "mse")
SPHERES = ("separate", "joint")
CONSTRAINTS = ("sphere", "none")


@dataclass(frozen=True)
class Neuron:
    """The variant of one neuron (see the module docstring); validated on construction."""

    loss: str = "ce"
    shared: bool = False
    spheres: str | None = None
    constraint: str = "sphere"

    def __post_init__(self):
        loss = self.loss.lower() if isinstance(self.loss, str) else self.loss
        if loss not in LOSSES:
            raise ModelError(f"loss must be one of {', '.join(LOSSES)} (cross-entropy in the small-logit "
                             f"regime, or Li2's sample-centred MSE), got {self.loss!r}")
        object.__setattr__(self, "loss", loss)
        if not isinstance(self.shared, bool) and type(self.shared).__name__ not in ("bool_", "bool"):
            raise ModelError(f"shared must be True or False, got {self.shared!r}")
        object.__setattr__(self, "shared", bool(self.shared))
        if self.constraint not in CONSTRAINTS:
            raise ModelError(f"constraint must be 'sphere' (Stage I, projected flow) or 'none' "
                             f"(plain gradient), got {self.constraint!r}")
        spheres = self.spheres
        if spheres is None:
            spheres = "joint" if (loss == "mse" and not self.shared) else "separate"
        if spheres not in SPHERES:
            raise ModelError(f"spheres must be 'separate' or 'joint', got {spheres!r}")
        if spheres == "joint" and self.shared:
            raise ModelError("spheres='joint' normalises the two input embeddings together and needs "
                             "unshared embeddings; use shared=False or spheres='separate'")
        object.__setattr__(self, "spheres", spheres)

    # ------------------------------------------------------------------ names
    @property
    def input_names(self) -> tuple:
        """The two input embeddings ``(first, second)``; equal when shared."""
        if self.loss == "ce":
            return ("theta", "theta") if self.shared else ("theta1", "theta2")
        return ("u", "u") if self.shared else ("u", "v")

    @property
    def output_name(self) -> str | None:
        """The output vector: ``"xi"`` for CE, ``None`` for MSE."""
        return "xi" if self.loss == "ce" else None

    @property
    def roles(self) -> tuple:
        """``(first input, second input, output)`` names, e.g. ``("theta", "theta", "xi")`` when shared."""
        return self.input_names + (self.output_name,)

    @property
    def vector_names(self) -> tuple:
        """The distinct vectors of the neuron, in storage order."""
        ins = self.input_names[:1] if self.shared else self.input_names
        return ins + ((self.output_name,) if self.output_name else ())

    # ------------------------------------------------------------------ spheres
    @property
    def constrained(self) -> bool:
        return self.constraint == "sphere"

    @property
    def sphere_groups(self) -> tuple:
        """Vectors that share one unit sphere (each vector alone when unconstrained)."""
        names = self.vector_names
        if self.constrained and self.spheres == "joint":
            pair = self.input_names
            return (pair,) + tuple((v,) for v in names if v not in pair)
        return tuple((v,) for v in names)

    def sphere_factors(self) -> tuple:
        """``((dimension, names), ...)``: one factor ``S^{dimension}`` per sphere, ``dimension`` ``"n-1"``
        for one vector and ``"kn-1"`` for ``k`` vectors on one sphere; ``()`` when unconstrained."""
        if not self.constrained:
            return ()
        return tuple(("n-1" if len(s) == 1 else f"{len(s)}n-1", s) for s in self.sphere_groups)

    def describe_spheres(self) -> str:
        """``S^{n-1} (theta1) x S^{n-1} (theta2) x ...`` or ``unconstrained``."""
        if not self.constrained:
            return "unconstrained (no sphere projection)"
        return " x ".join(f"S^{{{dim}}} ({s[0] if len(s) == 1 else '[' + '; '.join(s) + ']'})"
                          for dim, s in self.sphere_factors())

    # ------------------------------------------------------------------ arrays
    def public_arrays(self, arrays: dict) -> dict:
        """Public arrays from ``{vector name: array}``: a shared CE neuron's ``theta`` becomes both
        ``theta1`` and ``theta2``."""
        if self.loss == "ce" and self.shared:
            return {"theta1": arrays["theta"], "theta2": arrays["theta"], "xi": arrays["xi"]}
        return {nm: arrays[nm] for nm in self.vector_names}

    def parameter_arrays(self, arrays, n: int) -> dict:
        """Validate user parameter arrays: a dict by name (or a tuple in :attr:`vector_names` order;
        a shared CE neuron also accepts ``theta1``/``u`` for ``theta`` and ``(theta1, theta2, xi)`` with
        ``theta1 = theta2``). Returns ``{name: (M, n) float64}``; raises :class:`ModelError` naming
        the problem and the accepted forms."""
        import numpy as np

        names = self.vector_names
        if isinstance(arrays, (tuple, list)):
            if len(arrays) == len(names):
                arrays = dict(zip(names, arrays))
            elif self.shared and len(arrays) == len(names) + 1:
                arrays = {names[0]: arrays[0], "theta2": arrays[1], names[-1]: arrays[-1]}
            else:
                raise ModelError(f"expected {len(names)} arrays {names}, got {len(arrays)}")
        if not isinstance(arrays, dict):
            raise ModelError(f"parameters must be a dict name -> (M, n) array with names {names}")
        arrays = dict(arrays)
        if self.shared:
            first = names[0]
            if first not in arrays:
                for alias in ("theta1", "u"):
                    if alias in arrays:
                        arrays[first] = arrays[alias]
            if "theta2" in arrays and first in arrays and \
                    not np.array_equal(np.asarray(arrays["theta2"]), np.asarray(arrays[first])):
                raise ModelError("a shared model has theta1 = theta2; the arrays given differ")
        out, M = {}, None
        for name in names:
            if name not in arrays:
                raise ModelError(f"missing parameter array {name!r}; a {'shared' if self.shared else 'unshared'} "
                                 f"model needs {names}")
            a = np.asarray(arrays[name])
            if a.ndim == 1:
                a = a[None, :]
            if a.ndim != 2 or a.shape[1] != n:
                raise ModelError(f"{name} must have shape (M, {n}) (neurons x group elements), "
                                 f"got {np.shape(arrays[name])}")
            if np.iscomplexobj(a):
                raise ModelError(f"{name} must be real (parameter-space vectors are real)")
            try:
                a = a.astype(np.float64)
            except (TypeError, ValueError):
                raise ModelError(f"{name} must be an array of real numbers") from None
            if not np.all(np.isfinite(a)):
                raise ModelError(f"{name} contains non-finite values (nan or inf)")
            if M is None:
                M = a.shape[0]
            elif a.shape[0] != M:
                raise ModelError(f"all parameter arrays need the same number of neurons; {name} has "
                                 f"{a.shape[0]}, expected {M}")
            out[name] = a
        if M == 0:
            raise ModelError("width 0: at least one neuron is needed")
        return out

    def key(self) -> str:
        return (f"loss={self.loss};shared={int(self.shared)};spheres={self.spheres};"
                f"constraint={self.constraint}")

    def __repr__(self) -> str:
        return (f"Neuron(loss={self.loss!r}, shared={self.shared}, spheres={self.spheres!r}, "
                f"constraint={self.constraint!r})")
