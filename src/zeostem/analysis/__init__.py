"""Analysis of one image, numpy/scipy only: references, lattice fit, registration, likelihoods, posteriors,
the calibration it runs with, atom columns."""
