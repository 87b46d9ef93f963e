"""baryir: all-in-one image restoration in a learned Wasserstein barycenter space."""

__version__ = "0.1.0"
