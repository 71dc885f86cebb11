"""The refiner agent: propose and apply reviewed edits to a plan or generated code with a model."""
