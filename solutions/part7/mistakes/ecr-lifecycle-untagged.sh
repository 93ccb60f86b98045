#!/usr/bin/env bash
# Mistake for exercise ecr-lifecycle (Part 7 lab): a lifecycle policy that never expires a release.
#
# What the learner did wrong: copied the "expire untagged images" example. Every release is
# tagged, so the policy never expires one: the repository keeps every image it ever got.
#
# What the grader should say: the count rule selects only some images; keep the last 3
# images (tagStatus any). Every other ecr-lifecycle check passes.

set -euo pipefail
APP=${LAB_APP:-my-app}
REPO="$APP-releases"

aws ecr create-repository --repository-name "$REPO" \
  --image-tag-mutability IMMUTABLE --image-scanning-configuration scanOnPush=true
# The mistake: tagStatus untagged
aws ecr put-lifecycle-policy --repository-name "$REPO" --lifecycle-policy-text '{"rules":[{"rulePriority":1,
  "description":"expire untagged images","selection":{"tagStatus":"untagged","countType":"imageCountMoreThan",
  "countNumber":3},"action":{"type":"expire"}}]}'
aws ecr get-login-password | docker login --username AWS --password-stdin "$ECR_REGISTRY"
BUILDX_NO_DEFAULT_ATTESTATIONS=1 docker build -t "$ECR_REGISTRY/$REPO:1.0.0" .  # a plain image: see the lesson
docker push "$ECR_REGISTRY/$REPO:1.0.0"
echo "1.1.0" > version.txt
git commit -qam "Release 1.1.0"
BUILDX_NO_DEFAULT_ATTESTATIONS=1 docker build -t "$ECR_REGISTRY/$REPO:1.1.0" .  # a plain image: see the lesson
docker push "$ECR_REGISTRY/$REPO:1.1.0"
