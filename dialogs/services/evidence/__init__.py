"""Files sent as evidence: checked by content, kept byte for byte, hashed on receipt.

Stateful: `service` (receiving, keeping and reading evidence), `personal_data` (files of
unsent drafts, in a subject access request).
Pure: `upload_checks` (what a file really is), `upload_limits` (what one upload may cost).
"""
