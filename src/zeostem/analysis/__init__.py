"""Analysis of one image: read, denoise, detect, element clustering, conformation matching, report."""
