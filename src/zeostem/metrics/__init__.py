"""Metrics: image quality (PSNR, SSIM, VIF) and the evaluation tables of each stage."""
