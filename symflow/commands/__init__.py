"""One module per ``symflow`` subcommand; each exposes ``register(subparsers)``."""
