"""The domain: what the bot knows and does, one folder per bounded context.

    school/        the shared kernel: schools, people and roles, permissions, platforms,
                   references, button values, text helpers
    people/        who is staff: the directory learned from Slack and Teams, held messages
    policy/        policy documents, sections, search and answers; questions to the owner
    safeguarding/  recognising a worry about a child, and what the bot says instead of a clause
    cases/         reports of online abuse: cases, conflicts of interest, evidence packs
    evidence/      files received as evidence: checked by content, kept, hashed
    posts/         post requests and their approval, the consent register, the name scan
    comments/      comments on official accounts and when their answers are due
    accounts/      the register of official accounts, new-account requests, yearly checks,
                   and websites to block
    privacy/       the audit log and its chain, retention, subject access, keys, pseudonyms

At this root: the container (the services of one unit of work), the ports every context uses
(`messages`, the neutral message model; `errors`, the one error hierarchy; `notifier`, how a
service reaches people) and the outbox that channels deliver (`outbox`, `replies`). Also here:
`privacy_composition` (which contexts' retention rules and subject access parts privacy/ runs,
in order) and `unsent_personal_data` (the conversations' and the outbox's part of a subject
access request).

Inside a context, the stateful modules (a service holding a database session) are apart from
the pure ones (vocabulary, cards, parsing); each context's `__init__` names which is which, and
the import contracts in `pyproject.toml` keep the pure ones free of the database.
"""
