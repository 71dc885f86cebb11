"""The generator agent: transpile a wave, validate the output, apply safe fixes, report."""
