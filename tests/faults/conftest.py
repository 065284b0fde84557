"""Fault tests import their harness from this folder (`harness.py`)."""
