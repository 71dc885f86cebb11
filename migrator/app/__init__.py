"""The application layer: migrator's use cases, shared by the CLI, the dashboard and the PR lander.

Each module is one family of use cases with typed requests and results; none of them parses
arguments or prints (front ends do that). Open a Workspace, then call a use case with it:

    ws = Workspace.open(Path(".migrator"))
    result = generation.generate(ws, GenerateRequest(target="kubevirt"))

Errors are MigratorError subclasses (migrator.errors); those about an input name it in `field`.
"""
