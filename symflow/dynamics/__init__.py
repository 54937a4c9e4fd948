"""Reduced Fourier-domain dynamics of a population of neurons.

    from symflow.dynamics import simulate
    res = simulate("F21", width=512, seed=0)        # uniform start, geometric integrator
    res.summary()                                   # fractions per irrep orbit, alignment quantiles
    res.save("f21.npz")                             # the public NPZ contract (see results.py)

Modules, in the order data flows (the one geometry of the spheres, used by all of them, is
:mod:`symflow.neuron.geometry`): ``state`` (the spectral layout ``SpectralLayout`` and its full / compact / blocked forms, Fourier
coordinates), ``initial`` (initial populations), ``flow`` (THE flow evaluator), ``reduced``
(``ReducedFlow``: the evaluator of a model or group name), ``steppers``
(methods ``GeometricRK``, ``ScipyStepper``; one bound stepper per problem), ``events`` (equilibrium, blow-up), ``integrators`` (the
chunked driver ``integrate``), ``defaults`` (run defaults), ``drivers`` (``simulate``,
``run_until_aligned``), ``alignment`` (the alignment criterion), ``observables``, ``results``; the full network in parameter space: ``network``
(``TwoLayerNetwork``), ``training`` (``train``), ``stage2`` (scale training).
"""
from .state import FourierLayout, FourierState, SpectralLayout
from .reduced import ReducedFlow
from .drivers import AlignedRun, run_until_aligned, simulate
from .results import SimulationResult
from .integrators import integrate
from .steppers import GeometricRK, ScipyStepper, make_stepper
from .network import TwoLayerNetwork, split_pairs, neuron_alignment
from .training import TrainingHistory, train
from .stage2 import Stage2Prediction, simulate_stage2, aligned_population
from . import initial, observables

__all__ = ["simulate", "run_until_aligned", "AlignedRun", "SimulationResult", "ReducedFlow", "FourierState",
           "FourierLayout", "SpectralLayout", "GeometricRK", "ScipyStepper", "integrate", "make_stepper", "initial", "observables",
           "TwoLayerNetwork", "split_pairs", "neuron_alignment", "TrainingHistory", "train", "Stage2Prediction",
           "simulate_stage2", "aligned_population"]
