"""Which theory holds, measured (issue 16): final FACT / backward-FACT residuals, NFA and the CRH
alignments, per optimiser (GD and Adam with coupled L2, AdamW decoupled) and weight decay, on group
composition (S3, CE and MSE) and modular addition (Z7 shared). Prints a table; no asserts.

    python bench/bench_theories.py            # about 2-3 minutes on 2 cores
"""
from __future__ import annotations

import time

from symflow.theories.run import run_theories

CASES = [("S3", "ce", False), ("S3", "mse", False), ("Z7", "ce", True)]
OPTS = {"gd": 0.1, "adam": 0.003, "adamw": 0.003}
DECAYS = (0.003, 0.01, 0.03)
KEYS = [("gradient", "embedding"), ("FACT", "embedding"), ("backward FACT", "embedding"), ("FACT", "readout"),
        ("backward FACT", "readout"), ("NFA", "embedding"), ("CRH H_b~Z_b", "embedding"), ("CRH G_a~Z_a", "embedding"),
        ("CRH H_a~Z_a", "readout"), ("GC aligned", "neurons"), ("Li2 maxima", "neurons")]


def main():
    head = ["group", "loss", "opt", "lambda", "acc"] + [f"{n} {l[:3]}" for n, l in KEYS] + ["s"]
    print(" | ".join(head))
    for name, loss, shared in CASES:
        for opt, lr in OPTS.items():
            if loss == "mse" and opt == "gd":
                lr = 0.05
            for lam in DECAYS:
                t = time.perf_counter()
                R = run_theories(name, weight_decay=lam, optimizer=opt, loss=loss, steps=20000, lr=lr, width=16,
                                 shared=shared, points=2)
                v = {r.key: r.value for r in R.rows}
                acc = R.history.train_acc[-1]
                print(" | ".join([name, loss, opt, f"{lam:g}", f"{acc:.2f}"] + [f"{v.get(k, float('nan')):.3g}" for k in KEYS]
                                 + [f"{time.perf_counter() - t:.1f}"]), flush=True)


if __name__ == "__main__":
    main()
