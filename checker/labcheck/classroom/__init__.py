"""Workshops: one shared registry for a room, per-learner logins and namespaces, class reports.

roster.py        the instructor's roster (CSV), validated line by line
tokens.py        registry token auth: signing key, JWT claims, the namespace policy
token_server.py  the token endpoint, run as a detached host process
environment.py   class up / down: the token server and the registry:2 container
state.py         the class state file (logins included, mode 0600)
cards.py         login cards (text and self-contained HTML)
report.py        grade every learner against the class registry, merge submitted reports
scoreboard.py    the class report as a table, CSV, JSON and self-contained HTML
synthetic.py     push a learner's finished work through the registry API (bench, tests)
"""
