"""Reserved for the web dashboard (FastAPI): a front end beside migrator.cli, calling migrator.app.

The import-linter contracts in pyproject.toml already treat it as a front end: no core package may
import it, and it sits in the top layer with the CLI.
"""
