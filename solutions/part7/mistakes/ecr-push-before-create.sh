#!/usr/bin/env bash
# Mistake for exercise ecr (Part 7 lab): pushed before creating the repository.
#
# What the learner did wrong: logged in and pushed straight away, then created the
# repository when they remembered. Real ECR refuses that first push ("name unknown: The
# repository with name 'my-app' does not exist"); the lab's registry:2 stand-in accepts it.
#
# What the grader should say: the push came before the repository existed; create it
# first. The registry's own log dates the push, the ECR API dates the repository. Every
# other ecr check passes.

set -euo pipefail
APP=${LAB_APP:-my-app}

aws ecr get-login-password | docker login --username AWS --password-stdin "$ECR_REGISTRY"
docker build -t "$APP" .
docker tag "$APP:latest" "$ECR_REGISTRY/$APP:1.0.0"
docker push "$ECR_REGISTRY/$APP:1.0.0"

# The mistake: the repository comes after the push
aws ecr create-repository --repository-name "$APP"
