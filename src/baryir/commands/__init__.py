"""Subcommands of ``baryir`` that run without a Trainer (fast start)."""
