"""A worry about a child: recognised before any policy search, answered by a person.

Pure: `concern` (recognising a disclosure in what was typed), `reply` (what the bot says
instead of a clause, naming the safeguarding lead).
"""
