"""The command line, `python -m service ...`: one module per command group.

`main` holds the group (`extract`, `logs`) and loads the other commands on first use:
`batch`, `link` and `serve`, whose extras may be missing; `options` is what every
command shares (the model options, typed-error handling).
"""
