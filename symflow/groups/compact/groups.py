"""The compact groups ``SO(2)``, ``O(2)``, ``SO(3)``, ``O(3)`` with a band limit ``L``.

An element is a matrix of the defining representation (``2 x 2`` for ``SO(2)``/``O(2)``, ``3 x 3`` for
``SO(3)``/``O(3)``); products are matrix products, inverses transposes. The band limit keeps finitely many
irreps (``|k| <= L``, ``l <= L``), listed in a fixed order so that each has a stable ``id`` (its index in
``group.irreps``); their conjugate-pair orbits are the project's :class:`~symflow.groups.orbits.IrrepOrbit`.

==========  ==========================================================  ==========================
group       irreps (id order)                                             type
==========  ==========================================================  ==========================
``SO(2)``   ``chi_0, chi_1, chi_-1, ..., chi_L, chi_-L``: ``e^{i k phi}``  complex pairs ``{k, -k}``
``O(2)``    ``psi_{0,0}``, ``psi_{1,0}`` (det), ``psi_{1,k}`` (2-dim)      real
``SO(3)``   ``D^0, ..., D^L`` (real Wigner matrices, dim ``2l+1``)       real
``O(3)``    ``D^l+``, ``D^l-`` = ``D^l`` times ``1`` or ``det``            real
==========  ==========================================================  ==========================

Haar measure (probability): ``d phi / 2 pi`` on ``SO(2)``; the same on each coset of ``O(2)``, mass 1/2 each;
``sin(beta) d alpha d beta d gamma / 8 pi^2`` on ``SO(3)``; mass 1/2 on each coset of ``O(3)``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cached_property

import numpy as np

from ...errors import SymflowError
from ..orbits import IrrepOrbit
from . import rotations as rot

#: The compact groups by canonical name (the grammar: :mod:`symflow.groups.names`).
COMPACT_NAMES = ("SO(2)", "O(2)", "SO(3)", "O(3)")
#: Largest band limit accepted (the Gauss-Legendre grid of SO(3) has (2L+1)^2 (L+1) points).
MAX_BANDLIMIT = 200


class CompactIrrep:
    """One irrep of a band-limited compact group: ``id``, ``label``, ``dim``, ``type`` (``"real"`` or ``"complex"``),
    the band index ``band`` (``|k|`` or ``l``), and its matrices and character on elements (defining matrices)."""

    def __init__(self, group, id: int, label: str, dim: int, type: str, band: int, meta: dict):
        self.group, self.id, self.label, self.dim, self.type, self.band = group, id, label, dim, type, band
        self.meta = dict(meta)

    @property
    def is_trivial(self) -> bool:
        return self.id == 0

    def matrices(self, elements) -> np.ndarray:
        """``rho(g)`` for defining matrices ``g`` (``(N, n, n)``), shape ``(N, d, d)``."""
        return self.group._matrices(self, np.asarray(elements, dtype=float))

    def character(self, elements) -> np.ndarray:
        """``chi(g) = tr rho(g)``, shape ``(N,)`` (closed forms, no matrices)."""
        return self.group._character(self, np.asarray(elements, dtype=float))

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "dim": self.dim, "type": self.type, "band": self.band}

    def __repr__(self) -> str:
        return f"<CompactIrrep {self.label} of {self.group.name}: dim {self.dim}, {self.type}>"


class CompactGroup(ABC):
    """A compact matrix group with band limit ``L`` (see the module doc); ``is_compact`` is True, ``order`` None."""

    name = ""
    is_compact = True
    order = None
    #: Size ``n`` of the defining matrices.
    degree = 0
    haar = ""
    character_formula = ""

    def __init__(self, bandlimit: int):
        self.bandlimit = int(bandlimit)

    # ------------------------------------------------------------------ irreps
    @cached_property
    def irreps(self) -> list:
        return [CompactIrrep(self, i, *spec) for i, spec in enumerate(self._irrep_specs())]

    def irrep(self, which) -> CompactIrrep:
        """An irrep by ``id`` or ``label``."""
        if isinstance(which, (int, np.integer)) and 0 <= int(which) < len(self.irreps):
            return self.irreps[int(which)]
        for r in self.irreps:
            if r.label == which:
                return r
        raise SymflowError(f"{self.name} with band limit {self.bandlimit} has no irrep {which!r}; its irreps are "
                           f"{', '.join(r.label for r in self.irreps)} (or their ids 0..{len(self.irreps) - 1})")

    @property
    def dims(self) -> list[int]:
        return [r.dim for r in self.irreps]

    @cached_property
    def conjugate_index(self) -> list[int]:
        """``conj[i]``: the id of the conjugate irrep (``chi_k -> chi_-k`` on ``SO(2)``, every other irrep is real)."""
        out = []
        for r in self.irreps:
            k = r.meta.get("k")
            out.append(self.irrep(f"chi_{-k}").id if r.type == "complex" else r.id)
        return out

    @cached_property
    def orbits(self) -> list:
        """The conjugate-pair orbits as :class:`IrrepOrbit` (``frequency_label`` ``k=1/-1`` on ``SO(2)``), by the
        one orbit construction of every group (:func:`symflow.groups.orbits.irrep_orbits`)."""
        from ..orbits import irrep_orbits

        def frequency(members):
            if self.name != "SO(2)" or "k" not in self.irreps[members[0]].meta:
                return None
            return "k=" + "/".join(str(self.irreps[m].meta["k"]) for m in members)

        return irrep_orbits(self, frequency)

    # ------------------------------------------------------------------ elements
    def multiply(self, a, b) -> np.ndarray:
        return np.asarray(a) @ np.asarray(b)

    def inverse(self, a) -> np.ndarray:
        return np.swapaxes(np.asarray(a), -1, -2)

    @abstractmethod
    def random_elements(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` Haar-distributed elements (seeded); each group samples its own Haar measure."""

    def quadrature(self, degree: int | None = None):
        """``(elements, weights)``: a rule exact for every matrix entry of irreps of band ``<= degree``
        (default ``2L``, so products of two band-``L`` functions integrate exactly); weights sum to 1
        (:func:`symflow.groups.compact.rotations.quadrature_rule`)."""
        return rot.quadrature_rule(self.name, 2 * self.bandlimit if degree is None else degree)

    # ------------------------------------------------------------------ output
    def to_json(self) -> dict:
        return {"name": self.name, "compact": True, "bandlimit": self.bandlimit, "haar": self.haar,
                "normalisation": "Haar probability measure; Fourier f_hat(rho) = int f(g) rho(g^-1) dg",
                "character": self.character_formula,
                "irreps": [r.to_dict() for r in self.irreps], "orbits": [o.to_dict() for o in self.orbits]}

    def summary(self) -> str:
        return (f"{self.name}, band limit {self.bandlimit}: {len(self.irreps)} irreps, {len(self.orbits)} orbits, "
                f"dims {self.dims}")

    def __repr__(self) -> str:
        return f"<CompactGroup {self.name} (band limit {self.bandlimit})>"

    @abstractmethod
    def _irrep_specs(self):
        """The irreps of band ``<= L`` as constructor arguments of :class:`CompactIrrep` (each group's own)."""


