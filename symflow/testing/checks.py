"""Invariant checks: small functions that raise :class:`CheckFailure` when a property fails.

Each check takes a :class:`System` (or a bare :class:`~symflow.groups.group.Group`, wrapped on the
fly) plus the example to test, and compares the implementation under test with an independent
computation - the defining formula or the Cayley-table sums of :mod:`symflow.neuron.bruteforce`.

Group checks (``G`` of order ``n``, irreps ``rho`` of dimension ``d``):

* homomorphism      ``rho(g) rho(h) = rho(gh)`` for all ``g, h``
* unitarity         ``rho(g) rho(g)^* = I``
* Schur             ``(d_rho/n) sum_g rho(g)_ab conj(sigma(g)_ce) = delta_{rho sigma} delta_ac delta_be``
* characters        ``(1/n) sum_g chi_rho(g) conj(chi_sigma(g)) = delta_{rho sigma}``; ``chi`` constant on classes
* dimensions        ``sum_rho d_rho^2 = n``, #irreps = #classes, trivial irrep first
* Fourier           ``nu_hat[rho] = (1/n) sum_g nu(g) rho(g)^*``, inverse ``nu(g) = sum d tr(nu_hat rho(g))``
* Plancherel        ``sum_g nu(g)^2 = n sum_rho d_rho ||nu_hat[rho]||_F^2``
* convolution       ``(f*g)(x) = sum_y f(y) g(y^-1 x)`` has ``(f*g)_hat[rho] = n g_hat[rho] f_hat[rho]``
  (derivation: ``x = yz``, ``rho(yz)^* = rho(z)^* rho(y)^*``)

Model checks (a :class:`System` bundling a ``symflow.theory.model.Model``; states are dicts
``{name: (n,) array}`` on the model's spheres; ``E`` the model's energy, ``v`` its flow):

* reference         ``E``, ``grad E`` and the projected flow by Cayley-table sums
  (:mod:`symflow.neuron.bruteforce` for quadratic CE, general table sums otherwise)
* agreement         Fourier flow mapped back equals the reference flow; energies agree
* norms             ``sum_{nu in S} <nu, v_nu> = 0`` on every sphere ``S``
* monotone energy   ``dE/dt = <grad E, v> = sum |v|^2 >= 0``
* equivariance      translations (left, right, middle, conjugation) and abelian phase rotations
* generated code    equals the SymPy (lambdify) right-hand side
* integrator        norms stay 1 and ``E`` never decreases over a few steps
* predictions       equilibria stationary with ``Omega*``; tangent spectrum and its sign
* modular addition  derived ODE vs projected brute-force gradient; ``I1``, ``I2`` conserved

Tolerances: ``max|a - b| <= tol * max(floor, scale)``; ``tol = 1e-9`` for identities exact in
exact arithmetic. Group checks use ``floor = 1`` (quantities of order one); model checks use the
largest gradient entry (or ``Omega*``) as ``scale`` with ``floor = FLOOR = 1e-6``. Each check's
docstring states its tolerance where it differs.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
import sympy as sp

from ..groups.fourier import inverse_fourier
from ..neuron import bruteforce
from ..neuron.geometry import tangent_basis
from ..neuron.points import split, stack
from ..theory.symbols import Z

#: Default tolerance for identities that hold exactly in exact arithmetic.
TOL = 1e-9


class CheckFailure(AssertionError):
    """A violated invariant; ``details`` holds the numbers behind the message."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details


