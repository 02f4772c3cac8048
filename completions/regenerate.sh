#!/usr/bin/env bash
# Rewrites the checked-in completion scripts from the binary's command tree:
#   completions/regenerate.sh [path/to/centrali]    (default: build/centrali)
# The scripts are output of `centrali completion SHELL`; a test fails when
# they differ from what the binary prints, so run this after changing a
# command or flag.
set -euo pipefail
# The binary's path is resolved before the cd, so a relative one given
# from the top of the tree (as the README says) works.
bin=$(realpath "${1:-$(dirname "$0")/../build/centrali}")
cd "$(dirname "$0")"
"$bin" completion bash > centrali.bash
"$bin" completion zsh > _centrali
"$bin" completion fish > centrali.fish
echo "regenerated completions/centrali.bash, completions/_centrali, completions/centrali.fish" >&2
