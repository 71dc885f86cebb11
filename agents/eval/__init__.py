"""Golden prompts for refinement (`make eval`): requests with the properties every answer must have."""
