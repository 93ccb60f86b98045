#!/usr/bin/env bash
# Reference solution for exercise ecr (Part 7 lab).
#
# The AWS ECR workflow against the lab's offline stand-in: create the repository in the ECR
# API, log Docker in with the token `aws ecr get-login-password` prints (piped, user AWS),
# tag for the registry and push my-app:1.0.0.
#
# Run by `labcheck verify part7` in a fresh workspace with AWS_ENDPOINT_URL (the ECR API
# stand-in), dummy AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, ECR_REGISTRY
# and a throwaway DOCKER_CONFIG set. The aws CLI is the one installed with labcheck.

set -euo pipefail
APP=${LAB_APP:-my-app}

# 1. The repository first: real ECR refuses pushes to a repository that does not exist
aws ecr create-repository --repository-name "$APP"

# 2. Log in: the token goes from one program to the other, never onto a command line
aws ecr get-login-password | docker login --username AWS --password-stdin "$ECR_REGISTRY"

# 3. Tag for the registry and push
docker build -t "$ECR_REGISTRY/$APP:1.0.0" .  # under its registry name: no tag shared with other runs
docker push "$ECR_REGISTRY/$APP:1.0.0"
