#!/usr/bin/env bash
# Rewrites the checked-in completion scripts from the binary's command tree:
#   completions/regenerate.sh [path/to/centrali]    (default: build/centrali)
# The scripts are output of `centrali completion SHELL`; a test fails when
# they differ from what the binary prints, so run this after changing a
# command or flag.
set -euo pipefail
cd "$(dirname "$0")"
bin=${1:-../build/centrali}
"$bin" completion bash > centrali.bash
"$bin" completion zsh > _centrali
"$bin" completion fish > centrali.fish
echo "regenerated completions/centrali.bash, completions/_centrali, completions/centrali.fish" >&2
