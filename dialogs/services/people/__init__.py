"""Who is staff: the people the configuration lists, and everyone the platforms show at a
school's domain, learned on their first message and checked again as they go.

Stateful: `directory` (the staff directory: learning, rechecking, leavers, roles by email),
`held_messages` (what someone not yet known sent, kept until they are), `retention` (held
messages nobody claimed removed), `personal_data` (its part of a subject access request).
"""
