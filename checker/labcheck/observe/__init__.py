"""Gather the state checks grade: registries, the Docker daemon, the learner's workspace."""
