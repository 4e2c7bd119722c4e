#!/usr/bin/env bash
# Runs every example program under examples/ the way a newcomer would
# (`go run ./examples/<name>`, no flags, so offline and without AWS
# credentials), each under a timeout. Exits non-zero if any example fails
# to build, exits non-zero, or times out; prints that example's output.
#
#   bash .ci/examples.sh            # all examples
#   bash .ci/examples.sh rag agent  # only these
set -euo pipefail
cd "$(dirname "$0")/.."

limit="${EXAMPLE_TIMEOUT:-120}"

if [ "$#" -gt 0 ]; then
	names=("$@")
else
	names=()
	for d in examples/*/; do
		d="${d%/}"
		if compgen -G "$d/*.go" >/dev/null; then
			names+=("${d#examples/}")
		fi
	done
fi
if [ "${#names[@]}" -eq 0 ]; then
	echo "no examples found under examples/" >&2
	exit 1
fi

# Offline: no credentials or profile from the environment reach the examples,
# and the SDK does not probe the EC2 metadata endpoint.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_BEARER_TOKEN_BEDROCK
export AWS_EC2_METADATA_DISABLED=true

# Build them all first so a compile error is reported as such, not as a timeout.
pkgs=()
for n in "${names[@]}"; do pkgs+=("./examples/$n"); done
go build -o /dev/null "${pkgs[@]}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failed=()
for n in "${names[@]}"; do
	start=$SECONDS
	if timeout --kill-after=10 "$limit" go run "./examples/$n" >"$tmp/$n.out" 2>&1; then
		printf 'ok    examples/%-12s %3d s, %d lines of output\n' "$n" "$((SECONDS - start))" "$(wc -l <"$tmp/$n.out")"
	else
		rc=$?
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			printf 'FAIL  examples/%s: timed out after %s s\n' "$n" "$limit"
		else
			printf 'FAIL  examples/%s: exit status %d\n' "$n" "$rc"
		fi
		sed 's/^/      | /' "$tmp/$n.out"
		failed+=("$n")
	fi
done

if [ "${#failed[@]}" -gt 0 ]; then
	echo "examples failed: ${failed[*]}" >&2
	exit 1
fi
echo "all ${#names[@]} examples ran"
