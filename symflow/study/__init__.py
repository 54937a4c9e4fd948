"""``symflow study``: every prediction the theory makes for a group, next to its measurement."""
