"""Runnable examples, one orchestration pattern per module. `python -m examples` runs all."""
