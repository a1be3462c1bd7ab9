from service.front.cli.main import run

run()
