"""deliberation: checked, numbered document bundles for a Commission Permanente phase."""

__version__ = "0.2.0"
