"""Li2 (Tian, arXiv 2509.21519) as a first-class model: the energy on a training subset (the core's masked
MSE model, :func:`~symflow.li2.core.li2_model`), its maxima (the landscape engine), the node count for a
perfect fit, the sample-size law and memorisation (docs/theory.md section 11)."""
from .core import ACTIVATIONS, li2_model, training_mask

__all__ = ["ACTIVATIONS", "li2_model", "training_mask"]
