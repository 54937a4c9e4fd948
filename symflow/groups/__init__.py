"""Finite groups, their exact irreducible representations and the group Fourier transform."""
from .group import Group
from .tables import check_group_axioms
from .irrep import Irrep
from .names import ACCEPTED, as_group, group
from .fourier import (FourierCoefficients, fourier, inverse_fourier, plancherel, real_fourier_basis,
                      fourier_matrix, RealFourierBasis)
from .abelian import abelian_group
from .dihedral import dihedral_group

__all__ = ["Group", "Irrep", "group", "as_group", "fourier", "inverse_fourier", "plancherel", "real_fourier_basis",
           "fourier_matrix", "FourierCoefficients", "RealFourierBasis", "abelian_group", "dihedral_group",
           "check_group_axioms", "ACCEPTED"]
