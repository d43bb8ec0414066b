#!/usr/bin/env bash
# The demo: start the emulator seeded with hand-made state, then
# validate → plan → apply → plan against examples/integrations.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
port=$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
export WORKOS_API_KEY=sk_test_emulator
export WORKOS_BASE_URL="http://127.0.0.1:$port"
# Demo secrets; in real use these come from your CI's secret store.
export RECONCILER_GITHUB_CLIENT_SECRET=demo-github-secret-b7c4
export RECONCILER_ACME_CRM_CLIENT_SECRET=demo-acme-secret-42aa
# The slack secret is a file: the demo's policy allows examples/secrets/.
export RECONCILER_POLICY=examples/demo-policy.yaml

"$bin/reconciler" emulator --port "$port" --seed examples/remote-seed.yaml 2>"$log" &
emulator=$!
trap 'kill $emulator 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  "$bin/python" -c "import httpx; httpx.get('$WORKOS_BASE_URL/_emulator/stats', headers={'Authorization': 'Bearer $WORKOS_API_KEY'}).raise_for_status()" 2>/dev/null && break
  kill -0 $emulator 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step "$bin/reconciler" validate -f examples/integrations.yaml
step "$bin/reconciler" plan -f examples/integrations.yaml
step "$bin/reconciler" apply -f examples/integrations.yaml --yes
step "$bin/reconciler" plan -f examples/integrations.yaml --detailed-exitcode
printf '\nThe second plan found nothing to do: the remote matches the manifest.\n'
