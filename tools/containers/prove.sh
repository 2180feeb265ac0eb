#!/usr/bin/env bash
# npm run test:containers: builds the image and runs the services of the services manifest as containers on this
# machine, sends OpenAI traffic through the gateway container to a fake upstream, checks the answers, and stops
# everything.
# Works without an image registry (none is reachable from our build machines): dockerd started by hand, a base image made with debootstrap plus
# this machine's Node.js, builds with the host network so `npm ci` reaches the npm registry. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK=${CONTAINERS_WORKDIR:-/tmp/openai-proxy-containers}
SOCK="$WORK/run/docker.sock"
export DOCKER_HOST="unix://$SOCK"

# The services, from the services manifest as built (libs/shared/util-services/dist), in start order (the edge
# last): one line each, "name role port port-offset port-variable url-variable published-port" (offset: from the
# edge's port; url-variable "-" for the edge, published-port "-" for the backends). Every per-service list below
# is read from these lines.
[ -f libs/shared/util-services/dist/index.js ] || npx tsc -b libs/shared/util-services/tsconfig.lib.json
mapfile -t SERVICES < <(node -e "
  const services = require('$ROOT/libs/shared/util-services/dist/index.js');
  const manifest = services.SERVICES_MANIFEST;
  const edge = services.edgeService(manifest);
  for (const name of services.startOrder(manifest)) {
    const service = services.serviceNamed(manifest, name);
    const fields = [name, service.role, service.port, service.port - edge.port, service.portVariable];
    console.log([...fields, service.urlVariable ?? '-', service.publishedPort ?? '-'].join(' '));
  }")
[ "${#SERVICES[@]}" -gt 0 ] || { echo "no services read from the services manifest" >&2; exit 1; }
EDGE=$(printf '%s\n' "${SERVICES[@]}" | awk '$2 == "edge" { print $1 }')
PUBLISHED=$(printf '%s\n' "${SERVICES[@]}" | awk '$2 == "edge" { print $7 }')
CONTAINERS=()
# Compose checks: each backend's URL as docker-compose.yml gives it to the gateway, and its readiness entry.
COMPOSE_URLS="true"
COMPOSE_READY="true"
for line in "${SERVICES[@]}"; do
  read -r name role port _ _ url_variable _ <<<"$line"
  CONTAINERS+=("op-$name")
  if [ "$role" = backend ]; then
    COMPOSE_URLS+=" && grep -q '$url_variable: http://$name:$port' $WORK/compose-config.yml"
    COMPOSE_READY+=" && grep -q '\"$name\":{\"ok\":true' $WORK/compose-ready.json"
  fi
done
passed=0
failed=0
check() { # name, command...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}
cleanup() {
  docker rm -f -v "${CONTAINERS[@]}" op-all op-team >/dev/null 2>&1 || true
  [ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null || true
  [ -f "$WORK/run/docker.pid" ] && kill "$(cat "$WORK/run/docker.pid")" 2>/dev/null || true
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need dockerd || ! need debootstrap || ! need docker || ! need docker-compose; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose debootstrap >/dev/null
fi

mkdir -p "$WORK/data" "$WORK/exec" "$WORK/run"
if ! docker info >/dev/null 2>&1; then
  dockerd --bridge=none --iptables=false --ip-masq=false --data-root "$WORK/data" --exec-root "$WORK/exec" \
    -H "unix://$SOCK" --pidfile "$WORK/run/docker.pid" >"$WORK/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi

# Base image: Debian minbase + this machine's Node.js, its headers (better-sqlite3 compiles against them: no
# prebuilt binary can be fetched here) and npm + its CA bundle (the registry is reached through this machine's TLS
# settings). A base made before it carried the headers is made again.
if docker image inspect openai-proxy/node-base:local >/dev/null 2>&1 \
  && ! docker run --rm --network none openai-proxy/node-base:local test -f /usr/local/include/node/node.h; then
  docker rmi -f openai-proxy/node-base:local >/dev/null
fi
if ! docker image inspect openai-proxy/node-base:local >/dev/null 2>&1; then
  ROOTFS="$WORK/rootfs"
  if [ ! -x "$ROOTFS/bin/sh" ]; then
    MIRROR=$(grep -m1 '^URIs' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}')
    debootstrap --variant=minbase bookworm "$ROOTFS" "${MIRROR:-http://deb.debian.org/debian}" >"$WORK/debootstrap.log"
  fi
  mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/usr/local/lib/node_modules" "$ROOTFS/etc/ssl/certs"
  cp "$(readlink -f "$(command -v node)")" "$ROOTFS/usr/local/bin/node"
  NODE_HEADERS="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
  [ -f "$NODE_HEADERS/node.h" ] || NODE_HEADERS=/usr/include/node
  mkdir -p "$ROOTFS/usr/local/include" && rm -rf "$ROOTFS/usr/local/include/node"
  cp -r "$NODE_HEADERS" "$ROOTFS/usr/local/include/node"
  NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  rm -rf "$ROOTFS/usr/local/lib/node_modules/npm" && cp -r "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
  tar -C "$ROOTFS" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    -c 'ENV NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt' - openai-proxy/node-base:local >/dev/null
fi

started=$(date +%s)
DOCKER_BUILDKIT=0 docker build --network host --build-arg NODE_IMAGE=openai-proxy/node-base:local \
  -t openai-proxy/app:local . >"$WORK/build.log"
echo "image built in $(( $(date +%s) - started )) s, $(docker image inspect openai-proxy/app:local --format '{{.Size}}' | awk '{printf "%d MB", $1/1024/1024}')"

# A fake OpenAI upstream on the host (the built testing-fakes lib), on a free port.
[ -f libs/shared/testing-fakes/dist/index.js ] || npm run build >/dev/null
FAKE_PORT_FILE="$WORK/fake.port"
rm -f "$FAKE_PORT_FILE"
node -e "
  require('$ROOT/libs/shared/testing-fakes/dist/index.js').startFakeOpenAi().then((fake) => {
    require('fs').writeFileSync('$FAKE_PORT_FILE', new URL(fake.url).port);
    process.on('SIGTERM', () => fake.close().then(() => process.exit(0)));
  });" &
FAKE_PID=$!
for _ in $(seq 1 50); do [ -s "$FAKE_PORT_FILE" ] && break; sleep 0.1; done
FAKE="http://127.0.0.1:$(cat "$FAKE_PORT_FILE")"

BASE=${CONTAINERS_BASE_PORT:-23000}
run() { # app port extra-env...
  local app=$1 port=$2; shift 2
  docker run -d --name "op-$app" --network host --read-only --tmpfs /tmp --user 1000 --cap-drop ALL \
    --security-opt no-new-privileges -e APP="$app" -e PORT="$port" "$@" openai-proxy/app:local >/dev/null
}
# Each service on BASE plus its offset (the gateway on BASE); the backends get the fake as their OpenAI base (the
# relay reads it, the others ignore it), the gateway each backend's URL. ALL_ENV: the same ports for APP=all.
BACKEND_PORTS=()
GATEWAY_URLS=()
ALL=$((BASE + 10))
ALL_ENV=()
for line in "${SERVICES[@]}"; do
  read -r name role _ offset port_variable url_variable _ <<<"$line"
  ALL_ENV+=(-e "$port_variable=$((ALL + offset))")
  if [ "$role" = backend ]; then
    run "$name" $((BASE + offset)) -e OPENAI_API_BASE="$FAKE"
    BACKEND_PORTS+=($((BASE + offset)))
    GATEWAY_URLS+=(-e "$url_variable=http://127.0.0.1:$((BASE + offset))")
  fi
done
run "$EDGE" "$BASE" "${GATEWAY_URLS[@]}"
GATEWAY="http://127.0.0.1:$BASE"
for _ in $(seq 1 60); do curl -sf "$GATEWAY/readyz" >/dev/null 2>&1 && break; sleep 0.5; done

check "gateway container is ready and reports its services" sh -c "curl -sf $GATEWAY/readyz | grep -q '\"openai-relay\":{\"ok\":true'"
check "chat completion through the gateway container reaches the fake upstream" sh -c \
  "curl -sf $GATEWAY/openai/v1/chat/completions -H 'Authorization: Bearer sk-container' -H 'Content-Type: application/json' \
   -d '{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"from a container\"}]}' | grep -q 'You said: from a container'"
check "streamed chat through both containers ends with [DONE]" sh -c \
  "curl -sfN $GATEWAY/openai/v1/chat/completions -H 'Authorization: Bearer sk-container' -H 'Content-Type: application/json' \
   -d '{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}' | tail -2 | grep -q 'data: \[DONE\]'"
check "every service answers /healthz" sh -c "for p in ${BACKEND_PORTS[*]}; do curl -sf http://127.0.0.1:\$p/healthz >/dev/null || exit 1; done"
check "containers run as a non-root user" sh -c "[ \"\$(docker exec op-$EDGE id -u)\" = 1000 ]"
healthy() { # container: waits (bounded) for Docker's HEALTHCHECK to report healthy
  for _ in $(seq 1 45); do
    [ "$(docker inspect "$1" --format '{{.State.Health.Status}}')" = healthy ] && return 0
    sleep 1
  done
  return 1
}
check "the image HEALTHCHECK reports the gateway healthy" healthy "op-$EDGE"
check "tini is PID 1 and forwards signals" sh -c "docker exec op-$EDGE cat /proc/1/cmdline | tr '\\0' ' ' | grep -q '^tini'"

# Team mode in a container, on the image's default SQLite database (its /app/data volume under a read-only root):
# a key made with the admin API, a chat with it (the gateway attaches the provider key it holds), the ledger row in
# /v1/usage, and the key still there after a restart.
TEAM=$((BASE + 20))
ADMIN=admin-token-container-0000
run team "$TEAM" -e APP="$EDGE" "${GATEWAY_URLS[@]}" -e GATEWAY_KEYS=required -e GATEWAY_ADMIN_TOKEN="$ADMIN" \
  -e OPENAI_API_KEY=sk-container-held
TEAM_URL="http://127.0.0.1:$TEAM"
for _ in $(seq 1 60); do curl -sf "$TEAM_URL/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
GK=$(curl -sf -X POST "$TEAM_URL/admin/keys" -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"name":"container"}' | sed -n 's/.*"key":"\(gk-[^"]*\)".*/\1/p')
team_chat() {
  curl -sf "$TEAM_URL/v1/chat/completions" -H "Authorization: Bearer $GK" -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"team in a container"}]}' | grep -q 'You said: team in a container'
}
team_usage() { # the ledger is written in batches: waits (bounded) for the row
  for _ in $(seq 1 20); do
    curl -sf "$TEAM_URL/v1/usage" -H "Authorization: Bearer $GK" | grep -q '"requests":1[,}]' && return 0
    sleep 0.25
  done
  return 1
}
check "team mode: the admin API makes a gateway key in a read-only container (SQLite in /app/data)" sh -c "[ -n '$GK' ]"
check "team mode: a chat with the gateway key reaches the fake upstream" team_chat
check "team mode: /v1/usage shows the request's ledger row" team_usage
docker restart -t 30 op-team >/dev/null
for _ in $(seq 1 60); do curl -sf "$TEAM_URL/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
check "team mode: the key and its usage outlive a restart (the /app/data volume)" team_usage
docker rm -f -v op-team >/dev/null

