"""The core: what turns an article and a model's answers into checked records, in code.

Article text in (`text`, `sentences`), prompts out (`templates`), and the rules that make
records from the model's answers: evidence offsets (`grounding`), calendar dates
(`dates`), one name normaliser and the alias table (`names`, `aliases`), drafts to
records and their merging (`records`), plausibility checks (`checks`), scores read from
an answer's token log-probabilities (`logprobs`), and the offline place data both
gazetteers index, read once (`geonames`). No module here calls a model, touches the
network or imports the infrastructure or a front end; the staged
`service.pipeline` and the cross-article `service.link` build on them.
"""
