"""The application: a trained run, its manifest, the report folder with its panel, batch analysis."""