# APP=all: every service in one container, gateway in front (the original's one-line start).
docker run -d --name op-all --network host --read-only --tmpfs /tmp --user 1000 --cap-drop ALL \
  --security-opt no-new-privileges -e APP=all "${ALL_ENV[@]}" -e OPENAI_API_BASE="$FAKE" openai-proxy/app:local >/dev/null
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$ALL/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
check "APP=all runs every service in one container" sh -c \
  "curl -sf http://127.0.0.1:$ALL/openai/v1/chat/completions -H 'Authorization: Bearer sk-container' -H 'Content-Type: application/json' \
   -d '{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"all in one\"}]}' | grep -q 'You said: all in one'"
check "the all-in-one container stops cleanly on SIGTERM" sh -c "docker stop -t 40 op-all >/dev/null && [ \"\$(docker inspect op-all --format '{{.State.ExitCode}}')\" = 0 ]"

# docker-compose.yml: valid for Compose (1.29 reads the same file as v2), with the .env the README asks for.
mkdir -p "$WORK/compose" && cp docker-compose.yml "$WORK/compose/" && cp .env.example "$WORK/compose/.env"
check "docker-compose.yml is valid and wires the gateway to the services by name" sh -c \
  "cd $WORK/compose && docker-compose config -q && docker-compose config >$WORK/compose-config.yml && $COMPOSE_URLS"

# docker compose up: one container per service on a bridge network, the gateway reaching them by name.
docker tag openai-proxy/app:local openai-proxy/app:latest
compose() { (cd "$WORK/compose" && timeout 120 docker-compose -p opcompose "$@"); }
compose up -d --no-build >"$WORK/compose.log" 2>&1 || true
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PUBLISHED/readyz" >/dev/null 2>&1 && break; sleep 1; done
check "docker compose up: the gateway on :$PUBLISHED reaches every service by name" sh -c \
  "curl -sf http://127.0.0.1:$PUBLISHED/readyz >$WORK/compose-ready.json && $COMPOSE_READY"
check "docker compose: a request through the gateway is answered by its bridge" sh -c \
  "curl -s http://127.0.0.1:$PUBLISHED/claude/v1/models | grep -q 'Missing Anthropic API key'"
compose down >>"$WORK/compose.log" 2>&1 || true

check "SIGTERM stops the gateway container cleanly (exit 0)" sh -c "docker stop -t 30 op-$EDGE >/dev/null && [ \"\$(docker inspect op-$EDGE --format '{{.State.ExitCode}}')\" = 0 ]"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
