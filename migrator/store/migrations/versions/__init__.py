"""One module per schema revision, oldest first; every table change is a new revision."""
