"""`python -m spreadwatch` runs the CLI."""

from spreadwatch.cli import main

main()
