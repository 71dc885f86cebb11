from migrator.cli.main import run

run()