def _angle_2d(M) -> np.ndarray:
    return np.arctan2(M[..., 1, 0], M[..., 0, 0])


class SO2(CompactGroup):
    name, degree = "SO(2)", 2
    haar = "d phi / 2 pi"
    character_formula = "chi_k(r_phi) = exp(i k phi)"

    def _irrep_specs(self):
        ks = [0] + [s * k for k in range(1, self.bandlimit + 1) for s in (1, -1)]
        return [(f"chi_{k}", 1, "real" if k == 0 else "complex", abs(k), {"k": k}) for k in ks]

    def _character(self, r, M):
        return np.exp(1j * r.meta["k"] * _angle_2d(M))

    def exact_matrix(self, irrep, phi):
        """Exact ``[[exp(i k phi)]]`` (SymPy) of the rotation ``r_phi``."""
        import sympy as sp

        return sp.Matrix([[sp.exp(sp.I * self.irrep(irrep).meta["k"] * sp.sympify(phi))]])

    def _matrices(self, r, M):
        return self._character(r, M)[:, None, None]

    def random_elements(self, n, seed=0):
        return rot.rotation_2d(np.random.default_rng(seed).uniform(0, 2 * np.pi, n))


FLIP = rot.FLIP


class O2(CompactGroup):
    name, degree = "O(2)", 2
    haar = "d phi / 4 pi on each of the rotations r_phi and the reflections r_phi f"
    character_formula = "psi_{1,k}: 2 cos(k phi) on r_phi, 0 on r_phi f; psi_{1,0} = det"

    def _irrep_specs(self):
        out = [("psi_{0,0}", 1, "real", 0, {"k": 0, "j": 0}), ("psi_{1,0}", 1, "real", 0, {"k": 0, "j": 1})]
        return out + [(f"psi_{{1,{k}}}", 2, "real", k, {"k": k, "j": 1}) for k in range(1, self.bandlimit + 1)]

    @staticmethod
    def _split(M):
        """``(phi, s)`` with ``M = r_phi f^s``."""
        s = (np.linalg.det(M) < 0).astype(int)
        R = np.where(s[:, None, None] == 1, M @ FLIP, M)
        return _angle_2d(R), s

    def _matrices(self, r, M):
        phi, s = self._split(M)
        k = r.meta["k"]
        if r.dim == 1:
            v = 1.0 if r.meta["j"] == 0 else np.where(s == 1, -1.0, 1.0)
            return (np.ones(len(M)) * v)[:, None, None]
        R = rot.rotation_2d(k * phi)
        return np.where(s[:, None, None] == 1, R @ FLIP, R)

    def exact_matrix(self, irrep, phi, reflection: bool = False):
        """Exact matrix (SymPy) of ``r_phi`` (``reflection``: of ``r_phi f``): ``psi_{1,k}`` is the rotation by
        ``k phi`` times ``diag(1, -1)`` on reflections, ``psi_{1,0}`` is ``-1`` on reflections."""
        import sympy as sp

        r = self.irrep(irrep)
        if r.dim == 1:
            return sp.Matrix([[-1 if reflection and r.meta["j"] == 1 else 1]])
        a = r.meta["k"] * sp.sympify(phi)
        R = sp.Matrix([[sp.cos(a), -sp.sin(a)], [sp.sin(a), sp.cos(a)]])
        return R * sp.diag(1, -1) if reflection else R

    def _character(self, r, M):
        phi, s = self._split(M)
        if r.dim == 1:
            return np.ones(len(M)) * (1.0 if r.meta["j"] == 0 else np.where(s == 1, -1.0, 1.0))
        return np.where(s == 1, 0.0, 2 * np.cos(r.meta["k"] * phi))

    def random_elements(self, n, seed=0):
        rng = np.random.default_rng(seed)
        R = rot.rotation_2d(rng.uniform(0, 2 * np.pi, n))
        return np.where(rng.integers(0, 2, n)[:, None, None] == 1, R @ FLIP, R)


