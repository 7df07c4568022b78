"""Reports of online abuse: from the reporter's submission to closure by the lead.

Stateful: `service` (cases, their handling and the reporter kept informed), `retention`
(closed reports anonymised, old evidence removed), `personal_data` (its part of a subject
access request).
Pure: `card` (the case card and its buttons), `vocabulary` (statuses and categories),
`conflicts` (who must not see a report), `evidence_pack` (a case exported for the police).
"""
