from switchboard.cli.main import app

app()
