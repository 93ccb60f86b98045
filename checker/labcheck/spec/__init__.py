"""Lab specs: the YAML an author writes, validated into frozen models.

Import from the submodules (labcheck.spec.loader, .model, .render, .sources): this package
imports nothing itself, so that finding a lab (spec.sources) does not load YAML and Jinja.
"""
