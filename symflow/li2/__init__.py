"""Li2 (Tian, arXiv 2509.21519) as a first-class model: the energy on a training subset, its maxima,
the node count for a perfect fit, the sample-size law and memorisation (docs/theory.md section 11)."""
from .core import ACTIVATIONS, Li2Problem, training_mask

__all__ = ["ACTIVATIONS", "Li2Problem", "training_mask"]
