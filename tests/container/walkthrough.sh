#!/usr/bin/env bash
# A learner in a dev container (or a CI job container) on the host's Docker engine: check the
# machine, start the lab, type every exercise's instructions verbatim (those this engine can
# do), grade. Run by
# tests/test_in_container_docker.py inside labcheck-test/devcontainer; writes /out/*.
#   env: INSTANCE, PORTS ("registry=P1 hub=P2 ecr-api=P3 ecr=P4")
set -euo pipefail
port_args=()
for p in $PORTS; do port_args+=(--port "$p"); done

labcheck doctor part7 "${port_args[@]}" >/out/doctor.txt 2>&1
labcheck up part7 --instance "$INSTANCE" "${port_args[@]}" >/out/up.txt 2>&1
trap 'labcheck down part7 --instance "$INSTANCE" >/out/down.txt 2>&1' EXIT
eval "$(labcheck env part7 --instance "$INSTANCE")"
DOCKER_CONFIG=$(mktemp -d)   # the learner's logins stay in this container
export DOCKER_CONFIG
labcheck workspace part7 /root/part7-lab >/dev/null
cd /root/part7-lab
labcheck instructions part7 --instance "$INSTANCE" --for-this-engine | awk '/^```bash$/{on=1; next} /^```$/{on=0} on' >/out/learner.sh
bash -euo pipefail -x /out/learner.sh >/out/learner.log 2>&1
labcheck run part7 --instance "$INSTANCE" --format json --output /out/report.json
