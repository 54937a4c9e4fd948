"""symflow's version (a leaf module: everything that records provenance imports it from here)."""
__version__ = "0.1.0"

#: The landscape engine's result version, part of the atlas's resume key (``runs.engine``): bump it (``"2"``, ...)
#: with any change to ``symflow/landscape`` or to the model the atlas builds that can change a stored row
#: (a kind, an exact energy, a basin count for the same starts and seed). Tasks stored with another value are
#: recomputed by the next ``symflow atlas``, never reused; rows written before the key existed count as ``"1"``.
LANDSCAPE_ENGINE = "2"
