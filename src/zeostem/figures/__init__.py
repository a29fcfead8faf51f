"""Figures of the paper, regenerated from the workflow's tables and images."""
