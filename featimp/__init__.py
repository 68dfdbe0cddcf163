"""featimp: feature importance and selection for tabular data."""

from featimp._base import BaseImportanceSelector

__version__ = "0.1.0.dev0"

__all__ = ["BaseImportanceSelector", "__version__"]
