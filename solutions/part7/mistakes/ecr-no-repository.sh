#!/usr/bin/env bash
# Mistake for exercise ecr (Part 7 lab): never created the repository.
#
# What the learner did wrong: logged in and pushed, ignored the refusal ("name unknown: The
# repository with name 'my-app' does not exist in the registry with id '123456789012'") and
# never ran `aws ecr create-repository`.
#
# What the grader should say: the ECR API has no repository my-app, and nothing was pushed:
# create the repository, then push again (every ecr check fails: nothing is published).

set -euo pipefail
APP=${LAB_APP:-my-app}

aws ecr get-login-password | docker login --username AWS --password-stdin "$ECR_REGISTRY"
docker build -t "$ECR_REGISTRY/$APP:1.0.0" .  # under its registry name: no tag shared with other runs
# The mistake: the refusal is ignored
docker push "$ECR_REGISTRY/$APP:1.0.0" || true
