#!/usr/bin/env bash
# The README's "Set up and run" on a fresh clone, as a new user would run it; fails on any warning
# or error they would see (npm's included), and on a camera that does not come online.
#   scripts/first-run.sh [--node-modules DIR] [REPO]
# REPO defaults to this checkout's committed state. --node-modules links an installed tree instead
# of `npm ci` (quick, offline; checks everything after the install).
set -euo pipefail
modules=""
if [[ "${1:-}" == "--node-modules" ]]; then modules=$(realpath "$2"); shift 2; fi
repo=${1:-$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)}
dir=$(mktemp -d "${TMPDIR:-/tmp}/pie-first-run-XXXXXX")
pid=""
cleanup() { if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$dir"; }
trap cleanup EXIT
out="$dir/console.log"

git clone -q "$repo" "$dir/pie-stream"
cd "$dir/pie-stream"
if [[ -n "$modules" ]]; then
  ln -s "$modules" node_modules
  npm run build >>"$out" 2>&1
else
  npm ci >>"$out" 2>&1
fi
npx pie-stream --version >>"$out" 2>&1

# npm start, on a free port so it cannot collide with anything (README: --port).
npm start -- --port 0 >"$dir/run.log" 2>&1 &
pid=$!
url=""
for _ in $(seq 1 60); do
  url=$(grep -oE 'running at http://[^ ]+' "$dir/run.log" | head -1 | cut -d' ' -f3 || true)
  [[ -n "$url" ]] && break
  sleep 0.5
done
[[ -n "$url" ]] || { cat "$dir/run.log"; echo "first run: pie-stream did not start" >&2; exit 1; }
online=""
for _ in $(seq 1 40); do
  if curl -fsS "$url/health" | grep -q '"state":"online"'; then online=yes; break; fi
  sleep 0.5
done
curl -fsS "$url/" >/dev/null
# SIGTERM: a background job of a script ignores SIGINT.
kill -TERM "$pid"; wait "$pid" || true; pid=""
cat "$dir/run.log" >>"$out"
[[ -n "$online" ]] || { cat "$out"; echo "first run: the synthetic camera did not come online" >&2; exit 1; }

# Anything a new user would read as a problem.
if grep -nE -i 'warn|error|EBADENGINE|E:onnxruntime|XDG_RUNTIME_DIR|deprecated' "$out"; then
  echo "first run: the lines above are warnings or errors a new user sees" >&2
  exit 1
fi
echo "first run: clean (started, camera online at $url, stopped)"
