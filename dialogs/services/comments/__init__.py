"""Comments on official accounts: stored once, answered on time, nobody forgets one.

Stateful: `service` (comments, their answers and the nudges before a deadline), `retention`
(answered comments removed), `personal_data` (its part of a subject access request).
Pure: `card` (how a comment appears to moderators), `incoming` (a comment as it arrived),
`working_time` (when an answer is due), `term_dates` (the school's closures).
"""
