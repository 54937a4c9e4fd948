"""What the theorems cover, said where a model is built (Python, CLI, reports).

GC's Stage-I theorem (docs/theory.md section 3) is stated for the cross-entropy loss in the small-logit
regime, the quadratic activation, unit spheres for every vector separately, and unshared embeddings on
non-abelian groups. Outside that, symflow still computes (the flow, the landscape) but says so:

* **shared embeddings on a non-abelian group** cannot represent the task: the output
  ``f(g1, g2) = sum xi sigma(theta(g1) + theta(g2))`` is symmetric in ``(g1, g2)`` while ``g1 g2 != g2 g1``
  for non-commuting pairs, so at most one of the two ordered pairs is right. The best accuracy on the
  table is ``(n k + (n^2 - n k) / 2) / n^2 = (1 + k / n) / 2`` (``k`` conjugacy classes: ``n k`` ordered
  pairs commute). :class:`ScopeWarning` is issued when such a model is built.
* other settings (MSE, other activations, joint spheres, no sphere constraint) get a one-line note.
"""
from __future__ import annotations

import warnings
from fractions import Fraction


class ScopeWarning(UserWarning):
    """A model outside what the theorems cover (it is still computed)."""


def best_symmetric_accuracy(group) -> Fraction:
    """``(1 + k/n) / 2``: the best accuracy of any network whose output is symmetric in ``(g1, g2)``."""
    return (1 + Fraction(len(group.classes), group.order)) / 2


def shared_warning(group) -> str | None:
    """The one-line warning for shared embeddings on ``group`` (``None`` if the group is abelian)."""
    if group.is_abelian:
        return None
    acc = best_symmetric_accuracy(group)
    return (f"shared embeddings on the non-abelian group {group.name} cannot represent the task: the network's "
            f"output is symmetric in (g1, g2) but g1 g2 != g2 g1 for some pairs, so at most {float(acc):.1%} "
            f"of the table ((1 + k/n)/2 with k = {len(group.classes)} classes) can be fitted; GC's theorem and "
            f"the authors' experiments use unshared embeddings there")


def notes(model) -> list:
    """Every scope note for ``model`` (first the shared-embedding warning, if any)."""
    out = []
    if model.shared:
        w = shared_warning(model.group)
        if w:
            out.append(w)
    if model.loss != "ce":
        out.append("MSE loss: GC's theorem is stated for cross-entropy; results here are computed, not predicted "
                   "by it (Li2's model, docs/theory.md section 7)")
    if not model.is_bilinear:
        out.append(f"activation {model.activation_text}: GC's theorem is stated for sigma = z^2; with higher "
                   f"powers the irrep blocks couple and there is no reduced per-block flow")
    if model.neuron.constrained:
        if model.spheres == "joint" and model.loss == "ce":
            out.append("joint spheres [theta1; theta2]: the GC authors' code; the paper's theorem uses separate "
                       "spheres (here Omega* is halved and the rates are derived for this setting, not the paper's)")
    else:
        out.append("no sphere constraint: outside Stage I (the energy grows without bound)")
    return out


def warn_if_unrepresentable(model, stacklevel: int = 3) -> None:
    """Issue :class:`ScopeWarning` for shared embeddings on a non-abelian group."""
    if model.shared:
        w = shared_warning(model.group)
        if w:
            warnings.warn(w, ScopeWarning, stacklevel=stacklevel)
