"""Batched neuron states in Fourier coordinates.

A neuron is a tuple of real vectors ``nu: G -> R`` (``theta1, theta2, xi``; shared
``theta, xi``). In Fourier coordinates (GC convention ``nu_hat[rho] = (1/n) sum_g nu(g) rho(g)^*``)
it is one ``d x d`` complex block per irrep. :class:`FourierState` stores ``M`` neurons as one
contiguous complex array ``data`` of shape ``(M, L)``; for each vector name and each block
dimension ``d`` the slice ``blocks(name)[d]`` is a view of shape ``(M, k_d, d, d)`` with the irreps
of dimension ``d`` in the order of ``group.irreps_by_dim[d]`` (abelian groups given as products of
cyclic groups: all ``n`` characters in ``numpy.fft`` order, ``d = 1``). ``L = (#names) * n``.

All irreps are kept, including both members of each complex-conjugate pair; real signals satisfy
``nu_hat[conj rho] = conj(nu_hat[rho])`` and the reduced flow preserves it.
Norms use Plancherel: ``|nu|^2 = sum_g nu(g)^2 = n sum_rho d_rho ||nu_hat[rho]||_F^2``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import SymflowError
from ..groups.fourier import FourierCoefficients, inverse_fourier


@dataclass(frozen=True)
class Orbit:
    """A conjugate-pair orbit ``{rho, conj rho}``: its irreps' slots in the layout, dimension, type."""

    index: int
    label: str
    dim: int
    slots: tuple
    kind: str  # "trivial", "real", "complex" or "quaternionic"

    @property
    def size(self) -> int:
        return len(self.slots)


