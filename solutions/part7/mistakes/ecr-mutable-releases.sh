#!/usr/bin/env bash
# Mistake for exercise ecr-lifecycle (Part 7 lab): a releases repository with the defaults.
#
# What the learner did wrong: created the repository without --image-tag-mutability
# IMMUTABLE and without --image-scanning-configuration scanOnPush=true. Its tags can be
# moved (1.0.0 could silently become another image) and nothing is scanned.
#
# What the grader should say: make the tags immutable (put-image-tag-mutability) and turn
# on scan on push (put-image-scanning-configuration). The lifecycle policy and the two
# releases pass.

set -euo pipefail
APP=${LAB_APP:-my-app}
REPO="$APP-releases"

# The mistake: the defaults (MUTABLE, scanOnPush=false)
aws ecr create-repository --repository-name "$REPO"
aws ecr put-lifecycle-policy --repository-name "$REPO" --lifecycle-policy-text '{"rules":[{"rulePriority":1,
  "description":"keep the last 3 images","selection":{"tagStatus":"any","countType":"imageCountMoreThan",
  "countNumber":3},"action":{"type":"expire"}}]}'
aws ecr get-login-password | docker login --username AWS --password-stdin "$ECR_REGISTRY"
BUILDX_NO_DEFAULT_ATTESTATIONS=1 docker build -t "$ECR_REGISTRY/$REPO:1.0.0" .  # a plain image: see the lesson
docker push "$ECR_REGISTRY/$REPO:1.0.0"
echo "1.1.0" > version.txt
git commit -qam "Release 1.1.0"
BUILDX_NO_DEFAULT_ATTESTATIONS=1 docker build -t "$ECR_REGISTRY/$REPO:1.1.0" .  # a plain image: see the lesson
docker push "$ECR_REGISTRY/$REPO:1.1.0"
