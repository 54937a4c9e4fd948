"""symflow's version (a leaf module: everything that records provenance imports it from here)."""
__version__ = "0.1.0"
