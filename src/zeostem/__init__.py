"""zeostem: find the Al (Brønsted acid) site next to an adsorbed molecule in zeolite iDPC-STEM images."""

__version__ = "0.1.0"
