"""Comments that arrive by webhook, checked at the edge before anything is stored.

Anyone on the internet can reach a webhook, so the signature is checked against the raw bytes
first and the body is then read as hostile input: only a well-formed comment gets past here,
and everything else is turned away with a reason that is safe to send back.
"""
