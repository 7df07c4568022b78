"""Watching the running bot: structured logs (`logs`) and Prometheus metrics (`metrics`,
`state`, `jobs`, `endpoint`).

Only the edge knows about these libraries. The runner and the domain tell what happened
through a port of their own (dialogs.services.observer), and the channels know nothing of it:
their routes are timed where bot.app adds them. Nothing here ever holds what anyone wrote.
"""
