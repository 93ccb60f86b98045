#!/usr/bin/env bash
# Reference solution for exercise ecr-lifecycle (Part 7 lab).
#
# A repository for releases: immutable tags (a version, once pushed, is that image for
# ever), every push scanned, and a lifecycle policy that keeps the last 3 images. Then two
# releases, each under its own version tag. A release pushed twice is refused ("tag
# invalid"): the script checks that too.

set -euo pipefail
APP=${LAB_APP:-my-app}
REPO="$APP-releases"

aws ecr create-repository --repository-name "$REPO" \
  --image-tag-mutability IMMUTABLE --image-scanning-configuration scanOnPush=true
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

# 1.0.0 is taken for good: pushing the new build under it is refused
docker tag "$ECR_REGISTRY/$REPO:1.1.0" "$ECR_REGISTRY/$REPO:1.0.0"
if docker push "$ECR_REGISTRY/$REPO:1.0.0" 2>refused.txt; then
  echo "the ECR stand-in let 1.0.0 be overwritten in an IMMUTABLE repository" >&2
  exit 1
fi
# the classic store prints ECR's message; the containerd store only the status of the refused PUT
grep -Eq "tag invalid: The image tag '1.0.0' already exists in the '$REPO' repository and cannot be overwritten because the repository is immutable.|manifests/1.0.0: 400 Bad Request" refused.txt
rm refused.txt
