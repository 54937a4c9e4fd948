"""Code generation: the reduced flow's block formulas as a plain, cached NumPy module.

    from symflow.codegen import flow_kernels, generate_source
    k = flow_kernels(Model("F21"))       # derive (or load from ~/.cache/symflow) and import
    k.block_terms[3](th1, th2, xi, 21)   # arrays (neurons, k_3, 3, 3)
    print(generate_source(Model("F21")).source)

``flow_kernels(model, backend="lambdify")`` gives the same kernel interface by ``sympy.lambdify``
(:mod:`.lambdified`, imported on use). Loading cached kernels imports neither SymPy nor the
generator: the generator and the expressions are imported on first use.

Every generated module comes from this one generator and cache: ``generated_function(exprs, args,
name)`` prints any list of SymPy expressions the same way, e.g. ``modular_rates(ModularAdditionODE())``.
"""
from .cache import cache_dir
from .kernels import BACKENDS, FlowKernels, flow_kernels, generated_function, modular_rates

__all__ = ["flow_kernels", "FlowKernels", "BACKENDS", "generated_function", "modular_rates", "generate_source", "GeneratedSource", "flow_expressions",
           "FlowExpressions", "BlockExpressions", "choose_style", "cache_dir", "AUTO_MATRIX_FROM_D"]


def __getattr__(name):
    """The SymPy side of code generation, imported on first use."""
    if name in ("BlockExpressions", "FlowExpressions", "flow_expressions"):
        from . import expressions
        return getattr(expressions, name)
    if name in ("AUTO_MATRIX_FROM_D", "GeneratedSource", "choose_style", "generate_source"):
        from . import generator
        return getattr(generator, name)
    raise AttributeError(f"module 'symflow.codegen' has no attribute {name!r}")
