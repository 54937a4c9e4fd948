"""Exceptions raised by symflow.

Every error a user can trigger derives from :class:`SymflowError` (a ``ValueError``), so a
caller can catch them all at once; the CLI prints the message and exits with status 2.
"""


class SymflowError(ValueError):
    """Base class for errors caused by bad input or a failed computation."""


class UnknownGroupError(SymflowError, KeyError):
    """A group name that symflow does not recognise."""

    def __str__(self):  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class GroupAxiomError(SymflowError):
    """A Cayley table or a set of generators that does not define a group."""


class ModelError(SymflowError):
    """A model definition the engine cannot reduce."""


class IntegrationError(SymflowError):
    """A numerical integration that failed (blow-up, non-finite values, no convergence)."""


class ResourceError(SymflowError):
    """A run whose estimated memory does not fit the machine (refused before computing; ``force`` runs it)."""
