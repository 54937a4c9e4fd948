"""Symbolic theory engine: model, energy functional, Riemannian flow, closed forms, rates."""
