"""Privacy and accountability: the audit log, retention, subject access and keys.

Stateful: `audit` (the log), `audit_chain` and `audit_anchor` (its tamper-evident chain),
`retention`, `subject_access`, `key_rotation`, `pseudonyms`, `refusals`.
"""
