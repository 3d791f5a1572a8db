"""``python -m kam_policy`` runs the command line."""

from kam_policy.cli import entry

entry()
