"""Equilibria of the Stage-I flow: one representative per non-trivial irrep orbit.

A neuron ``(theta1, theta2, xi)`` supported on the real isotypic component ``V_O`` of one orbit
``O(rho)`` is an equilibrium when its Fourier blocks are aligned (GC). symflow's representative
puts every vector on the same matrix coefficient

    ``v(g) = sqrt(k d / n) Re rho(g)_11``,   ``theta1 = theta2 = xi = v``

with ``k = 1`` for real-type ``rho`` (real orthogonal matrices) and ``k = 2`` for a complex pair
or a quaternionic ``rho``; ``||v|| = 1`` by Schur orthogonality. In Fourier terms the blocks are
``r E_11`` with ``r = (k n d)^{-1/2}`` (real, complex type: rank one, aligned) and, for a
quaternionic ``rho``, ``r P`` with ``P`` the rank-two projector onto the quaternionic line
through ``e_1`` (a real signal has no rank-one block there). The energy

    ``Omega*(O) = (k d)^{-1/2} n^{-3/2}``

(``k = |O|`` for real and complex type, ``k = 2`` for quaternionic ``rho``) is the maximum of
``Omega = |O| d Re tr(xi_hat^* theta2_hat theta1_hat)`` on ``V_O``: unit vectors have blocks of
norm ``||A||_F = (|O| n d)^{-1/2}``, ``Re tr(X^* B A) <= ||B||_op ||A||_F ||X||_F`` and
``||B||_op <= ||B||_F`` (real, complex) or ``||B||_F / sqrt(2)`` (quaternionic matrices have
paired singular values). Variants: ``shared`` uses ``theta = v`` (same ``Omega*``); ``joint``
spheres put ``theta1 = theta2 = v / sqrt(2)`` on the sphere of ``[theta1; theta2]``, giving
``Omega*/2``. A real-type irrep given by complex matrices (never produced by symflow's families or
its numeric construction, but accepted) uses ``u^* rho(g) u`` with ``u`` fixed by the irrep's real
structure instead (numeric).

Every :class:`Equilibrium` is checked on construction against the brute-force Cayley-table
reference (:mod:`symflow.neuron.bruteforce`): stationarity residual ``<= 1e-12`` and energy equal
to the exact value to relative ``1e-12``; a failure raises :class:`~symflow.errors.SymflowError`.
:meth:`Equilibrium.is_stationary` with ``exact=True`` also substitutes the exact Fourier blocks
into the model's derived block flow and simplifies every entry to zero.
"""
from __future__ import annotations

from functools import cached_property
import numpy as np
import sympy as sp

from ..errors import SymflowError
from ..groups.recognise import recognise_matrix
from ..neuron import bruteforce
from .model import Model
from .symbols import OMEGA
from .trace_calculus import drive_expressions

#: Stationarity tolerance (max-norm of the brute-force flow at the point).
STATIONARY_TOL = 1e-12
#: Relative tolerance of the brute-force energy against the exact ``Omega*``.
ENERGY_RTOL = 1e-12


