"""Privacy and accountability: the audit log, retention, subject access and keys.

Stateful: `audit` (the log), `audit_chain` and `audit_anchor` (its tamper-evident chain),
`retention`, `subject_access`, `key_rotation`, `pseudonyms`, `refusals`.

Every context imports the audit log, so privacy/ imports no context back: retention and subject
access run the rules (`RetentionRule`) and parts (`PersonalData`) each context contributes,
listed in `dialogs.services.privacy_composition`.
"""
