"""Models: the ClearSTEM denoiser (DIVAESR and its ablations)."""
