"""The infrastructure: where the model runs and how every call to it is made and kept.

The endpoint, embedded or remote (`backends`, with the built-in weights in `weights`),
each HTTP request metered and held to the article's deadline (`transport`), bounded
retries (`retry`), the answer cache (`cache`), the call log (`logs`) and the secrets
cut out of everything (`redact`). Nothing here knows what an event is: these modules
import neither the core nor a front end, only the settings and the typed errors.
"""
