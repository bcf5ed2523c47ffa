"""One module per subcommand: ``<name>_cmd.register(subparsers)`` adds it and sets ``func``."""
