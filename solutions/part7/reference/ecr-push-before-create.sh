#!/usr/bin/env bash
# Reference solution for exercise ecr (Part 7 lab): the learner who pushed first, and recovered.
#
# What the learner did: logged in and pushed straight away. ECR refuses that push, and so
# does the lab's stand-in, with ECR's own words: "name unknown: The repository with name
# 'my-app' does not exist in the registry with id '123456789012'". The learner reads it,
# creates the repository and pushes again, as they would on AWS.
#
# What the grader should say: every ecr check passes. The refused push left nothing behind,
# so it is not a mistake to punish.

set -euo pipefail
APP=${LAB_APP:-my-app}

aws ecr get-login-password | docker login --username AWS --password-stdin "$ECR_REGISTRY"
docker build -t "$ECR_REGISTRY/$APP:1.0.0" .  # under its registry name: no tag shared with other runs

# The first push is refused: the repository does not exist yet
if docker push "$ECR_REGISTRY/$APP:1.0.0" 2>refused.txt; then
  echo "the ECR stand-in accepted a push to a repository that does not exist" >&2
  exit 1
fi
# the classic store prints ECR's message; the containerd store only the status of the refused request
grep -Eq "name unknown: The repository with name '$APP' does not exist in the registry with id|/v2/$APP/blobs/uploads/.*: 404 Not Found" refused.txt
rm refused.txt

# Recover: create the repository, push the same image again
aws ecr create-repository --repository-name "$APP"
docker push "$ECR_REGISTRY/$APP:1.0.0"
