"""Posts on the school's official accounts: request, consent and name checks, approval.

Stateful: `service` (post requests from request to live), `consent` (the parental consent
register), `retention` (finished requests removed), `personal_data` (its part of a subject
access request).
Pure: `card` (how a request appears to approvers), `name_scan` (children's names in a post).
"""
