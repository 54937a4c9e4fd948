"""Code generation: the reduced flow's block formulas as a plain, cached NumPy module.

    from symflow.codegen import flow_kernels, generate_source
    k = flow_kernels(Model("F21"))       # derive (or load from ~/.cache/symflow) and import
    k.block_terms[3](th1, th2, xi, 21)   # arrays (neurons, k_3, 3, 3)
    print(generate_source(Model("F21")).source)

``flow_kernels(model, backend="lambdify")`` gives the same kernel interface by ``sympy.lambdify``
(:mod:`.lambdified`, imported on use).
"""
from .cache import cache_dir
from .expressions import BlockExpressions, FlowExpressions, flow_expressions
from .generator import AUTO_MATRIX_FROM_D, GeneratedSource, choose_style, generate_source
from .kernels import BACKENDS, FlowKernels, flow_kernels
from .matrix_form import MatrixForm, recognise

__all__ = ["flow_kernels", "FlowKernels", "BACKENDS", "generate_source", "GeneratedSource", "flow_expressions",
           "FlowExpressions", "BlockExpressions", "MatrixForm", "recognise", "choose_style", "cache_dir",
           "AUTO_MATRIX_FROM_D"]