class FourierLayout:
    """Where each ``(name, d)`` block lives in a state row, and which vectors share a sphere.

    Parameters
    ----------
    group : Group
    names : tuple of str
        Vector names (``model.vector_names``).
    spheres : tuple of tuples of names
        Each inner tuple is one unit sphere (``model.manifold.spheres``); empty for no constraint.
    """

    def __init__(self, group, names, spheres=()):
        self.group = group
        self.names = tuple(names)
        self.spheres = tuple(tuple(s) for s in spheres)
        self.n = group.order
        self.fft = group.abelian_factors is not None
        if self.fft:
            self.counts = {1: self.n}
        else:
            by_dim = group.irreps_by_dim
            if by_dim[1][0] != group.trivial_index:
                raise SymflowError(f"{group.name}: the trivial irrep must come first among the 1-dim irreps")
            self.counts = {d: len(idx) for d, idx in sorted(by_dim.items())}
        self.dims = tuple(sorted(self.counts))
        self.offsets = {}
        pos = 0
        for name in self.names:
            for d in self.dims:
                size = self.counts[d] * d * d
                self.offsets[name, d] = (pos, pos + size)
                pos += size
        self.size = pos

    # ------------------------------------------------------------------ irrep slots and orbits
    @cached_property
    def slot_dims(self) -> np.ndarray:
        """Block dimension of every irrep slot; slots are the irreps in layout order (dims, then position)."""
        return np.concatenate([np.full(self.counts[d], d) for d in self.dims])

    def slot(self, d: int, pos: int) -> int:
        """Slot index of the irrep at position ``pos`` among those of dimension ``d``."""
        return int(sum(self.counts[e] for e in self.dims if e < d)) + int(pos)

    @cached_property
    def orbits(self) -> list:
        """Conjugate-pair orbits ``{rho, conj rho}`` as :class:`Orbit` records, trivial first."""
        out = []
        if self.fft:
            f = self.group.abelian_factors
            digits = np.stack(np.unravel_index(np.arange(self.n), f), axis=-1)
            conj = np.ravel_multi_index(tuple(((-digits) % np.array(f)).T), f)
            for k in range(self.n):
                c = int(conj[k])
                if c < k:
                    continue
                lab = str(int(digits[k][0])) if len(f) == 1 else "(" + ",".join(str(int(x)) for x in digits[k]) + ")"
                if c != k:
                    clab = str(int(digits[c][0])) if len(f) == 1 else "(" + ",".join(str(int(x)) for x in digits[c]) + ")"
                    lab = f"{lab}/{clab}"
                kind = "trivial" if k == 0 else ("real" if c == k else "complex")
                out.append(Orbit(len(out), "k=" + lab, 1, (k,) if c == k else (k, c), kind))
            return out
        G = self.group
        where = {i: (d, pos) for d, idx in G.irreps_by_dim.items() for pos, i in enumerate(idx)}
        for orb in G.orbits:
            r = G.irreps[orb[0]]
            slots = tuple(self.slot(*where[i]) for i in orb)
            kind = "trivial" if r.is_trivial else {1: "real", 0: "complex", -1: "quaternionic"}[r.indicator]
            label = "/".join(G.irreps[i].label for i in orb)
            out.append(Orbit(len(out), label, r.dim, slots, kind))
        out.sort(key=lambda o: (o.kind != "trivial", o.index))
        return [Orbit(i, o.label, o.dim, o.slots, o.kind) for i, o in enumerate(out)]

    @cached_property
    def orbit_slots(self) -> tuple:
        """``(first, second)`` slot arrays per orbit (``second = -1`` for self-dual orbits)."""
        first = np.array([o.slots[0] for o in self.orbits])
        second = np.array([o.slots[1] if len(o.slots) > 1 else -1 for o in self.orbits])
        return first, second

    def slot_position(self, slot: int) -> tuple:
        """``(d, pos)`` of a slot (inverse of :meth:`slot`)."""
        for d in self.dims:
            if slot < self.counts[d]:
                return d, slot
            slot -= self.counts[d]
        raise IndexError(slot)

    # ------------------------------------------------------------------ reality constraint
    @cached_property
    def reality_map(self) -> dict:
        """``{d: (partner, U)}`` with ``nu_hat[rho] = U conj(nu_hat[partner]) U^*`` for real signals.

        ``partner[pos]`` is the position of the conjugate irrep (itself for self-dual irreps) and
        ``U`` (``(k_d, d, d)``, unitary) intertwines: ``rho(g) U = U conj(rho_partner(g))``, built as
        the group average ``sum_g rho(g) A rho_partner(g)^T`` of a fixed random ``A``. ``U = None`` for
        the ``numpy.fft`` path (all blocks 1 x 1, ``U = 1``).
        """
        if self.fft:
            f = self.group.abelian_factors
            digits = np.stack(np.unravel_index(np.arange(self.n), f), axis=-1)
            partner = np.ravel_multi_index(tuple(((-digits) % np.array(f)).T), f)
            return {1: (np.asarray(partner), None)}
        G = self.group
        where = {i: (d, pos) for d, idx in G.irreps_by_dim.items() for pos, i in enumerate(idx)}
        rng = np.random.default_rng(12345)
        out = {}
        for d, idx in sorted(G.irreps_by_dim.items()):
            partner = np.empty(len(idx), dtype=np.int64)
            U = np.empty((len(idx), d, d), dtype=np.complex128)
            for pos, i in enumerate(idx):
                j = G.conjugate_index[i]
                partner[pos] = where[j][1]
                Ri, Rj = G.irreps[i].matrices, G.irreps[j].matrices
                if d == 1:
                    U[pos] = 1.0
                    continue
                for _ in range(5):
                    A = rng.standard_normal((d, d)) + 1j * rng.standard_normal((d, d))
                    W = np.einsum("gab,bc,gdc->ad", Ri, A, Rj)
                    c = np.real(np.trace(W @ W.conj().T)) / d
                    if c > 1e-8:
                        break
                W = W / np.sqrt(c)
                if np.abs(np.einsum("gab,bc->gac", Ri, W) - np.einsum("ab,gbc->gac", W, np.conj(Rj))).max() > 1e-8:
                    raise SymflowError(f"{G.name}: no intertwiner between {G.irreps[i].label} and the conjugate "
                                       f"of {G.irreps[j].label}")
                U[pos] = W
            out[d] = (partner, U)
        return out

    def realify(self, data: np.ndarray) -> np.ndarray:
        """Project rows onto real signals in place: ``nu_hat <- (nu_hat + J nu_hat)/2`` with the
        antilinear involution ``J nu_hat[rho] = U conj(nu_hat[partner]) U^*`` (orthogonal projection in
        the Plancherel metric; removes rounding drift off the reality constraint). Returns ``data``."""
        rm = self.reality_map
        cyclic = self.fft and len(self.group.abelian_factors) == 1
        for name in self.names:
            for d in self.dims:
                partner, U = rm[d]
                B = self.view(data, name, d)
                if cyclic:
                    # Z_n: the partner of frequency k is n - k; reversed slices instead of a gather
                    J = np.conj(B[:, :0:-1])
                    tail = B[:, 1:]
                    tail += J
                    tail *= 0.5
                    B[:, 0].imag = 0.0
                    continue
                J = np.conj(B[:, partner])
                if U is not None and d > 1:
                    J = U @ J @ np.conj(np.swapaxes(U, -1, -2))
                B += J
                B *= 0.5
        return data

    @classmethod
    def for_model(cls, model) -> "FourierLayout":
        man = model.manifold
        spheres = man.spheres if man.constrained else ()
        return cls(model.group, model.vector_names, spheres)

    def view(self, data: np.ndarray, name: str, d: int) -> np.ndarray:
        """The ``(M, k_d, d, d)`` view of ``name``'s blocks of dimension ``d`` in ``data`` (M, L)."""
        a, b = self.offsets[name, d]
        return data[..., a:b].reshape(data.shape[:-1] + (self.counts[d], d, d))

    @cached_property
    def entry_weight(self) -> np.ndarray:
        """Plancherel weight ``n d`` of each entry of one vector's part of a row, shape ``(n,)``."""
        return np.concatenate([np.full(self.counts[d] * d * d, float(self.n * d)) for d in self.dims])

    @cached_property
    def _real_weight(self) -> np.ndarray:
        """Weights of the float64 view of a whole row (real and imaginary parts), ``(2L,)``."""
        return np.repeat(np.tile(self.entry_weight, len(self.names)), 2)

    def sphere_slices(self) -> list:
        """For each sphere, the list of ``(start, stop)`` ranges of its vectors in a row."""
        out = []
        for sphere in self.spheres:
            out.append([(self.offsets[nm, self.dims[0]][0], self.offsets[nm, self.dims[-1]][1]) for nm in sphere])
        return out

    def sphere_norms(self, data: np.ndarray) -> np.ndarray:
        """Plancherel norms of each sphere's vectors, shape ``(M, #spheres)``."""
        w = self._real_weight
        x = np.ascontiguousarray(data).view(np.float64)
        cols = []
        for ranges in self.sphere_slices():
            sq = 0.0
            for a, b in ranges:
                part = x[..., 2 * a:2 * b]
                sq = sq + (part * part) @ w[2 * a:2 * b]
            cols.append(np.sqrt(sq))
        if not cols:
            return np.zeros(data.shape[:-1] + (0,))
        return np.stack(cols, axis=-1)

    def retract(self, data: np.ndarray) -> np.ndarray:
        """Normalise every sphere to norm 1 in place (the retraction ``x -> x/|x|``); returns ``data``."""
        norms = self.sphere_norms(data)
        for s, ranges in enumerate(self.sphere_slices()):
            inv = 1.0 / norms[..., s:s + 1]
            for a, b in ranges:
                data[..., a:b] *= inv
        return data

    def inner(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Plancherel inner product ``<u, v> = sum_g u(g) v(g)`` of whole rows, shape ``(M,)``."""
        uf = np.ascontiguousarray(u).view(np.float64)
        vf = uf if v is u else np.ascontiguousarray(v).view(np.float64)
        return (uf * vf) @ self._real_weight

    def __repr__(self) -> str:
        return f"<FourierLayout {self.group.name}: names {self.names}, blocks {self.counts}, spheres {self.spheres}>"


class FourierState:
    """``M`` neurons in Fourier coordinates; ``data`` has shape ``(M, L)`` (see module docstring)."""

    def __init__(self, layout: FourierLayout, data: np.ndarray):
        data = np.asarray(data)
        if data.ndim != 2 or data.shape[1] != layout.size:
            raise SymflowError(f"state data must have shape (M, {layout.size}), got {data.shape}")
        self.layout = layout
        self.data = np.ascontiguousarray(data, dtype=np.complex128)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_parameters(cls, model, arrays) -> "FourierState":
        """Transform parameter-space vectors (dict ``name -> (M, n)`` real) to Fourier coordinates.

        For a shared model pass ``theta`` (or ``theta1``; ``theta2`` must then equal it).
        """
        layout = FourierLayout.for_model(model)
        arrays = _parameter_dict(model, arrays)
        M = next(iter(arrays.values())).shape[0]
        data = np.empty((M, layout.size), dtype=np.complex128)
        G = model.group
        for name in layout.names:
            coeffs = G.fourier(arrays[name])
            for d in layout.dims:
                layout.view(data, name, d)[...] = coeffs.blocks[d]
        return cls(layout, data)

    # ------------------------------------------------------------------ access
    @property
    def width(self) -> int:
        return self.data.shape[0]

    @property
    def names(self) -> tuple:
        return self.layout.names

    @property
    def group(self):
        return self.layout.group

    def blocks(self, name: str) -> dict:
        """``{d: (M, k_d, d, d)}`` views of ``name``'s Fourier blocks."""
        return {d: self.layout.view(self.data, name, d) for d in self.layout.dims}

    def coefficients(self, name: str) -> FourierCoefficients:
        return FourierCoefficients(self.group, self.blocks(name))

    def to_parameters(self) -> dict:
        """``{name: (M, n) real}``; raises :class:`SymflowError` if an imaginary part is not rounding
        (relative ``symflow.groups.fourier.IMAG_TOL``): the state is then not a real signal."""
        return {name: inverse_fourier(self.group, self.coefficients(name), real=True) for name in self.names}

    def norms(self) -> np.ndarray:
        """Plancherel norm of each sphere, shape ``(M, #spheres)`` (1 on the constraint manifold)."""
        return self.layout.sphere_norms(self.data)

    def copy(self) -> "FourierState":
        return FourierState(self.layout, self.data.copy())

    def __getitem__(self, idx) -> "FourierState":
        data = self.data[idx]
        if data.ndim == 1:
            data = data[None, :]
        return FourierState(self.layout, data)

    def __len__(self) -> int:
        return self.width

    def __repr__(self) -> str:
        return f"<FourierState {self.group.name}: {self.width} neurons, names {self.names}, blocks {self.layout.counts}>"


def _parameter_dict(model, arrays) -> dict:
    """Validate user parameter arrays: dict by name (or a tuple in ``vector_names`` order)."""
    names = tuple(model.vector_names)
    n = model.group.order
    if isinstance(arrays, (tuple, list)):
        if len(arrays) == len(names):
            arrays = dict(zip(names, arrays))
        elif model.shared and len(arrays) == len(names) + 1:
            arrays = {names[0]: arrays[0], "theta2": arrays[1], names[-1]: arrays[-1]}
        else:
            raise SymflowError(f"expected {len(names)} arrays {names}, got {len(arrays)}")
    if not isinstance(arrays, dict):
        raise SymflowError(f"parameters must be a dict name -> (M, n) array with names {names}")
    arrays = dict(arrays)
    if model.shared:
        shared_name = names[0]
        if shared_name not in arrays:
            for alias in ("theta1", "u"):
                if alias in arrays:
                    arrays[shared_name] = arrays[alias]
        other = "theta2" if "theta2" in arrays else None
        if other and shared_name in arrays and not np.array_equal(np.asarray(arrays[other]), np.asarray(arrays[shared_name])):
            raise SymflowError("a shared model has theta1 = theta2; the arrays given differ")
    out = {}
    M = None
    for name in names:
        if name not in arrays:
            raise SymflowError(f"missing parameter array {name!r}; a {'shared' if model.shared else 'unshared'} "
                               f"model needs {names}")
        a = np.asarray(arrays[name])
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] != n:
            raise SymflowError(f"{name} must have shape (M, {n}) (neurons x group elements), got {np.shape(arrays[name])}")
        if np.iscomplexobj(a):
            raise SymflowError(f"{name} must be real (parameter-space vectors are real)")
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            raise SymflowError(f"{name} must be an array of real numbers") from None
        if not np.all(np.isfinite(a)):
            raise SymflowError(f"{name} contains non-finite values (nan or inf)")
        if M is None:
            M = a.shape[0]
        elif a.shape[0] != M:
            raise SymflowError(f"all parameter arrays need the same number of neurons; {name} has {a.shape[0]}, expected {M}")
        out[name] = a
    if M == 0:
        raise SymflowError("width 0: at least one neuron is needed")
    return out