# ----------------------------------------------------------------------------- the equilibrium
class Equilibrium:
    """The representative equilibrium of one irrep orbit (see the module docstring).

    Attributes
    ----------
    model : Model
        The (CE, quadratic, sphere-constrained) model: group and neuron.
    orbit : IrrepOrbit
        The orbit (``group.orbits[orbit_index]``; a sorted tuple of irrep indices).
    irreps : list of str
        Their labels.
    dim, orbit_size, type :
        ``d``, ``|O|`` and ``"real" | "complex" | "quaternionic"``.
    omega_star : sympy.Expr
        Exact energy at the point.
    point : tuple of arrays
        ``(theta1, theta2, xi)`` in parameter space (element order of the group). Shared models
        return ``(theta, theta, xi)``; joint spheres have ``|theta1|^2 + |theta2|^2 = 1``,
        otherwise every vector is a unit vector.
    """

    def __init__(self, model: Model, orbit):
        G = model.group
        self.model = model
        self.group = G
        self.orbit = G.orbit(orbit)
        self.orbit_index = self.orbit.id
        if self.orbit.is_trivial:
            raise SymflowError(f"the trivial irrep of {G.name} carries no energy (Omega = 0 whenever xi is "
                               f"constant or theta is constant), so it has no equilibrium with Omega* > 0; "
                               f"choose a non-trivial orbit")
        self.irreps = [G.irreps[i].label for i in self.orbit]
        self.dim = self.orbit.dim
        self.orbit_size = self.orbit.size
        self.type = self.orbit.type
        self._k = self.orbit.doubling
        self._rep = G.irreps[self.orbit[0]]
        self.vector = self._build_vector()
        v = self.vector
        if self.joint:
            self.point = (v / np.sqrt(2), v / np.sqrt(2), v.copy())
        else:
            self.point = (v.copy(), v.copy(), v.copy())
        self._check()

    # -------------------------------------------------------------- construction
    @property
    def joint(self) -> bool:
        """``[theta1; theta2]`` on one sphere (the point's input embeddings are ``v / sqrt 2``)."""
        return self.model.spheres == "joint"

    @property
    def exact_construction(self) -> bool:
        """True when the point is the exact matrix coefficient ``sqrt(k d / n) Re rho_11``; false
        for a real-type irrep given by complex matrices (then a numeric real coefficient)."""
        return self.type != "real" or self._rep.is_real_matrix

    def _build_vector(self) -> np.ndarray:
        n, d, k = self.group.order, self.dim, self._k
        if self.exact_construction:
            return np.sqrt(k * d / n) * self._rep.matrices[:, 0, 0].real
        return np.sqrt(d / n) * self._real_matrix_coefficient()

    def _real_matrix_coefficient(self) -> np.ndarray:
        """``u^* rho(g) u`` for a unit ``u`` fixed by the real structure of a real-type irrep given
        by complex matrices: ``C = sum_g rho(g) X rho(g)^T`` (``X`` real symmetric) intertwines
        ``conj(rho)`` with ``rho`` and, normalised to ``C C^* = I``, ``u -> C conj(u)`` is an
        antilinear involution; ``u = w + C conj(w)`` is fixed by it, so the coefficient is real
        and is the rank-one block ``u u^*`` in a real basis (numeric, fixed seed)."""
        rho = self._rep.matrices
        d = rho.shape[1]
        rng = np.random.default_rng(20240607)
        X = rng.standard_normal((d, d))
        C = np.einsum("gij,jk,glk->il", rho, X + X.T, rho)
        C /= np.sqrt(np.abs(np.trace(C @ C.conj().T)) / d)
        w = rng.standard_normal(d) + 1j * rng.standard_normal(d)
        u = w + C @ w.conj()
        u /= np.linalg.norm(u)
        coeff = np.einsum("i,gij,j->g", u.conj(), rho, u)
        if np.abs(coeff.imag).max() > 1e-10:  # pragma: no cover - a failed theorem
            raise SymflowError(f"{self.group.name}, irrep {self._rep.label}: no real structure found "
                               f"(imaginary part {np.abs(coeff.imag).max():.3g})")
        return coeff.real

    def _check(self) -> None:
        res = self.residual()
        if res > STATIONARY_TOL:
            raise SymflowError(f"{self.group.name}, orbit {self.irreps}: the constructed point is not stationary "
                               f"(brute-force flow residual {res:.3g} > {STATIONARY_TOL})")
        om = float(bruteforce.omega(self.group, *self.point))
        ex = float(self.omega_star)
        if abs(om - ex) > ENERGY_RTOL * abs(ex):
            raise SymflowError(f"{self.group.name}, orbit {self.irreps}: brute-force Omega {om!r} differs from the "
                               f"exact Omega* {ex!r}")

    # -------------------------------------------------------------- energy
    @cached_property
    def omega_star_separate(self) -> sp.Expr:
        """``(k d)^{-1/2} n^{-3/2}``: the orbit's energy on separate spheres."""
        n, d, k = self.group.order, self.dim, self._k
        return sp.radsimp(1 / (sp.sqrt(k * d) * sp.Integer(n) ** sp.Rational(3, 2)))

    @cached_property
    def omega_star(self) -> sp.Expr:
        """Exact ``Omega*`` of this model variant (joint spheres: half the separate value)."""
        if self.joint:
            return sp.radsimp(self.omega_star_separate / 2)
        return self.omega_star_separate

    @property
    def omega_star_float(self) -> float:
        return float(self.omega_star)

    # -------------------------------------------------------------- exact forms
    @cached_property
    def fourier_blocks(self) -> dict[str, sp.Matrix]:
        """Exact Fourier blocks of the point on the orbit's first irrep, per vector name.

        Real and complex type: ``r E_11``; quaternionic: ``r P``, the projector ``P`` recognised
        exactly from the numeric transform (entries checked to ``1e-9``).
        """
        n, d, k = self.group.order, self.dim, self._k
        r = 1 / sp.sqrt(sp.Integer(k * n * d))
        if self.type == "quaternionic":
            hat = self.group.fourier(self.vector)[self.orbit[0]]
            B = r * recognise_matrix(hat * np.sqrt(k * n * d))
        elif self.exact_construction:
            B = sp.zeros(d, d)
            B[0, 0] = r
        else:
            hat = self.group.fourier(self.vector)[self.orbit[0]]
            B = recognise_matrix(hat)
        B = B.applyfunc(sp.radsimp)
        scale = 1 / sp.sqrt(2) if self.joint else sp.Integer(1)
        if self.model.shared:
            return {"theta": B, "xi": B}
        return {"theta1": B * scale, "theta2": B * scale, "xi": B}

    def exact_vector(self) -> list:
        """Exact values ``v(g) = sqrt(k d / n) Re rho(g)_11`` in element order (SymPy).

        Available when :attr:`exact_construction` is true; otherwise :class:`SymflowError`.
        """
        if not self.exact_construction:
            raise SymflowError(f"{self.group.name}, orbit {self.irreps}: real-type irrep given by complex "
                               "matrices; the point is a numeric real matrix coefficient with no exact form here")
        n, d, k = self.group.order, self.dim, self._k
        c = sp.sqrt(sp.Rational(k * d, n))
        return [sp.simplify(c * sp.re(m[0, 0])) for m in self._rep.exact_matrices]

    # -------------------------------------------------------------- checks
    @property
    def vectors(self) -> dict[str, np.ndarray]:
        """The point keyed by the model's vector names."""
        t1, t2, x = self.point
        if self.model.shared:
            return {"theta": t1, "xi": x}
        return {"theta1": t1, "theta2": t2, "xi": x}

    def residual(self) -> float:
        """Max-norm of the brute-force flow (Cayley-table sums) at the point."""
        m = self.model
        d1, d2, dx = bruteforce.flow(self.group, *self.point, shared=m.shared, spheres=m.spheres)
        return float(max(np.abs(d1).max(), np.abs(d2).max(), np.abs(dx).max()))

    def is_stationary(self, tol: float = STATIONARY_TOL, exact: bool = False) -> bool:
        """Stationarity check.

        ``exact=False``: the brute-force parameter-space flow vanishes to ``tol`` (max-norm).
        ``exact=True``: the exact Fourier blocks make the derived symbolic block flow of the
        model vanish identically (``symflow.theory.model``; SymPy ``simplify`` to zero), and the
        numeric check passes too.
        """
        ok = self.residual() <= tol
        if exact:
            ok = ok and self.exact_stationarity()
        return ok

    def exact_stationarity(self) -> bool:
        """True when the model's derived block flow vanishes exactly at :attr:`fourier_blocks`.

        Uses the drive of :func:`symflow.theory.trace_calculus.drive_expressions` (trace-word calculus on the
        model's energy) and the radial coefficients of ``model.block_flow(1)``, with ``n`` and
        ``Omega = Omega*`` substituted; every entry must simplify to ``0``.
        """
        model = self.model
        blocks = self.fourier_blocks
        radial = model.block_flow(1).radial
        for name, expr in drive_expressions(model, self.dim).items():
            G = expr.evaluate(blocks, n=self.group.order)
            rhs = G - (radial[name] / OMEGA) * self.omega_star * blocks[name]
            if any(sp.simplify(e) != 0 for e in rhs):
                return False
        return True

    # -------------------------------------------------------------- display
    def __repr__(self) -> str:
        return (f"<Equilibrium {self.group.name} orbit {{{', '.join(self.irreps)}}}: d={self.dim}, |O|={self.orbit_size}, "
                f"{self.type}, Omega* = {self.omega_star} ~ {self.omega_star_float:.7g}>")

    def _repr_latex_(self) -> str:
        labels = ", ".join(sp.latex(sp.Symbol(l)) for l in self.irreps)
        return (f"$\\Omega^*(\\{{{labels}\\}}) = {sp.latex(self.omega_star)} \\approx {self.omega_star_float:.7g}"
                f"\\quad (d = {self.dim},\\ |O| = {self.orbit_size},\\ \\text{{{self.type}}})$")


def equilibrium(model, orbit) -> Equilibrium:
    """The representative equilibrium of ``orbit`` for ``model`` (:meth:`Model.coerce
    <symflow.theory.model.Model.coerce>`, in the setting of :meth:`~symflow.theory.model.Model.require_stage_one`); ``orbit`` is
    anything :meth:`Group.orbit <symflow.groups.group.Group.orbit>` resolves: an id, an irrep or
    orbit label, a tuple of irrep indices, an :class:`Equilibrium`.

    >>> from symflow import Model
    >>> eq = equilibrium(Model("F21"), 2)     # orbit id 2: the pair of 3-dim irreps
    >>> eq.omega_star, eq.type, eq.dim
    (sqrt(14)/882, 'complex', 3)
    """
    m = Model.coerce(model)
    m.require_stage_one()
    return Equilibrium(m, orbit)


def orbit_equilibria(model) -> list[Equilibrium]:
    """One :class:`Equilibrium` per non-trivial irrep orbit, in ``group.orbits`` order."""
    m = Model.coerce(model)
    m.require_stage_one()
    return [Equilibrium(m, o) for o in m.group.orbits if not o.is_trivial]
