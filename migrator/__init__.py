"""migrator: plan the move of a VMware estate to the cloud."""

__version__ = "0.1.0"
