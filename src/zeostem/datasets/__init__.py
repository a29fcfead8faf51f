"""Training datasets: splits by conformation, augmented (noisy, clean) tiles."""
