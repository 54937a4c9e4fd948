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

One layout idea, :class:`SpectralLayout`, with three storage forms: full rows (:class:`FourierLayout`),
compact rows (:class:`CompactLayout`: one member of each conjugate pair, half the size for abelian
groups; ``compress``/``expand`` convert) and blocked arrays (:class:`BlockedLayout`,
``layout.blocked(m)``: ``m`` rows of either form stored part by part, so each vector's blocks of all
``m`` neurons are one contiguous array). All forms share one geometry of the spheres
(:mod:`symflow.neuron.geometry`: ``inner``, ``sphere_norms``, ``retract``, ``project_tangent``; the
parameter-space trainer uses the same class on parameter rows) and project onto real signals
(``realify``). The cyclic case ``Z_n`` (the partner of frequency ``k`` is ``n - k``: reversed slices,
``rfft``) is flagged once, ``layout.cyclic``.

Irrep orbits are the group's (:attr:`symflow.groups.Group.orbits`, records with ``id``, ``label``,
``dim``, ``type``); a layout adds only where their irreps sit in a row (:attr:`FourierLayout.irrep_slots`,
:meth:`FourierLayout.orbit_slots_of`). Each layout carries the model's :class:`~symflow.neuron.Neuron`
(``layout.neuron``; :func:`neuron_of`).
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from ..errors import SymflowError
from ..groups.fourier import FourierCoefficients, inverse_fourier
from ..groups.compact.signals import coordinate_count, is_compact, mass
from ..groups.orbits import abelian_conjugates
from ..neuron import Neuron
from ..neuron.geometry import BlockedGeometry, RowGeometry, merge_ranges


def block_offsets(names, dims, counts) -> tuple:
    """``({(name, d): (start, stop)}, row length)``: each vector's blocks of each dimension, in order."""
    offsets, pos = {}, 0
    for name in names:
        for d in dims:
            size = counts[d] * d * d
            offsets[name, d] = (pos, pos + size)
            pos += size
    return offsets, pos


