"""dailypapers: a self-hosted Daily Papers site."""

__version__ = "0.1.0"
