r"""Li2's model: the network ``Y_hat = sigma(X W) V`` on (part of) a group's composition table.

Samples are pairs ``(a, b)`` of a training subset ``S`` of the ``n^2`` table entries (flat index
``a n + b``), input ``x = [e_a; e_b]`` (``2 n``), target ``y = e_{ab}``. A hidden node ``w = [u; v]`` on
the unit sphere of ``R^{2n}`` has, in the independent-feature stage, the energy

    E_S(w) = 1/2 || Y~^T sigma(X w) ||^2,   Y~ = Y - 1 ybar^T   (targets centred over the samples)

Written out (derived by :func:`symflow.li2.derive.derive_energy` from the network definition with SymPy):
``E_S = 1/2 sum_h (z_h - q_h s)^2`` with ``z_h = sum_{(a,b) in S, ab = h} sigma(u_a + v_b)``,
``s = sum_{(a,b) in S} sigma(u_a + v_b)`` and ``q_h = N_h / N`` the target frequencies. This is symflow's
MSE energy with a training mask, ``Model(G, loss="mse", mask=S)`` (:func:`li2_model`; on the full table
``q_h = 1/n`` and it is ``Model(G, loss="mse")``, docs/theory.md section 7, whose Fourier form
``E = (2/n) sum_{rho != 1} d_rho ||U(rho) V(rho)||_F^2`` (``sigma = z^2``, ``U = sum_g u(g) rho(g)``) is proved
there exactly for every irrep type). Its energy, gradient, Hessian and sphere geometry are the core's
(:mod:`symflow.neuron.bruteforce`, :mod:`symflow.neuron.geometry`); its maxima come from the landscape engine
(:mod:`symflow.landscape`, ascent of ``E_S``). Li2 keeps here only what is its own: the training subset,
its activation names and the hidden features ``sigma(X w)`` the output layer is fitted on.
"""
from __future__ import annotations

import numpy as np

from ..errors import SymflowError
from ..neuron.activation import as_activation
from ..validation import integer, nontrivial_group, real

#: The named activations Li2 is run with (any activation of :mod:`symflow.neuron.activation` is accepted): the
#: powers of Thm 5 (``phi = sigma'(x)/x`` constant or increasing) and ReLU, SiLU, tanh (``phi`` decreasing).
ACTIVATIONS = ("x^2", "x^3", "relu", "silu", "tanh")
#: Li2's spelling of the powers (its outputs write ``x^q``); every other activation keeps its canonical name.
POWER_NAMES = {"quad": "x^2", "z**3": "x^3"}


def check_activation(name) -> str:
    """Li2's name of the activation ``name`` (the one vocabulary, :func:`~symflow.neuron.activation.as_activation`):
    the canonical name, with the quadratic and the cubic spelled ``x^2``, ``x^3`` as in Li2's outputs."""
    act = as_activation(name)
    return POWER_NAMES.get(act.name, act.name)


def training_mask(group, fraction: float = 1.0, seed: int = 0) -> np.ndarray:
    """Boolean ``(n, n)`` mask of a uniformly random subset of ``round(fraction n^2)`` table entries
    (all of them for ``fraction = 1``); at least two distinct targets are kept (else ``Y~ = 0``): when every drawn
    entry has the same target, the last drawn one is swapped for a random entry with another target."""
    n = nontrivial_group(group, "Li2's training").order
    f = real(fraction, "fraction", what="in (0, 1]: the share of the n^2 table used for training")
    if f > 1:
        raise SymflowError(f"fraction must be in (0, 1]: the share of the n^2 table used for training, got {fraction!r}")
    seed = integer(seed, "seed", minimum=0)
    N = max(2, int(round(f * n * n)))
    mask = np.zeros(n * n, dtype=bool)
    if N >= n * n:
        mask[:] = True
    else:
        rng = np.random.default_rng(seed)
        chosen = rng.choice(n * n, size=N, replace=False)
        mask[chosen] = True
        targets = np.asarray(group.table).reshape(-1)
        if n >= 2 and np.all(targets[chosen] == targets[chosen[0]]):
            mask[chosen[-1]] = False
            mask[rng.choice(np.flatnonzero(targets != targets[chosen[0]]))] = True
    return mask.reshape(n, n)


def li2_model(group, mask=None, activation="x^2"):
    """Li2's energy ``E_S`` as the core's model: ``Model(G, loss="mse", mask=S, activation=sigma)`` (unshared
    ``u, v`` on one joint sphere ``w = [u; v]``; ``mask=None``: the full table)."""
    from ..theory.model import Model

    from ..groups import as_group

    group = nontrivial_group(as_group(group), "Li2's model")
    return Model(group, loss="mse", activation=as_activation(activation), mask=mask)


def training_entries(model) -> np.ndarray:
    """Flat indices ``a n + b`` of the model's training entries (all ``n^2`` without a mask)."""
    n = model.group.order
    return np.arange(n * n) if model.mask is None else np.flatnonzero(model.mask.reshape(-1))


def training_fraction(model) -> float:
    """``N / n^2``: the share of the table the model trains on."""
    return len(training_entries(model)) / model.group.order ** 2


def features(model, x, pairs=None) -> np.ndarray:
    """``sigma(X w)`` for nodes ``x`` ``(m, 2n)`` on the table entries ``pairs`` (flat indices; default all):
    shape ``(len(pairs), m)``."""
    n = model.group.order
    x = np.asarray(x, dtype=float)
    H = model.sigma(x[:, :n, None] + x[:, None, n:]).reshape(len(x), -1)
    return (H if pairs is None else H[:, pairs]).T