def _random_rotations(n, rng) -> np.ndarray:
    """Haar rotations from uniform unit quaternions ``(w, x, y, z)``."""
    return rot.quaternion_matrices(rng.normal(size=(n, 4)))


class SO3(CompactGroup):
    name, degree = "SO(3)", 3
    haar = "sin(beta) d alpha d beta d gamma / 8 pi^2 (ZYZ Euler angles)"
    character_formula = "chi_l(t) = sin((2l+1) t/2) / sin(t/2) for a rotation by angle t"

    def _irrep_specs(self):
        return [(f"D^{l}", 2 * l + 1, "real", l, {"l": l}) for l in range(self.bandlimit + 1)]

    def _matrices(self, r, M):
        return rot.wigner_D_real(r.meta["l"], M)

    def _character(self, r, M):
        return rot.so3_character(r.meta["l"], rot.rotation_angle(M))

    def exact_matrix(self, irrep, alpha, beta, gamma):
        """Exact real Wigner matrix (SymPy) of ``R_z(alpha) R_y(beta) R_z(gamma)``."""
        return rot.wigner_D_exact(self.irrep(irrep).meta["l"], alpha, beta, gamma)

    def random_elements(self, n, seed=0):
        return _random_rotations(n, np.random.default_rng(seed))


class O3(SO3):
    name = "O(3)"
    haar = "mass 1/2 on SO(3) and on -SO(3), each the Haar measure of SO(3)"
    character_formula = "chi_{l,p}(+-R) = (+-1)^p sin((2l+1) t/2) / sin(t/2)"

    def _irrep_specs(self):
        return [(f"D^{l}{'+-'[p]}", 2 * l + 1, "real", l, {"l": l, "parity": p})
                for l in range(self.bandlimit + 1) for p in (0, 1)]

    @staticmethod
    def _split(M):
        det = np.sign(np.linalg.det(M))
        return M * det[:, None, None], det

    def _matrices(self, r, M):
        R, det = self._split(M)
        return rot.wigner_D_real(r.meta["l"], R) * (det ** r.meta["parity"])[:, None, None]

    def _character(self, r, M):
        R, det = self._split(M)
        return rot.so3_character(r.meta["l"], rot.rotation_angle(R)) * det ** r.meta["parity"]

    def random_elements(self, n, seed=0):
        rng = np.random.default_rng(seed)
        return _random_rotations(n, rng) * rng.choice([-1.0, 1.0], n)[:, None, None]


_CLASSES = {"SO(2)": SO2, "O(2)": O2, "SO(3)": SO3, "O(3)": O3}


def check_bandlimit(bandlimit, name: str = "a compact group") -> int:
    """The band limit as an ``int`` in ``0..MAX_BANDLIMIT`` (decimal text accepted); one-line errors naming
    ``--bandlimit`` when it is missing (``None``) or bad."""
    from ...validation import integer

    what = f"an integer 0 <= L <= {MAX_BANDLIMIT}"
    if bandlimit is None:
        raise SymflowError(f"{name} is a compact group: give a band limit with --bandlimit L (Python: bandlimit=L), "
                           f"{what}, e.g. --bandlimit 4")
    L = integer(bandlimit, "--bandlimit", minimum=0, text=True, what=what)
    if L > MAX_BANDLIMIT:
        raise SymflowError(f"--bandlimit must be {what}, got {L}")
    return L


def compact_group(name: str, bandlimit) -> CompactGroup:
    """The compact group ``name`` (canonical, one of :data:`COMPACT_NAMES`) with band limit ``bandlimit``."""
    return _CLASSES[name](check_bandlimit(bandlimit, name))
