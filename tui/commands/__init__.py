"""Headless subcommands, one module each; none imports Textual."""
