#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/, not committed) from real
# Scopecraft data: ../shared/fixtures when it is there, else the copy in
# tests/fixtures, and the agents' recorded streams in tests/fixtures.
#
#   scripts/fuzz/seed.sh [FIXTURES]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fixtures="${1:-$repo/../shared/fixtures}"
[ -d "$fixtures" ] || fixtures="$repo/tests/fixtures"
corpus="$repo/fuzz/corpus"
mkdir -p "$corpus"/{template,front_matter,stream_json,record}

# Each seed under a name of its content's hash: seeding twice adds nothing.
seed() { # target file
  local sum
  sum=$(sha1sum <"$2" | cut -c1-16)
  cp -- "$2" "$corpus/$1/seed-$sum"
}

while IFS= read -r -d '' file; do
  case "$file" in
    */.modes/*) seed template "$file" ;;
    *) seed front_matter "$file" ;;
  esac
done < <(find "$fixtures" -path '*/.tasks/*' -name '*.md' -type f -print0)

while IFS= read -r -d '' file; do
  seed record "$file"
done < <(find "$fixtures" -path '*/.tasks/*' -name '*.json' -type f -print0)

# The stream target reads its first byte as the chunk size.
while IFS= read -r -d '' file; do
  tmp=$(mktemp)
  { printf '@'; cat -- "$file"; } >"$tmp"
  seed stream_json "$tmp"
  rm -f -- "$tmp"
done < <(find "$fixtures" "$repo/tests/fixtures/agent-streams" -type f \
  \( -path '*/logs/*.log' -o -name '*.jsonl' \) -print0)

# A record of ours, as `dispatch` writes it, beside Scopecraft's.
cat >"$corpus/record/seed-ours" <<'JSON'
{"sessionName":"fix-11A.implementation","taskId":"fix-11A","status":"completed","startTime":"2026-01-02T03:04:05.678Z","lastUpdated":"2026-01-02T03:09:05.678Z","logFile":"/books/logs/fix-11A.implementation.1.log","pid":4242,"type":"autonomous-task","sessionHistory":[{"sessionId":"0b0e8f56-5d7c-4c2e-9d38-3f9f1f4b1a01","record":"fix-11A.implementation.1","logFile":"/books/logs/fix-11A.implementation.1.log","startTime":"2026-01-02T03:04:05.678Z","execType":"docker","status":"completed","endTime":"2026-01-02T03:09:05.678Z","exitCode":0}],"mode":"implementation","execType":"docker","projectRoot":"/src/app","workdir":"/src/app.worktrees/fix-11A","worktree":{"path":"/src/app.worktrees/fix-11A","branch":"fix-11A"},"container":"fix-11A.implementation-0a1b2c3d","exitCode":0,"endTime":"2026-01-02T03:09:05.678Z","agentSessionId":"0b0e8f56-5d7c-4c2e-9d38-3f9f1f4b1a01","agentCommand":["docker","run","--rm","-i","claude","-p"],"promptOnStdin":true,"agent":"claude","supervisorPid":4241,"supervisorStartTicks":123456,"bootId":"c0ffee","agentState":{"state":"waiting","event":"Stop","since":"2026-01-02T03:09:05.678Z"}}
JSON

for target in template front_matter stream_json record; do
  echo "$target: $(find "$corpus/$target" -type f | wc -l) seeds"
done
