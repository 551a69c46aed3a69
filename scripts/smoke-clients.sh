#!/usr/bin/env bash
# Gemini CLI and Codex CLI, headless, against a running gateway (`npm run dev`), each with a fresh HOME so
# no user configuration leaks in. Not part of `npm test`: the two CLIs weigh about 500 MB and are fetched
# with `npm exec` on first use (versions pinned to the ones docs/clients.md describes).
#
#   NEXUSAI_URL=http://127.0.0.1:8787 NEXUSAI_KEY=lgw_… scripts/smoke-clients.sh [model…]
#
# Each model is tried with both CLIs; the default set covers a Gemini, an OpenAI and an Anthropic target of
# the seeds. A run passes when every CLI prints a reply and exits 0.
set -euo pipefail
url=${NEXUSAI_URL:?set NEXUSAI_URL to the gateway origin, e.g. http://127.0.0.1:8787}
key=${NEXUSAI_KEY:?set NEXUSAI_KEY to a virtual key allowed the models}
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(gemini-2.5-flash gpt-4o-mini claude-sonnet-4-6)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home/.gemini" "$work/home/.codex" "$work/project"
echo '{"security":{"auth":{"selectedType":"gemini-api-key"}}}' >"$work/home/.gemini/settings.json"
cat >"$work/home/.codex/config.toml" <<TOML
model_provider = "nexusai"

[model_providers.nexusai]
name = "nexusai"
base_url = "$url/v1"
env_key = "NEXUSAI_API_KEY"
wire_api = "responses"
TOML

failed=0
run() {
  local name=$1
  shift
  if out=$(cd "$work/project" && HOME="$work/home" timeout 180 "$@" 2>&1 </dev/null); then
    echo "ok    $name: $(printf '%s\n' "$out" | grep -v '^npm ' | tail -n 1)"
  else
    echo "FAIL  $name"
    printf '%s\n' "$out" | tail -n 20
    failed=1
  fi
}
for model in "${models[@]}"; do
  run "gemini -m $model" env GOOGLE_GEMINI_BASE_URL="$url" GEMINI_API_KEY="$key" GEMINI_CLI_TRUST_WORKSPACE=true \
    npm exec --yes --package=@google/gemini-cli@0.61.0 -- gemini -p 'Say hello' -m "$model"
  run "codex exec -m $model" env NEXUSAI_API_KEY="$key" \
    npm exec --yes --package=@openai/codex@0.169.0 -- codex exec --skip-git-repo-check -m "$model" 'Say hello'
done
exit $failed