def expect_close(actual, expected, what: str, tol: float = TOL, scale: float | None = None,
                 floor: float = 1.0) -> float:
    """Raise :class:`CheckFailure` unless ``max|actual - expected| <= tol * max(floor, scale)``.

    ``scale`` defaults to ``max|expected|``; ``floor = 1`` makes small quantities compare
    absolutely. Non-finite values always fail. Returns the error.
    """
    a = np.asarray(actual)
    b = np.asarray(expected)
    if a.shape != b.shape:
        raise CheckFailure(f"{what}: shape {a.shape} != expected {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise CheckFailure(f"{what}: non-finite values", actual=a, expected=b)
    err = float(np.abs(a - b).max(initial=0.0))
    ref = float(np.abs(b).max(initial=0.0)) if scale is None else float(scale)
    bound = tol * max(floor, ref)
    if not err <= bound:
        raise CheckFailure(f"{what}: max error {err:.3g} > {bound:.3g}", error=err, bound=bound)
    return err


def expect(cond: bool, message: str, **details) -> None:
    """Raise :class:`CheckFailure` with ``message`` unless ``cond``."""
    if not cond:
        raise CheckFailure(message, **details)


# ---------------------------------------------------------------------- the system under test
@dataclass
class System:
    """Everything a check exercises, injected so that a mutant can replace one part.

    * ``group``; ``irreps``: list of ``(n, d, d)`` arrays (default the group's);
    * ``fourier`` / ``inverse_fourier``: the transform pair under test (default the group's);
    * ``model``: a :class:`symflow.theory.model.Model` (or ``None`` for group-only systems);
    * ``fourier_rhs(coeffs) -> (velocities, omega)``: the model's Fourier-space right-hand side
      under test (dicts ``name -> FourierCoefficients``; by default the generated NumPy code);
    * ``sympy_rhs``: the same computed from the SymPy expressions (``lambdify``), the reference of
      the code-generation check;
    * ``step(fourier_rhs, state, dt) -> state``: one step of the geometric integrator applied to a
      right-hand side (dict states), so a mutated ``fourier_rhs`` reaches the integrator too;
    * ``modular_rates(alpha, beta, D) -> (alpha', beta', D', phi', psi')``: the derived MA ODE
      (cyclic groups of odd order only);
    * ``equilibria() -> list[Equilibrium]`` and ``spectrum(eq) -> Spectrum``: the predictions.

    :meth:`flow` composes ``inverse_fourier o fourier_rhs o fourier``: the parameter-space velocity
    of a state ``{name: (..., n) array}``, so a mutated transform or right-hand side shows there.
    ``extras["missing:<attr>"]`` records why an attribute is absent (reported when skipping).
    """

    group: Any
    irreps: list | None = None
    fourier: Callable | None = None
    inverse_fourier: Callable | None = None
    model: Any = None
    fourier_rhs: Callable | None = None
    sympy_rhs: Callable | None = None
    step: Callable | None = None
    modular_rates: Callable | None = None
    equilibria: Callable | None = None
    spectrum: Callable | None = None
    extras: dict = field(default_factory=dict)
    label: str = ""

    def __post_init__(self):
        if self.irreps is None:
            self.irreps = [r.matrices for r in self.group.irreps]
        if self.fourier is None:
            self.fourier = self.group.fourier
        if self.inverse_fourier is None:
            self.inverse_fourier = self.group.inverse_fourier
        if not self.label:
            self.label = self.group.name

    @property
    def vector_names(self) -> tuple:
        return tuple(self.model.vector_names)

    @property
    def sphere_groups(self) -> tuple | None:
        """Groups of vector names sharing one unit sphere; ``None`` when unconstrained."""
        neuron = self.model.neuron
        return tuple(tuple(s) for s in neuron.sphere_groups) if neuron.constrained else None

    def flow(self, state: dict):
        """``(velocities, omega)``: parameter-space velocity through the Fourier path under test."""
        coeffs = {k: self.fourier(np.asarray(state[k], dtype=float)) for k in self.vector_names}
        vel, omega = self.fourier_rhs(coeffs)
        return {k: np.asarray(self.inverse_fourier(vel[k])) for k in self.vector_names}, np.asarray(omega)

    def replace(self, **changes) -> "System":
        """A copy with some parts replaced (how mutants are built)."""
        return replace(self, **changes)

    def __repr__(self) -> str:
        return f"<System {self.label}>"


def as_system(obj) -> System:
    """``obj`` if it is a :class:`System`, else ``System(obj)`` for a group."""
    return obj if isinstance(obj, System) else System(group=obj)


# ---------------------------------------------------------------------- group checks
def homomorphism(system, i: int) -> None:
    """``rho_i(g) rho_i(h) = rho_i(gh)`` for every pair ``(g, h)`` (exhaustive, vectorised)."""
    s = as_system(system)
    R = s.irreps[i]
    prod = np.einsum("gab,hbc->ghac", R, R)
    expect_close(prod, R[s.group.table], f"homomorphism of irrep {i}: rho(g)rho(h) vs rho(gh)")


def unitarity(system, i: int) -> None:
    """``rho_i(g) rho_i(g)^* = I`` for every ``g``; ``rho_i(e) = I``."""
    s = as_system(system)
    R = s.irreps[i]
    d = R.shape[1]
    expect_close(np.einsum("gab,gcb->gac", R, R.conj()), np.broadcast_to(np.eye(d), R.shape),
                 f"unitarity of irrep {i}")
    expect_close(R[s.group.identity], np.eye(d), f"irrep {i} at the identity")


def schur_orthogonality(system, i: int, j: int) -> None:
    """``(d_i/n) sum_g rho_i(g)_ab conj(rho_j(g)_ce) = delta_ij delta_ac delta_be``."""
    s = as_system(system)
    A, B = s.irreps[i], s.irreps[j]
    n, d = A.shape[0], A.shape[1]
    gram = np.einsum("gab,gce->abce", A, B.conj()) * d / n
    if i == j:
        expected = np.einsum("ac,be->abce", np.eye(d), np.eye(d))
    else:
        expected = np.zeros_like(gram)
    expect_close(gram, expected, f"Schur orthogonality of matrix entries of irreps {i}, {j}")


def character_orthogonality(system, i: int, j: int) -> None:
    """``(1/n) sum_g chi_i(g) conj(chi_j(g)) = delta_ij`` (characters from the matrices)."""
    s = as_system(system)
    ci = np.trace(s.irreps[i], axis1=1, axis2=2)
    cj = np.trace(s.irreps[j], axis1=1, axis2=2)
    val = np.vdot(cj, ci) / s.group.order
    expect_close(val, complex(i == j), f"character orthogonality <chi_{i}, chi_{j}>")


def class_function(system, i: int) -> None:
    """``chi_i(h g h^-1) = chi_i(g)`` for all ``g, h``, and the stored character is the trace."""
    s = as_system(system)
    G = s.group
    chi = np.trace(s.irreps[i], axis1=1, axis2=2)
    t, inv = G.table, G.inverse
    g = np.arange(G.order)
    conj = t[t[g[:, None], g[None, :]], inv[:, None]]  # conj[h, g] = h g h^-1
    expect_close(chi[conj], np.broadcast_to(chi, conj.shape), f"character {i} is not a class function")
    if s.irreps is not None and i < len(G.irreps):
        expect_close(G.irreps[i].character, chi, f"stored character of irrep {i} vs trace")


def dimension_sum(system) -> None:
    """``sum d^2 = n``, as many irreps as conjugacy classes, irrep 0 trivial, irreps inequivalent."""
    s = as_system(system)
    G = s.group
    dims = [R.shape[1] for R in s.irreps]
    expect(sum(d * d for d in dims) == G.order, f"sum of squared dimensions {sum(d*d for d in dims)} != |G| = {G.order}")
    expect(len(dims) == len(G.classes), f"{len(dims)} irreps but {len(G.classes)} conjugacy classes")
    expect_close(s.irreps[0][:, 0, 0], np.ones(G.order), "irrep 0 is not the trivial irrep")
    chars = np.array([np.trace(R, axis1=1, axis2=2) for R in s.irreps])
    gram = chars @ chars.conj().T / G.order
    expect_close(gram, np.eye(len(dims)), "character table rows are not orthonormal (irreps inequivalent and irreducible)")


def indicator_consistency(system, i: int) -> None:
    """Frobenius-Schur indicator ``(1/n) sum_g chi(g^2)`` is 0 exactly for irreps whose conjugate
    is another irrep, and ``|conj orbit|`` agrees with ``group.orbits``."""
    s = as_system(system)
    G = s.group
    r = G.irreps[i]
    j = G.conjugate_index[i]
    chi = np.trace(s.irreps[i], axis1=1, axis2=2)
    expect_close(np.trace(s.irreps[j], axis1=1, axis2=2), chi.conj(), f"irrep {j} is not the conjugate of irrep {i}")
    expect((r.indicator == 0) == (j != i), f"irrep {i}: indicator {r.indicator} but conjugate index {j}")
    orbit = next(o for o in G.orbits if i in o)
    expect(len(orbit) == (2 if r.indicator == 0 else 1), f"irrep {i}: orbit {orbit} vs indicator {r.indicator}")


def exact_matches_numeric(system, i: int, g: int, tol: float = 1e-12) -> None:
    """The exact SymPy matrix and the exact character of ``rho_i(g)`` equal the numeric ones
    (to ``tol = 1e-12``)."""
    s = as_system(system)
    r = s.group.irreps[i]
    M = np.array(sp.N(r.exact_matrices[g], 20).tolist(), dtype=complex)
    expect_close(M, s.irreps[i][g], f"exact vs numeric matrix of irrep {i} at element {g}", tol=tol)
    expect_close(complex(sp.N(r.exact_character[g], 20)), np.trace(s.irreps[i][g]),
                 f"exact vs numeric character of irrep {i} at element {g}", tol=tol)


def _direct_fourier(s: System, x) -> list[np.ndarray]:
    """Definition ``(1/n) sum_g x(g) rho(g)^*`` for every irrep (reference, ``O(n d^2)``)."""
    n = s.group.order
    return [np.einsum("...g,gba->...ab", np.asarray(x, dtype=complex), R.conj()) / n for R in s.irreps]


def _blocks(s: System, coeffs) -> list[np.ndarray]:
    return [np.asarray(coeffs[i]) for i in range(len(s.irreps))]


def fourier_definition(system, x) -> None:
    """``system.fourier(x)[rho] = (1/n) sum_g x(g) rho(g)^*`` (checks order and normalisation)."""
    s = as_system(system)
    got = _blocks(s, s.fourier(x))
    for i, ref in enumerate(_direct_fourier(s, x)):
        expect_close(got[i], ref, f"Fourier coefficient of irrep {i} vs its definition")


def fourier_inversion(system, x) -> None:
    """``inverse_fourier(fourier(x)) = x`` and ``x(g) = sum_rho d tr(x_hat[rho] rho(g))``."""
    s = as_system(system)
    x = np.asarray(x, dtype=float)
    c = s.fourier(x)
    expect_close(np.asarray(s.inverse_fourier(c)), x, "Fourier inversion: inverse(fourier(x)) vs x")
    blocks = _blocks(s, c)
    rebuilt = sum(R.shape[1] * np.einsum("...ab,gba->...g", b, R) for b, R in zip(blocks, s.irreps))
    expect_close(rebuilt, x, "Fourier inversion formula sum_rho d tr(x_hat rho(g)) vs x")


def plancherel(system, x) -> None:
    """``sum_g x(g)^2 = n sum_rho d_rho ||x_hat[rho]||_F^2`` for the transform under test."""
    s = as_system(system)
    x = np.asarray(x, dtype=float)
    blocks = _blocks(s, s.fourier(x))
    rhs = s.group.order * sum(R.shape[1] * (np.abs(b) ** 2).sum(axis=(-2, -1)) for b, R in zip(blocks, s.irreps))
    expect_close(rhs, (x ** 2).sum(-1), "Plancherel: n sum d ||x_hat||_F^2 vs sum x^2")


def convolve(group, f, g) -> np.ndarray:
    """Group convolution ``(f*g)(x) = sum_y f(y) g(y^-1 x) = sum_{yz = x} f(y) g(z)`` (table sums)."""
    outer = np.asarray(f)[:, None] * np.asarray(g)[None, :]
    return np.bincount(group.table.ravel(), weights=outer.ravel(), minlength=group.order)


def convolution_theorem(system, f, g) -> None:
    """``(f*g)_hat[rho] = n g_hat[rho] f_hat[rho]`` (note the order: ``g_hat`` on the left)."""
    s = as_system(system)
    n = s.group.order
    conv = _blocks(s, s.fourier(convolve(s.group, f, g)))
    fh, gh = _blocks(s, s.fourier(f)), _blocks(s, s.fourier(g))
    for i in range(len(conv)):
        expect_close(conv[i], n * gh[i] @ fh[i], f"convolution theorem on irrep {i}: (f*g)_hat vs n g_hat f_hat")


def real_basis(system, x) -> None:
    """The real Fourier basis is orthogonal and its orbit energies are ``n sum_{rho in O} d ||x_hat||^2``."""
    s = as_system(system)
    G = s.group
    B = G.real_fourier_basis
    expect_close(B.matrix.T @ B.matrix, np.eye(G.order), "real Fourier basis is not orthogonal")
    blocks = _blocks(s, s.fourier(x))
    energy = B.orbit_energy(x)
    for k, orb in enumerate(B.orbits):
        ref = G.order * sum(s.irreps[i].shape[1] * (np.abs(blocks[i]) ** 2).sum() for i in orb)
        expect_close(energy[k], ref, f"orbit energy of orbit {orb}")


# ---------------------------------------------------------------------- modular addition (MA)
def modular_gain_gradients(p: int, theta, xi, activation=None):
    """Brute-force gradients of the MA linear gain on ``Z_p`` by Cayley-table sums:

    ``L = sum_{x,y} (xi[x+y] - mean xi) sigma(theta[x] + theta[y])``,
    ``dL/dtheta(a) = sum_y xi~[a+y] sigma'(theta[a]+theta[y]) + sum_x xi~[x+a] sigma'(theta[x]+theta[a])``,
    ``dL/dxi(h) = sum_{x+y=h} sigma(theta[x]+theta[y]) - (1/p) sum_{x,y} sigma(theta[x]+theta[y])``.
    ``activation`` is a pair ``(sigma, sigma')`` of NumPy callables (default ``z^2, 2z``).
    """
    sig, dsig = activation or ((lambda z: z * z), (lambda z: 2 * z))
    idx = np.arange(p)
    table = (idx[:, None] + idx[None, :]) % p
    X = (xi - xi.mean())[table]
    H = theta[:, None] + theta[None, :]
    g_theta = (X * dsig(H)).sum(1) + (X * dsig(H)).sum(0)
    S = sig(H)
    g_xi = np.bincount(table.ravel(), weights=S.ravel(), minlength=p) - S.sum() / p
    return g_theta, g_xi


def modular_rates_reference(p: int, k: int, alpha, beta, phi, psi):
    """``(alpha', beta', D', phi', psi')`` of the MA flow at the single-frequency ansatz, by
    projecting the brute-force gradient (summed loss) onto ``cos``/``sin`` of frequency ``k``:
    ``alpha' = (2/p) sum_a g(a) cos(w a + phi)``, ``phi' = -(2/(p alpha)) sum_a g(a) sin(w a + phi)``."""
    w = 2 * np.pi * k / p
    j = np.arange(p)
    theta = alpha * np.cos(w * j + phi)
    xi = beta * np.cos(w * j + psi)
    gt, gx = modular_gain_gradients(p, theta, xi)
    a_dot = 2 / p * (gt * np.cos(w * j + phi)).sum()
    phi_dot = -2 / (p * alpha) * (gt * np.sin(w * j + phi)).sum()
    b_dot = 2 / p * (gx * np.cos(w * j + psi)).sum()
    psi_dot = -2 / (p * beta) * (gx * np.sin(w * j + psi)).sum()
    return a_dot, b_dot, 2 * phi_dot - psi_dot, phi_dot, psi_dot


def modular_matches_bruteforce(system, alpha, beta, phi, psi, k=1) -> None:
    """The derived MA rates ``system.modular_rates(alpha, beta, D)`` equal the projected
    brute-force gradient of the gain (tolerance 1e-9 relative to the largest rate)."""
    s = as_system(system)
    p = s.group.order
    ref = np.array(modular_rates_reference(p, k, alpha, beta, phi, psi))
    D = 2 * phi - psi
    got = np.array([float(np.asarray(v)) for v in s.modular_rates(alpha, beta, D)])
    expect_close(got, ref, f"MA rates (alpha', beta', D', phi', psi') on Z_{p}, k={k} vs brute force",
                 scale=float(np.abs(ref).max()))


def modular_conserved(system, alpha, beta, D) -> None:
    """``I1 = alpha^2 - 2 beta^2`` and ``I2 = alpha^2 beta sin D`` have zero derivative along the
    derived MA rates (tolerance 1e-9 relative to the size of the terms)."""
    s = as_system(system)
    a_dot, b_dot, D_dot = [float(np.asarray(v)) for v in s.modular_rates(alpha, beta, D)[:3]]
    terms1 = np.array([2 * alpha * a_dot, -4 * beta * b_dot])
    expect_close(terms1.sum(), 0.0, "dI1/dt along the MA flow", scale=np.abs(terms1).max())
    terms2 = np.array([2 * alpha * a_dot * beta * np.sin(D), alpha ** 2 * b_dot * np.sin(D),
                       alpha ** 2 * beta * np.cos(D) * D_dot])
    expect_close(terms2.sum(), 0.0, "dI2/dt along the MA flow", scale=np.abs(terms2).max())


# ---------------------------------------------------------------------- parameter-space references
def reference_energy(system, state) -> np.ndarray:
    """The model's energy by Cayley-table sums (no Fourier analysis): :func:`symflow.neuron.bruteforce.energy`.

    CE: ``E = (1/2) n^-2 sum_{g1,g2} xi~(g1 g2) sigma(theta1(g1) + theta2(g2))``; MSE (Li2):
    ``E = (1/2) sum_h (z_h - mean z)^2``, ``z_h = sum_{ab=h} sigma(u(a) + v(b))``.
    """
    return bruteforce.energy(system.model, stack(system.model, state))


def reference_gradients(system, state) -> dict:
    """Euclidean gradients of :func:`reference_energy` by the chain rule over the Cayley table
    (:func:`symflow.neuron.bruteforce.gradient`); shared embeddings add both input slots."""
    m = system.model
    return split(m, bruteforce.gradient(m, stack(m, state)))


def reference_flow(system, state) -> dict:
    """Projected (Riemannian) gradient of the reference energy on the model's spheres:
    ``v_S = g_S - (<nu_S, g_S> / |nu_S|^2) nu_S`` per sphere ``S`` (plain gradient if unconstrained)."""
    m = system.model
    return split(m, bruteforce.riemannian_gradient(m, stack(m, state)))


def _grad_scale(g: dict) -> float:
    return max(float(np.abs(v).max(initial=0.0)) for v in g.values())


#: Absolute floor of the scale of model-check tolerances (so ``tol * FLOOR = 1e-15`` at a zero gradient).
FLOOR = 1e-6


def _real(v: dict, what: str, scale: float) -> dict:
    """Real parts of the velocities; an imaginary part above ``TOL * max(scale, FLOOR)`` fails
    (it would mean the flow does not map real signals to real velocities)."""
    out = {}
    bound = TOL * max(scale, FLOOR)
    for k, x in v.items():
        x = np.asarray(x)
        if np.iscomplexobj(x):
            im = float(np.abs(x.imag).max(initial=0.0))
            if not im <= bound:
                raise CheckFailure(f"{what}: velocity of {k} has an imaginary part {im:.3g} > {bound:.3g} "
                                   "(real signals must have real velocities)")
            x = x.real
        out[k] = x
    return out


# ---------------------------------------------------------------------- model checks
def energy_matches_reference(system, state) -> None:
    """The energy returned with the Fourier flow equals the Cayley-table energy
    (tolerance 1e-9 relative to the largest gradient entry)."""
    s = system
    _, omega = s.flow(state)
    ref = reference_energy(s, state)
    scale = _grad_scale(reference_gradients(s, state))
    expect_close(omega, ref, "energy from the Fourier path vs Cayley-table sums", scale=scale, floor=FLOOR)


def flow_matches_reference(system, state) -> None:
    """Fourier-space flow mapped back to parameter space equals the projected brute-force gradient
    (tolerance 1e-9 relative to the largest gradient entry)."""
    s = system
    vel, _ = s.flow(state)
    ref = reference_flow(s, state)
    scale = _grad_scale(reference_gradients(s, state))
    vel = _real(vel, "Fourier flow", scale)
    for k in s.vector_names:
        expect_close(vel[k], ref[k], f"velocity of {k}: Fourier path vs parameter-space flow", scale=scale, floor=FLOOR)


def flow_tangent(system, state) -> None:
    """Norm preservation: the velocity is tangent to every sphere, ``sum_{nu in S} <nu, dnu/dt> = 0``
    (tolerance 1e-9 relative to ``max|grad| * |nu|``)."""
    s = system
    groups = s.sphere_groups
    vel, _ = s.flow(state)
    scale = _grad_scale(reference_gradients(s, state))
    vel = _real(vel, "Fourier flow", scale)
    for S in groups:
        dot = sum((np.asarray(state[k]) * vel[k]).sum(-1) for k in S)
        norm = np.sqrt(sum((np.asarray(state[k]) ** 2).sum(-1) for k in S))
        expect_close(dot, np.zeros_like(dot), f"d|{'; '.join(S)}|^2/dt (radial component of the flow)",
                     scale=scale * float(np.max(norm)), floor=FLOOR)


def energy_ascent(system, state) -> None:
    """Monotone energy along the exact flow: ``dE/dt = sum <grad E, v> = sum |v|^2 >= 0``
    (``grad E`` from Cayley-table sums; tolerance 1e-9 relative to ``|grad E|^2``)."""
    s = system
    vel, _ = s.flow(state)
    g = reference_gradients(s, state)
    vel = _real(vel, "Fourier flow", _grad_scale(g))
    rate = sum((g[k] * vel[k]).sum(-1) for k in s.vector_names)
    sq = sum((vel[k] ** 2).sum(-1) for k in s.vector_names)
    scale = sum((g[k] ** 2).sum(-1) for k in s.vector_names)
    expect(np.all(rate >= -TOL * np.maximum(scale, FLOOR ** 2)), f"energy decreases along the flow: dE/dt = {rate}")
    expect_close(rate, sq, "dE/dt vs sum of squared velocities", scale=float(np.max(scale)), floor=FLOOR ** 2)


def symmetry_permutations(group, action: str, h: int):
    """``(p_in1, p_in2, p_out)``: index maps with ``nu'(g) = nu(p[g])`` for a symmetry of the energy.

    ``left``: ``theta1(hg), xi(hg)``; ``right``: ``theta2(gh), xi(gh)``; ``middle``:
    ``theta1(gh), theta2(h^-1 g)``; ``conjugation``: every vector at ``h g h^-1``; ``shift``
    (abelian, shared): ``theta(g + h), xi(g + 2h)``. Each leaves ``sum_{ab=c}`` fibres permuted,
    hence the energy invariant and the flow equivariant.
    """
    T, inv = group.table, group.inverse
    ident = np.arange(group.order)
    if action == "left":
        return T[h, :], ident, T[h, :]
    if action == "right":
        return ident, T[:, h], T[:, h]
    if action == "middle":
        return T[:, h], T[inv[h], :], ident
    if action == "conjugation":
        c = T[T[h, :], inv[h]]
        return c, c, c
    if action == "shift":
        return T[:, h], T[:, h], T[T[:, h], h]
    raise ValueError(f"unknown action {action!r}")


def symmetry_actions(system) -> list[str]:
    """The symmetry actions valid for the model (shared embeddings need equal input maps)."""
    if system.model.shared:
        return ["conjugation"] + (["shift"] if system.group.is_abelian else [])
    return ["left", "right", "middle", "conjugation"]


def _act(model, state, perms):
    p1, p2, px = perms
    first, second = model.input_names
    out = {}
    for k, v in state.items():
        p = px if k == model.output_name else (p1 if k == first else p2)
        out[k] = np.asarray(v)[..., p]
    return out


def translation_equivariance(system, state, h: int, action: str) -> None:
    """Equivariance under group translations: ``E(T s) = E(s)`` and ``v(T s) = T v(s)`` for the
    actions of :func:`symmetry_permutations` (tolerance 1e-9 relative to the largest gradient)."""
    s = system
    perms = symmetry_permutations(s.group, action, h)
    scale = _grad_scale(reference_gradients(s, state))
    v, om = s.flow(state)
    v = _real(v, "Fourier flow", scale)
    tv, tom = s.flow(_act(s.model, state, perms))
    tv = _real(tv, "Fourier flow", scale)
    expect_close(tom, om, f"energy after the {action} translation by element {h}", scale=scale, floor=FLOOR)
    moved = _act(s.model, v, perms)
    for k in s.vector_names:
        expect_close(tv[k], moved[k], f"velocity of {k}: flow(T s) vs T flow(s), {action} translation by {h}",
                     scale=scale, floor=FLOOR)


def phase_pairs(group) -> list[tuple[int, int]]:
    """Conjugate pairs ``(k, conj k)`` of an abelian group's characters (``k < conj k``)."""
    return [tuple(o) for o in group.orbits if len(o) == 2]


def phase_rotate(system, state, angles) -> dict:
    """Rotate the phases of each conjugate pair of characters: inputs by ``e^{i a_k}``, ``e^{i b_k}``
    (``b = a`` when shared), the output by ``e^{i (a_k + b_k)}``; conjugate characters get the
    conjugate phases, so signals stay real. ``angles`` has shape ``(pairs, 2)``."""
    m, G = system.model, system.group
    pairs = phase_pairs(G)
    first, second = m.input_names
    ph = {first: np.zeros(G.order), second: np.zeros(G.order)}
    for (k, kc), (a, b) in zip(pairs, np.asarray(angles).reshape(-1, 2)):
        b = a if m.shared else b
        ph[first][[k, kc]] = a, -a
        ph[second][[k, kc]] = b, -b
    out_phase = ph[first] + ph[second]
    out = {}
    for name, v in state.items():
        p = out_phase if name == m.output_name else ph[name]
        c = G.fourier(np.asarray(v, dtype=float))
        rot = c.copy()
        rot.blocks[1] = c.blocks[1] * np.exp(1j * p)[:, None, None]
        out[name] = inverse_fourier(G, rot, real=True)
    return out


def phase_equivariance(system, state, angles) -> None:
    """Abelian groups: the energy is invariant and the flow equivariant under the phase rotations
    ``(e^{ia}, e^{ib}, e^{i(a+b)})`` of each character pair (tolerance 1e-9 relative to the largest
    gradient)."""
    s = system
    scale = _grad_scale(reference_gradients(s, state))
    v, om = s.flow(state)
    v = _real(v, "Fourier flow", scale)
    rv, rom = s.flow(phase_rotate(s, state, angles))
    rv = _real(rv, "Fourier flow", scale)
    expect_close(rom, om, "energy after a phase rotation", scale=scale, floor=FLOOR)
    # velocities rotate like the vectors themselves (the rotation is linear and orthogonal)
    moved = phase_rotate(s, v, angles)
    for k in s.vector_names:
        expect_close(rv[k], moved[k], f"velocity of {k}: flow(R s) vs R flow(s) under a phase rotation",
                     scale=scale, floor=FLOOR)



# ---------------------------------------------------------------------- predictions
def _flatten(names, state) -> np.ndarray:
    return np.concatenate([np.asarray(state[k], dtype=float) for k in names], axis=-1)


def _unflatten(names, x, n) -> dict:
    return {k: x[..., i * n:(i + 1) * n] for i, k in enumerate(names)}


def equilibrium_stationary(system, position: int, h: int, action: str) -> None:
    """Each predicted equilibrium (moved by a symmetry) is stationary for the flow under test and
    has the predicted energy ``Omega*`` (tolerance 1e-9 relative to ``Omega*``)."""
    s = system
    eq = s.equilibria()[position]
    point = dict(eq.vectors)
    point = _act(s.model, point, symmetry_permutations(s.group, action, h))
    star = float(eq.omega_star_float)
    vel, om = s.flow(point)
    vel = _real(vel, "Fourier flow", star)
    expect_close(om, star, f"energy at the equilibrium of {eq.irreps} vs predicted Omega*", scale=star, floor=0.0)
    for k in s.vector_names:
        expect_close(vel[k], np.zeros_like(vel[k]), f"velocity of {k} at the equilibrium of {eq.irreps}",
                     scale=star, floor=0.0)


def tangent_jacobian_numeric(system, point: dict, step: float = 1e-2) -> np.ndarray:
    """Tangent-space Jacobian of ``system.flow`` at ``point`` by Richardson-extrapolated central
    differences ``(4 D(h/2) - D(h)) / 3`` (exact up to rounding for flows of degree <= 4, e.g. the
    cubic flow of the quadratic CE model); basis: orthonormal tangent vectors of the spheres."""
    s = system
    names, n = s.vector_names, s.group.order
    x0 = _flatten(names, point)
    B = tangent_basis(names, s.sphere_groups, point)

    def F(x):
        v, _ = s.flow(_unflatten(names, x, n))
        return _flatten(names, v)

    def D(hh):
        return (F(x0[None, :] + hh * B.T) - F(x0[None, :] - hh * B.T)) / (2 * hh)

    cols = (4 * D(step / 2) - D(step)) / 3  # (k, N): derivative along each basis vector
    return B.T @ cols.T


def spectrum_sign(system, position: int) -> None:
    """The predicted tangent spectrum of an equilibrium equals the eigenvalues of the numerically
    linearised flow under test (tolerance 1e-6 relative to ``Omega*``), and its sign pattern
    matches the predicted classification (``stable``: no positive rate; ``saddle``: one)."""
    s = system
    eq = s.equilibria()[position]
    spec = s.spectrum(eq)
    star = float(eq.omega_star_float)
    J = tangent_jacobian_numeric(s, dict(eq.vectors))
    expect_close(J, J.T, f"tangent Jacobian at {eq.irreps} is not symmetric (a gradient flow's is)",
                 tol=1e-6, scale=star, floor=0.0)
    measured = np.sort(np.linalg.eigvalsh((J + J.T) / 2))
    predicted = np.sort(np.asarray(spec.rates, dtype=float))
    expect(len(measured) == len(predicted),
           f"{len(predicted)} predicted rates but the tangent space has dimension {len(measured)}")
    expect_close(measured, predicted, f"tangent spectrum at {eq.irreps}: measured vs predicted",
                 tol=1e-6, scale=star, floor=0.0)
    top = measured[-1] / star
    if spec.classification == "stable":
        expect(top <= 1e-6, f"{eq.irreps} predicted stable but the measured top rate is {top:.3g} Omega*")
    elif spec.classification == "saddle":
        expect(top > 1e-6, f"{eq.irreps} predicted saddle but no measured rate is positive (top {top:.3g} Omega*)")


# ---------------------------------------------------------------------- generated code and integrators
def codegen_matches_sympy(system, state) -> None:
    """The generated right-hand side equals the SymPy one (``lambdify`` of the derived block
    expressions) on the Fourier coefficients of ``state``, block by block, and the energies agree
    (tolerance 1e-9 relative to the largest velocity entry)."""
    s = system
    G = s.group
    coeffs = {k: G.fourier(np.asarray(state[k], dtype=float)) for k in s.vector_names}
    gen, gen_om = s.fourier_rhs({k: c.copy() for k, c in coeffs.items()})
    ref, ref_om = s.sympy_rhs({k: c.copy() for k, c in coeffs.items()})
    scale = max(float(np.abs(b).max(initial=0.0)) for k in s.vector_names for b in ref[k].blocks.values())
    expect_close(gen_om, ref_om, "energy: generated code vs SymPy", scale=max(scale, float(np.abs(ref_om).max())),
                 floor=FLOOR)
    for k in s.vector_names:
        for d, blk in ref[k].blocks.items():
            expect_close(gen[k].blocks[d], blk, f"d{k}_hat/dt on the blocks of dimension {d}: generated code vs SymPy",
                         scale=scale, floor=FLOOR)


def _max_entry(d: dict) -> float:
    return max(float(np.abs(np.asarray(v)).max(initial=0.0)) for v in d.values())


def _curvature(system, state, direction: dict, eps: float = 1e-4) -> float:
    """``max|F(x + eps r) - F(x - eps r)| / (2 eps)`` for a unit direction ``r`` (max entries):
    the rate at which the velocity field changes along ``r``."""
    norm = np.sqrt(sum((np.asarray(v) ** 2).sum() for v in direction.values()))
    if not norm > 0:
        return 0.0
    plus = {k: np.asarray(state[k]) + eps * direction[k] / norm for k in state}
    minus = {k: np.asarray(state[k]) - eps * direction[k] / norm for k in state}
    vp, _ = system.flow(plus)
    vm, _ = system.flow(minus)
    return _max_entry({k: (np.asarray(vp[k]) - np.asarray(vm[k])) / (2 * eps) for k in vp})


def integrator_steps(system, state, steps: int, fraction: float = 0.05) -> None:
    """A few steps of the geometric integrator on the system's right-hand side keep every sphere's
    norm at 1 (to ``1e-12`` per step) and never decrease the energy (Cayley-table sums; to
    ``1e-12`` relative). Step: ``dt = fraction / L`` with ``L`` the largest of ``|v|``, ``|grad E|``
    and the rate of change of the velocity field along ``v`` and along a fixed direction (finite
    differences): small against every time scale of the flow at the starting point."""
    s = system
    vel, _ = s.flow(state)
    vel = _real(vel, "Fourier flow", _grad_scale(reference_gradients(s, state)))
    probe = {k: np.cos(np.arange(np.asarray(v).shape[-1]) * (1.0 + i)) for i, (k, v) in enumerate(state.items())}
    rate = max(_max_entry(vel), _grad_scale(reference_gradients(s, state)),
               _curvature(s, state, vel), _curvature(s, state, probe))
    dt = fraction / max(rate, 1e-12)
    cur = {k: np.asarray(v, dtype=float) for k, v in state.items()}
    energy = float(reference_energy(s, cur))
    for i in range(int(steps)):
        cur = s.step(s.fourier_rhs, cur, dt)
        for S in s.sphere_groups:
            norm = np.sqrt(sum((np.asarray(cur[k]) ** 2).sum(-1) for k in S))
            expect_close(norm, np.ones_like(norm), f"norm of {'; '.join(S)} after {i + 1} integrator step(s)",
                         tol=1e-12 * (i + 1))
        new = float(reference_energy(s, cur))
        expect(new >= energy - 1e-12 * max(abs(energy), 1e-12),
               f"energy decreased over integrator step {i + 1}: {energy!r} -> {new!r} (dt = {dt:.3g})")
        energy = new


# ---------------------------------------------------------------------- landscape claims
def fd_tangent_jacobian(model, x, h: float = 1e-6) -> np.ndarray:
    """Central differences of the brute-force projected flow along an orthonormal tangent basis at ``x``
    (stacked vectors): the linearisation that the landscape's spectra and stability claims describe."""
    _, B = bruteforce.tangent_hessian(model, x)
    cols = [(bruteforce.riemannian_gradient(model, x + h * b) - bruteforce.riemannian_gradient(model, x - h * b))
            / (2 * h) for b in B.T]
    J = B.T @ np.column_stack(cols)
    return (J + J.T) / 2


def landscape_claims(result) -> None:
    """Every claim of a :class:`symflow.landscape.Landscape`, against independent computations:

    * basin counts plus unconverged starts add up to the starts;
    * each representative is stationary under the brute-force Cayley-table flow (``|grad| <= 1e-12`` of the
      energy scale) with the stated energy, and the exact energy equals it to 30 digits' worth;
    * stability: the finite-difference Jacobian of the brute-force flow has no growing direction exactly
      when the kind is stable (a kind with a family may be stable only on part of it), and its lowest rate
      lies in the reported spectrum;
    * the stated family dimension: that many zero modes beyond the symmetry ones, by finite differences.
    """
    import sympy as sp

    model = result.model
    expect(sum(a.count for a in result.attractors) + result.unconverged == result.starts,
           "basin counts plus unconverged starts differ from the number of starts")
    scale = max((abs(a.energy) for a in result.attractors), default=1.0) or 1.0
    for a in result.attractors:
        what = f"kind {result.labels(a)} at E = {a.energy:.6g}"
        x = stack(model, a.representative)
        g = float(np.linalg.norm(bruteforce.riemannian_gradient(model, x)))
        expect(g <= 1e-12 * scale, f"{what}: representative not stationary (|grad| = {g:.3g})")
        expect_close(bruteforce.energy(model, x), a.energy, f"{what}: energy", tol=1e-12, scale=scale)
        if a.energy_exact is not None:
            expect_close(float(sp.N(sp.sympify(a.energy_exact), 30)), a.energy, f"{what}: exact energy",
                         tol=1e-13, scale=scale)
        w = np.linalg.eigvalsh(fd_tangent_jacobian(model, x))
        tol = 1e-5 * max(np.abs(w).max(initial=0.0), 1e-300)
        if a.family_stable_fraction is None:
            expect((w.max(initial=0.0) <= tol) == a.stable,
                   f"{what}: stated {'stable' if a.stable else 'saddle'}, finite differences give max rate "
                   f"{w.max(initial=0.0):.3g}")
        lo = min((m[1] for m in a.spectrum), default=0.0)
        expect(w.min(initial=0.0) >= lo - tol, f"{what}: lowest rate {w.min():.6g} below the reported range")
        zero = int((np.abs(w) <= tol).sum())
        expect(zero >= a.symmetry_dimension + a.family_dimension,
               f"{what}: {zero} zero modes by finite differences, fewer than the stated "
               f"{a.symmetry_dimension} symmetry + {a.family_dimension} family directions")
