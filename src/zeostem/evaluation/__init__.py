"""Evaluation with known truth: calibration, identifiability, model mismatch, robustness, the dose planner."""
