"""Answers from the school's own policy: documents, sections, search, and the owner's replies.

Stateful: `service` (policy versions, questions asked, the owner's answers), `personal_data`
(its part of a subject access request).
Pure: `documents`, `docx` and `reading` (a file to text), `sections` (citable clauses), `search`,
`answer`, `vocabulary`, `question_aspect`, `typos`.
"""
