"""The school's official accounts and the everyday processes around them.

Stateful: `register` (the register of official accounts), `requests` (new accounts and the
senior leaders' decision), `checks` (the yearly check on every account), `website_reports`
(websites to block, and IT's answer), `personal_data` (its part of a subject access request).
"""
