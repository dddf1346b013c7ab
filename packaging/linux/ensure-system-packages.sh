#!/usr/bin/env bash
# Install the Debian/Ubuntu packages of system-packages.txt that this machine lacks.
#   ensure-system-packages.sh ROLE... [-- EXTRA_PACKAGE...]
# ROLEs pick lines of the list (app, test, dist); EXTRA packages are added as they are
# (the Makefile passes python3-venv when `python3 -m venv` cannot work).
# As root, or with passwordless sudo, it installs what is missing; otherwise it stops at once
# and prints the one `apt-get install` line to run. Not Debian (no dpkg/apt-get): a note, exit 0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
list="${TICKITZ_SYSTEM_PACKAGES:-$here/system-packages.txt}"  # the variable: for its tests

roles=()
extra=()
while (($#)); do
    if [[ $1 == -- ]]; then
        shift
        extra=("$@")
        break
    fi
    roles+=("$1")
    shift
done

wanted=()
while read -r name role _; do
    [[ -z $name || $name == \#* ]] && continue
    for r in "${roles[@]}"; do
        if [[ $role == "$r" ]]; then
            wanted+=("$name")
            break
        fi
    done
done <"$list"
wanted+=("${extra[@]}")

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    echo "Not a Debian/Ubuntu system: install the equivalents of ${wanted[*]} yourself" \
        "(see packaging/linux/system-packages.txt)." >&2
    exit 0
fi

missing=()
for pkg in "${wanted[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

if ((EUID == 0)); then
    sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "Missing system packages. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600
known=()
for pkg in "${missing[@]}"; do
    # A name this release does not have (e.g. renamed with a t64 suffix) is reported, not
    # fatal: the tests then say which library is really missing.
    if apt-cache show "$pkg" >/dev/null 2>&1; then
        known+=("$pkg")
    else
        echo "Not in this release's archive, skipped: $pkg" >&2
    fi
done
((${#known[@]})) || exit 0
echo "Installing system packages: ${known[*]}"
# Wait for another apt (unattended upgrades, a second build) instead of failing at once.
# dpkg's progress lines go nowhere; its errors still reach stderr.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
    "${known[@]}" >/dev/null
