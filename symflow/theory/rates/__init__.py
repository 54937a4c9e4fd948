"""Rates: the flow linearised at each orbit's equilibrium, on the tangent space of the spheres.

At a critical point ``p`` of the energy ``f`` on a product of spheres, the Jacobian of the
projected flow ``d nu/dt = grad_nu f - lambda_S nu`` restricted to the tangent space is the
Riemannian Hessian

    ``J = P_T (H - Lambda) P_T``,  ``Lambda = lambda_S`` on sphere ``S``,  ``lambda_S = <nu_S, grad_S f>``,

with ``H`` the Euclidean Hessian. ``J`` is symmetric, so every rate is real; negative = decay,
time unit ``c = 1``. For the CE energy ``Omega`` (trilinear), ``lambda_S = Omega*`` for each vector
on its own sphere and ``2 Omega*`` for shared ``theta`` or the joint sphere of ``[theta1; theta2]``.

**Derived (exact).** The tangent space splits into the active orbit's real isotypic component
and the rest. Outside it the drive is quadratic and vanishes to first order, so every direction
decays at ``-lambda_S`` ("losing irreps", "trivial component"). Inside, the Hessian is the
derivative of the model's block drive (:func:`symflow.theory.trace_calculus.drive_expressions`) at the point's
canonical blocks (``E_11`` for real and complex type; the quaternionic line for quaternionic
type), in real coordinates of the orbit's real form (real, complex or quaternionic matrices),
computed exactly by polarisation ``Dq(p) e = q(p + e) - q(p) - q(e)`` on sparse exact matrices.
In units of ``Omega*`` the result depends only on ``(d, type, neuron)``: it is derived once per
class (:func:`orbit_closed_form`, with ``n`` symbolic) and diagonalised exactly with SymPy on the
connected components of its sparsity graph. Coordinates carry the mode labels:

* ``phase alignment``: the block entry on the point's own line (abelian phases; the
  quaternionic phase);
* ``magnitude balance``: joint spheres, moving norm between ``theta1`` and ``theta2``;
* ``rotational alignment``: entries in the point's row or column (``d > 1``);
* ``rank reduction``: entries off the point's row and column (``d > 1``);
* ``symmetry zero modes``: zero rates spanned by the continuous symmetries of ``Omega``
  (``theta1_hat -> V theta1_hat U^*``, ``theta2_hat -> W theta2_hat V^*``, ``xi_hat -> W xi_hat U^*``
  for unitaries of the orbit's real form; shared: ``U = V = W`` and the central phase);
* ``zero modes (manifold of maxima)``: the remaining zero rates. ``Omega*`` is the global maximum
  of ``Omega`` on the orbit's component (:mod:`symflow.theory.equilibria`), so these are flat
  directions of a manifold of maxima; they occur for shared quaternionic orbits, where
  ``theta_hat = r q``, ``xi_hat = r q^2`` is an equilibrium for every unit quaternion ``q``.

**Stability.** Outside the orbit every rate is negative and inside it the point is a global
maximum, so the point is a local maximum of ``Omega`` on the spheres: ``stable`` (Lyapunov; not
asymptotically along zero modes) when no rate is positive, ``saddle`` otherwise.

**Verified (numeric).** :func:`numeric_spectrum` builds ``H`` analytically from the Cayley table
(``d2 Omega / dtheta1(a) dtheta2(b) = n^-2 xi~(ab)``, ``d2 Omega / dtheta1(a) dxi(h) =
n^-2 (P theta2(a^-1 .))(h)``, ...), projects onto the tangent space, splits it into the same
labelled subspaces (by Fourier projections relative to the point's singular spaces) and
diagonalises; zero modes are compared with the symmetry generators ``(R_c, L_c)`` in parameter
space. :func:`spectrum` checks the derived spectrum against it (``VERIFY_TOL`` relative to
``Omega*``) and raises :class:`~symflow.errors.SymflowError` on any disagreement.

**Large abelian groups.** Products of cyclic groups of order ``> ABELIAN_RECORD_ORDER`` take every
spectrum from the orbit records (:class:`OrbitRecordEquilibrium`: the closed form of the orbit's type
at the group's ``n``), building no irreps and no points, so ``Z_p`` and products work up to
``n = 10^6``; the brute-force check is limited to ``n <= NUMERIC_MAX_ORDER`` (a one-line error above).

The modules, by job: :mod:`.results` (result types and the JSON contract), :mod:`.derivation` (the
exact derivation and its sparse exact block algebra), :mod:`.numeric` (the brute-force check),
:mod:`.records` (large abelian groups), :mod:`.spectra` (derived spectra checked against the brute force).
"""
from .derivation import abelian_rate_closed_forms, orbit_closed_form
from .numeric import (CLUSTER_TOL, COUPLING_TOL, NUMERIC_MAX_ORDER, ZERO_TOL, euclidean_hessian, numeric_spectrum,
                      sphere_multipliers, tangent_jacobian)
from .records import ABELIAN_RECORD_ORDER, OrbitRecordEquilibrium
from .results import MODE_ORDER, ClosedForm, Mode, Spectrum, report_from_spectra
from .spectra import VERIFY_MAX_ORDER, VERIFY_TOL, _compare, orbit_spectra, rates_report, spectrum

__all__ = ["Mode", "Spectrum", "ClosedForm", "OrbitRecordEquilibrium", "spectrum", "orbit_spectra", "rates_report",
           "report_from_spectra", "orbit_closed_form", "abelian_rate_closed_forms", "numeric_spectrum",
           "euclidean_hessian", "sphere_multipliers", "tangent_jacobian", "MODE_ORDER",
           "CLUSTER_TOL", "ZERO_TOL", "COUPLING_TOL", "VERIFY_TOL", "VERIFY_MAX_ORDER", "NUMERIC_MAX_ORDER",
           "ABELIAN_RECORD_ORDER"]