def mirror_cyclic_conjugates(blocks: np.ndarray) -> np.ndarray:
    """``Z_n``, real signals: ``nu_hat[n - k] = conj(nu_hat[k])`` for ``k = 1..(n-1)//2``, in place.

    ``blocks`` has shape ``(..., n, 1, 1)`` (frequencies on axis ``-3``) with frequencies
    ``0..n//2`` set; the rest are written. Returns ``blocks``.
    """
    n = blocks.shape[-3]
    np.conj(blocks[..., (n - 1) // 2:0:-1, :, :], out=blocks[..., n // 2 + 1:, :, :])
    return blocks


def neuron_of(model) -> Neuron:
    """The :class:`~symflow.neuron.Neuron` of ``model`` (its ``.neuron`` when it has one)."""
    neuron = getattr(model, "neuron", None)
    if neuron is not None:
        return neuron
    return Neuron(loss=model.loss, shared=model.shared, spheres=model.spheres, constraint=model.constraint)


class SpectralLayout:
    """THE spectral layout: rows of ``L`` complex entries, each vector's blocks of dimension ``d`` at
    ``offsets[name, d]`` (a ``(..., k_d, d, d)`` :meth:`view`), and the geometry of the neuron's spheres
    (:attr:`geometry`, a :class:`~symflow.neuron.geometry.RowGeometry` with the Plancherel weights of
    :attr:`weight_ranges`). Its storage forms are strategies of this one class:

    * ``"full"`` (:class:`FourierLayout`): every irrep, in ``group.irreps_by_dim`` order (``numpy.fft``
      order for abelian products);
    * ``"compact"`` (:class:`CompactLayout`, :attr:`FourierLayout.compact`): one member of each
      complex-conjugate pair (the half spectrum ``0..n//2`` of ``Z_n``);
    * :meth:`blocked` ``(m)`` (:class:`BlockedLayout`): ``m`` rows of either form stored part by part.

    Every form has the same per-neuron geometry (:meth:`inner`, :meth:`sphere_norms`, :meth:`retract`,
    :meth:`project_tangent`) and reality projection (:meth:`realify`).
    """

    form = "full"

    def view(self, data: np.ndarray, name: str, d: int) -> np.ndarray:
        """The ``(M, k_d, d, d)`` view of ``name``'s (stored) blocks of dimension ``d`` in ``data`` (M, L)."""
        a, b = self.offsets[name, d]
        return data[..., a:b].reshape(data.shape[:-1] + (self.counts[d], d, d))

    @cached_property
    def geometry(self) -> RowGeometry:
        """The spheres' geometry on rows of this layout (Plancherel weights)."""
        return RowGeometry(self.names, self.weight_ranges, self.spheres)

    def sphere_norms(self, data: np.ndarray) -> np.ndarray:
        """Plancherel norms of each sphere's vectors, shape ``(M, #spheres)``."""
        return self.geometry.sphere_norms(data)

    def retract(self, data: np.ndarray) -> np.ndarray:
        """Normalise every sphere to norm 1 in place (the retraction ``x -> x/|x|``); returns ``data``."""
        return self.geometry.retract(data)

    def inner(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Plancherel inner product ``<u, v> = sum_g u(g) v(g)`` of whole rows, shape ``(M,)``."""
        return self.geometry.inner(u, v)

    def project_tangent(self, data: np.ndarray, velocity: np.ndarray) -> np.ndarray:
        """Project ``velocity`` onto the tangent space of the spheres at ``data``, in place."""
        return self.geometry.project_tangent(data, velocity)

    # ------------------------------------------------------------------ row selection (as BlockedLayout's)
    def from_rows(self, rows: np.ndarray) -> np.ndarray:
        """Working rows (contiguous) from row-major ``rows``."""
        return np.ascontiguousarray(rows)

    def to_rows(self, data: np.ndarray) -> np.ndarray:
        return data

    def put_rows(self, rows: np.ndarray, index: np.ndarray, data: np.ndarray, mask=None) -> None:
        """``rows[index[mask]] = data[mask]``."""
        if mask is None:
            rows[index] = data
        else:
            rows[index[mask]] = data[mask]

    def take(self, data: np.ndarray, mask) -> np.ndarray:
        """The rows ``mask`` (boolean or index array) of ``data``, contiguous."""
        return np.ascontiguousarray(data[mask])

    def assign(self, dst: np.ndarray, src: np.ndarray, mask: np.ndarray) -> None:
        """``dst[mask] = src[mask]``."""
        dst[mask] = src[mask]

    def blocked(self, m: int) -> "BlockedLayout":
        """``m`` rows of this layout stored part by part (one :class:`BlockedLayout` per ``m``, kept)."""
        cache = self.__dict__.setdefault("_blocked", {})
        lay = cache.get(m)
        if lay is None:
            lay = cache[m] = BlockedLayout(self, m)
        return lay


class FourierLayout(SpectralLayout):
    """Where each ``(name, d)`` block lives in a state row, and which vectors share a sphere.

    Parameters
    ----------
    group : Group
    names : tuple of str
        Vector names (``model.vector_names``).
    spheres : tuple of tuples of names
        Each inner tuple is one unit sphere (``model.neuron.sphere_groups``); empty for no constraint.
    neuron : Neuron, optional
        The neuron variant (:meth:`for_model` sets it; the observables read its roles).
    """

    def __init__(self, group, names, spheres=(), neuron: Neuron | None = None):
        self.group = group
        self.neuron = neuron
        self.names = tuple(names)
        self.spheres = tuple(tuple(s) for s in spheres)
        #: the n of the Plancherel weights n d: the order, or 1 (Haar probability) on a compact group
        self.n = mass(group)
        #: abelian products of cyclic groups: all n characters in numpy.fft order (1 x 1 blocks)
        self.fft = group.abelian_factors is not None
        #: a single cyclic group Z_n: conjugate of frequency k is n - k (reversed slices, rfft)
        self.cyclic = bool(self.fft and len(group.abelian_factors) == 1)
        if self.fft:
            self.counts = {1: self.n}
        else:
            by_dim = group.irreps_by_dim
            if by_dim[1][0] != group.trivial_index:
                raise SymflowError(f"{group.name}: the trivial irrep must come first among the 1-dim irreps")
            self.counts = {d: len(idx) for d, idx in sorted(by_dim.items())}
        self.dims = tuple(sorted(self.counts))
        self.offsets, self.size = block_offsets(self.names, self.dims, self.counts)

    # ------------------------------------------------------------------ irrep slots and orbits
    @cached_property
    def slot_dims(self) -> np.ndarray:
        """Block dimension of every irrep slot; slots are the irreps in layout order (dims, then position)."""
        return np.concatenate([np.full(self.counts[d], d) for d in self.dims])

    def slot(self, d: int, pos: int) -> int:
        """Slot index of the irrep at position ``pos`` among those of dimension ``d``."""
        return int(sum(self.counts[e] for e in self.dims if e < d)) + int(pos)

    @cached_property
    def irrep_slots(self) -> np.ndarray:
        """Slot of every irrep (index into ``group.irreps``; ``numpy.fft`` order: the frequency itself)."""
        if self.fft:
            return np.arange(self.n)
        out = np.empty(sum(self.counts.values()), dtype=np.int64)
        for d, idx in self.group.irreps_by_dim.items():
            for pos, i in enumerate(idx):
                out[i] = self.slot(d, pos)
        return out

    @property
    def orbits(self) -> list:
        """The group's irrep orbits (:class:`~symflow.groups.orbits.IrrepOrbit`, ``id`` = position, trivial
        first); their slots are :meth:`orbit_slots_of`."""
        return self.group.orbits

    def orbit_slots_of(self, orbit) -> tuple:
        """The slots of an orbit's irreps."""
        return tuple(int(self.irrep_slots[i]) for i in orbit)

    @cached_property
    def orbit_slots(self) -> tuple:
        """``(first, second)`` slot arrays per orbit (``second = -1`` for self-dual orbits)."""
        slots = self.irrep_slots
        first = np.array([slots[o[0]] for o in self.orbits])
        second = np.array([slots[o[1]] if len(o) > 1 else -1 for o in self.orbits])
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
            return {1: (np.asarray(abelian_conjugates(self.group.abelian_factors)), None)}
        G = self.group
        where = {i: (d, pos) for d, idx in G.irreps_by_dim.items() for pos, i in enumerate(idx)}
        if is_compact(G):
            # SO(2)'s pairs are 1 x 1; O(2), SO(3), O(3) have real matrices (conj rho = rho): U = 1
            return {d: (np.array([where[G.conjugate_index[i]][1] for i in idx]),
                        np.broadcast_to(np.eye(d, dtype=np.complex128), (len(idx), d, d)).copy())
                    for d, idx in sorted(G.irreps_by_dim.items())}
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

    def realify(self, data: np.ndarray, view=None) -> np.ndarray:
        """Project rows onto real signals in place: ``nu_hat <- (nu_hat + J nu_hat)/2`` with the
        antilinear involution ``J nu_hat[rho] = U conj(nu_hat[partner]) U^*`` (orthogonal projection in
        the Plancherel metric; removes rounding drift off the reality constraint). Returns ``data``.
        ``view`` replaces :meth:`view` (for :class:`BlockedLayout` arrays)."""
        rm = self.reality_map
        cyclic = self.cyclic
        view = view or self.view
        real_pos = self._real_positions
        for name in self.names:
            for d in self.dims:
                partner, U = rm[d]
                B = view(data, name, d)
                if d in real_pos:
                    # every irrep of this dimension is of real type with U a phase times I: J B = conj(B)
                    B.imag[...] = 0.0
                    continue
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

    @cached_property
    def _real_positions(self) -> set:
        """Block dimensions whose irreps are all self-conjugate with a scalar intertwiner (real
        matrices, e.g. Young's orthogonal form): there real signals have real blocks."""
        if self.fft:
            return set()
        out = set()
        for d, (partner, U) in self.reality_map.items():
            eye = np.eye(d)
            if np.all(partner == np.arange(len(partner))) and all(
                    np.abs(u - u[0, 0] * eye).max() < 1e-12 and abs(abs(u[0, 0]) - 1) < 1e-12 for u in U):
                out.add(d)
        return out

    @classmethod
    def for_model(cls, model) -> "FourierLayout":
        neuron = neuron_of(model)
        spheres = neuron.sphere_groups if neuron.constrained else ()
        return cls(model.group, model.vector_names, spheres, neuron=neuron)

    @cached_property
    def weight_ranges(self) -> dict:
        """``{name: [(start, stop, w), ...]}``: contiguous entry ranges of constant Plancherel weight."""
        return {nm: [(*self.offsets[nm, d], float(self.n * d)) for d in self.dims] for nm in self.names}

    @cached_property
    def compact(self) -> "CompactLayout":
        """The :class:`CompactLayout` storing one member of each conjugate pair (see there)."""
        return CompactLayout(self)

    @property
    def full(self) -> "FourierLayout":
        """The full form itself (so ``layout.full`` / ``layout.compact`` name the forms of any layout)."""
        return self

    # ------------------------------------------------------------------ rows <-> Fourier coefficients
    def pack(self, coeffs: dict) -> tuple:
        """``(rows (M, L), batch shape)`` from ``{name: FourierCoefficients}`` of any batch shape."""
        batch = tuple(coeffs[self.names[0]].batch_shape)
        M = int(np.prod(batch, dtype=int))
        data = np.empty((M, self.size), dtype=np.complex128)
        for name in self.names:
            for d in self.dims:
                b = coeffs[name].blocks[d]
                self.view(data, name, d)[...] = b.reshape((M,) + b.shape[len(batch):])
        return data, batch

    def unpack(self, data: np.ndarray, batch: tuple | None = None) -> dict:
        """``{name: FourierCoefficients}`` (copies) of rows ``data``, reshaped to ``batch`` (default ``(M,)``)."""
        batch = (data.shape[0],) if batch is None else tuple(batch)
        return {name: FourierCoefficients(self.group, {d: self.view(data, name, d).reshape(batch + (self.counts[d], d, d)).copy()
                                                       for d in self.dims}) for name in self.names}

    def __repr__(self) -> str:
        return f"<FourierLayout {self.group.name}: names {self.names}, blocks {self.counts}, spheres {self.spheres}>"


class CompactLayout(SpectralLayout):
    """Rows storing one member of each complex-conjugate pair of irreps (real signals only).

    For real vectors ``nu_hat[conj rho] = U conj(nu_hat[rho]) U^*``
    (:attr:`FourierLayout.reality_map`), so half of the coefficients of a conjugate pair are
    redundant. A compact row keeps, for every vector name and block dimension ``d``, the irreps at
    positions ``keep[d]`` of the full layout (increasing): of each pair ``{rho, conj rho}`` the member
    at the smaller position, and every self-conjugate irrep; the trivial irrep stays first. Cyclic
    groups ``Z_n`` keep frequencies ``0 .. n//2`` (a prefix of each vector's part of a full row).

    Plancherel weights are ``n d`` per entry and ``2 n d`` for pair representatives (they stand
    for both members), so :meth:`inner`, :meth:`sphere_norms` and :meth:`retract` give exactly the
    values of the full rows. :meth:`realify` projects the self-conjugate blocks onto real signals
    (the pair representatives are unconstrained). :meth:`compress` and :meth:`expand` convert
    between full and compact rows; ``expand(compress(x)) == x`` for real signals.
    """

    def __init__(self, full: "FourierLayout"):
        self.full = full
        self.group, self.names, self.spheres, self.neuron = full.group, full.names, full.spheres, full.neuron
        self.n, self.fft = full.n, full.fft
        self.cyclic = full.cyclic
        rm = full.reality_map
        self.keep, self.paired, self.fill, self.selfdual = {}, {}, {}, {}
        for d in full.dims:
            partner, U = rm[d]
            partner = np.asarray(partner, dtype=np.int64)
            k = full.counts[d]
            keep = np.array([p for p in range(k) if partner[p] >= p], dtype=np.int64)
            where = {int(p): i for i, p in enumerate(keep)}
            missing = np.array([p for p in range(k) if partner[p] < p], dtype=np.int64)
            src = np.array([where[int(partner[p])] for p in missing], dtype=np.int64)
            self.keep[d] = keep
            self.paired[d] = partner[keep] != keep
            self.fill[d] = (missing, src, None if (U is None or d == 1) else U[missing])
            sd = np.nonzero(~self.paired[d])[0]
            self.selfdual[d] = (sd, None if (U is None or d == 1) else U[keep[sd]])
        if self.cyclic:
            self.half = self.n // 2 + 1
            self.pairs = (self.n - 1) // 2
        self.counts = {d: len(self.keep[d]) for d in full.dims}
        self.dims = full.dims
        self.has_pairs = any(bool(self.paired[d].any()) for d in self.dims)
        self.offsets, self.size = block_offsets(self.names, self.dims, self.counts)

    @property
    def compact(self) -> "CompactLayout":
        """The compact form itself."""
        return self

    @cached_property
    def slot_weight(self) -> dict:
        """``{d: (k_d,)}``: 2 for pair representatives, 1 for self-conjugate irreps."""
        return {d: np.where(self.paired[d], 2.0, 1.0) for d in self.dims}

    @cached_property
    def weight_ranges(self) -> dict:
        """``{name: [(start, stop, w), ...]}``: entry ranges of constant Plancherel weight."""
        out = {}
        for nm in self.names:
            ranges = []
            for d in self.dims:
                a0 = self.offsets[nm, d][0]
                for i, f in enumerate(self.slot_weight[d]):
                    ranges.append((a0 + i * d * d, a0 + (i + 1) * d * d, float(self.n * d * f)))
            out[nm] = merge_ranges(ranges)
        return out

    def realify(self, data: np.ndarray, view=None) -> np.ndarray:
        """Project the self-conjugate blocks onto real signals in place; returns ``data``."""
        view = view or self.view
        for d in self.dims:
            sd, U = self.selfdual[d]
            if not len(sd):
                continue
            for name in self.names:
                B = view(data, name, d)
                if self.cyclic:
                    B[..., 0, :, :].imag = 0.0
                    if self.n % 2 == 0:
                        B[..., self.n // 2, :, :].imag = 0.0
                    continue
                Bs = B[..., sd, :, :]
                if U is None:
                    B[..., sd, :, :] = Bs.real
                else:
                    J = U @ np.conj(Bs) @ np.conj(np.swapaxes(U, -1, -2))
                    B[..., sd, :, :] = 0.5 * (Bs + J)
        return data

    def compress(self, data: np.ndarray) -> np.ndarray:
        """Compact rows from full rows (the stored irreps' blocks, copied)."""
        data = np.asarray(data)
        out = np.empty(data.shape[:-1] + (self.size,), dtype=np.complex128)
        for name in self.names:
            for d in self.dims:
                src = self.full.view(data, name, d)
                self.view(out, name, d)[...] = src[..., :self.half, :, :] if self.cyclic else src[..., self.keep[d], :, :]
        return out

    def expand(self, data: np.ndarray) -> np.ndarray:
        """Full rows from compact rows: the missing member of each pair is ``U conj(B) U^*``."""
        data = np.asarray(data)
        out = np.empty(data.shape[:-1] + (self.full.size,), dtype=np.complex128)
        for name in self.names:
            for d in self.dims:
                c = self.view(data, name, d)
                f = self.full.view(out, name, d)
                if self.cyclic:
                    f[..., :self.half, :, :] = c
                    mirror_cyclic_conjugates(f)
                    continue
                f[..., self.keep[d], :, :] = c
                missing, src, U = self.fill[d]
                if len(missing):
                    J = np.conj(c[..., src, :, :])
                    if U is not None:
                        J = U @ J @ np.conj(np.swapaxes(U, -1, -2))
                    f[..., missing, :, :] = J
        return out

    def expand_part(self, c: np.ndarray) -> np.ndarray:
        """Cyclic groups: the ``(..., n, 1, 1)`` full blocks of one vector from its ``(..., n//2 + 1, 1, 1)`` stored ones."""
        out = np.empty(c.shape[:-3] + (self.n, 1, 1), dtype=np.complex128)
        out[..., :self.half, :, :] = c
        return mirror_cyclic_conjugates(out)

    def to_parameters(self, data: np.ndarray, chunk: int = 1024) -> dict:
        """``{name: (M, n) real}`` from compact rows (cyclic groups: ``n irfft`` of the stored
        frequencies; otherwise the inverse transform of the expanded rows), ``chunk`` rows at a time."""
        M = data.shape[0]
        out = {name: np.empty((M, coordinate_count(self.group))) for name in self.names}
        for a in range(0, M, chunk):
            rows = data[a:a + chunk]
            if self.cyclic:
                for name in self.names:
                    out[name][a:a + chunk] = self.n * np.fft.irfft(self.view(rows, name, 1)[..., 0, 0], n=self.n, axis=-1)
                continue
            for name, x in FourierState(self.full, self.expand(rows)).to_parameters().items():
                out[name][a:a + chunk] = x
        return out

    def __repr__(self) -> str:
        return f"<CompactLayout {self.group.name}: names {self.names}, stored blocks {self.counts} of {self.full.counts}>"


class BlockedLayout(SpectralLayout):
    """``m`` neurons of a row layout (:class:`FourierLayout` or :class:`CompactLayout`) stored part by part
    (the ``blocked`` form of :class:`SpectralLayout`; made by :meth:`SpectralLayout.blocked`).

    A blocked array has the shape ``(m, L)`` of ``m`` rows but another memory order: for each part
    ``(name, d)`` of the row layout in turn, the ``(m, k_d, d, d)`` blocks of all ``m`` neurons. So
    :meth:`view` returns contiguous arrays (elementwise NumPy operations run 2-5x faster on
    contiguous operands than on the strided column bands of row-major data), while any operation
    that treats the whole array as one vector (the Runge-Kutta stage combinations) is unchanged.
    Per-neuron geometry is that of the row layout (:class:`~symflow.neuron.geometry.BlockedGeometry`),
    and so is :meth:`realify`. The integrators use it for their working arrays.
    """

    form = "blocked"

    def __init__(self, base, m: int):
        self.base, self.m = base, int(m)
        self.group, self.names, self.spheres, self.n = base.group, base.names, base.spheres, base.n
        self.neuron = base.neuron
        self.fft, self.dims, self.counts, self.offsets, self.size = base.fft, base.dims, base.counts, base.offsets, base.size
        self.parts = sorted(((a, b, key) for key, (a, b) in base.offsets.items()))
        self.geometry = BlockedGeometry(self.names, base.weight_ranges, self.spheres,
                                        [(a, b, name) for a, b, (name, _) in self.parts], self.m)

    def part(self, data: np.ndarray, a: int, b: int) -> np.ndarray:
        """The ``(m, b - a)`` contiguous block of the part occupying row entries ``[a, b)``."""
        m = self.m
        return data.reshape(-1)[m * a:m * b].reshape(m, b - a)

    def view(self, data: np.ndarray, name: str, d: int) -> np.ndarray:
        a, b = self.offsets[name, d]
        return self.part(data, a, b).reshape(self.m, self.counts[d], d, d)

    def realify(self, data: np.ndarray) -> np.ndarray:
        return self.base.realify(data, view=self.view)

    def blocked(self, m: int) -> "BlockedLayout":
        return self.base.blocked(m)

    # ------------------------------------------------------------------ conversions and row selection
    def from_rows(self, rows: np.ndarray) -> np.ndarray:
        """A blocked copy of row-major ``rows`` ``(m, L)``."""
        out = np.empty((self.m, self.size), dtype=np.complex128)
        for a, b, _ in self.parts:
            self.part(out, a, b)[...] = rows[:, a:b]
        return out

    def to_rows(self, data: np.ndarray) -> np.ndarray:
        out = np.empty((self.m, self.size), dtype=np.complex128)
        for a, b, _ in self.parts:
            out[:, a:b] = self.part(data, a, b)
        return out

    def put_rows(self, rows: np.ndarray, index: np.ndarray, data: np.ndarray, mask=None) -> None:
        """``rows[index[mask]] = `` the neurons ``mask`` of ``data`` (row-major destination)."""
        sel = np.arange(self.m) if mask is None else np.nonzero(mask)[0]
        idx = np.asarray(index)[sel]
        for a, b, _ in self.parts:
            rows[idx, a:b] = self.part(data, a, b)[sel]

    def take(self, data: np.ndarray, mask) -> np.ndarray:
        """A blocked array of the neurons ``mask`` (boolean or index array) of ``data``."""
        sel = np.nonzero(mask)[0] if np.asarray(mask).dtype == bool else np.asarray(mask)
        out_lay = self.base.blocked(len(sel))
        out = np.empty((len(sel), self.size), dtype=np.complex128)
        for a, b, _ in self.parts:
            out_lay.part(out, a, b)[...] = self.part(data, a, b)[sel]
        return out

    def assign(self, dst: np.ndarray, src: np.ndarray, mask: np.ndarray) -> None:
        """``dst[neuron] = src[neuron]`` for the neurons ``mask`` (both blocked for ``m`` neurons)."""
        sel = np.nonzero(mask)[0]
        for a, b, _ in self.parts:
            self.part(dst, a, b)[sel] = self.part(src, a, b)[sel]

    def __repr__(self) -> str:
        return f"<BlockedLayout of {self.m} neurons: {self.base!r}>"


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
        arrays = neuron_of(model).parameter_arrays(arrays, coordinate_count(model.group))
        M = next(iter(arrays.values())).shape[0]
        data = np.empty((M, layout.size), dtype=np.complex128)
        G = model.group
        for name in layout.names:
            if layout.cyclic:
                # real signals on Z_n: rfft gives frequencies 0..n//2, the rest are their conjugates
                c = layout.compact
                part = c.view(np.empty((M, c.size), dtype=np.complex128), name, 1)
                part[..., 0, 0] = np.fft.rfft(arrays[name], axis=-1) / layout.n
                layout.view(data, name, 1)[...] = c.expand_part(part)
                continue
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
        (relative ``symflow.groups.fourier.SYNTHESIS_IMAG_TOL``): the state is then not a real signal."""
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
