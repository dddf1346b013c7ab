#!/usr/bin/env bash
# Install the Tickitz Scanner bundle (this folder) for one user, or for everyone as root.
#   ./install.sh              ~/.local/opt/tickitz-scanner, launcher in ~/.local/bin
#   sudo ./install.sh         /opt/tickitz-scanner, launcher in /usr/local/bin
#   ./install.sh --uninstall  removes what the same user's install put there (data stays)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
name=tickitz-scanner
if ((EUID == 0)); then
    opt=/opt/$name bin=/usr/local/bin share=/usr/local/share
else
    opt="$HOME/.local/opt/$name" bin="$HOME/.local/bin" share="${XDG_DATA_HOME:-$HOME/.local/share}"
fi
apps="$share/applications" icons="$share/icons/hicolor"

if [[ ${1:-} == --uninstall ]]; then
    rm -rf "$opt"
    rm -f "$bin/$name" "$apps/$name.desktop" "$icons/scalable/apps/$name.svg"
    rm -f "$icons"/*/apps/"$name".png
    echo "Removed $name. Its data, settings and logs stay: \`$name paths\` named them."
    exit 0
fi

[[ -x $here/$name ]] || { echo "Run install.sh from the bundle folder (dist/$name)." >&2; exit 2; }
if [[ $here != "$opt" ]]; then
    rm -rf "$opt"
    mkdir -p "$(dirname "$opt")"
    cp -a "$here" "$opt"
fi
mkdir -p "$bin" "$apps" "$icons/scalable/apps"
ln -sf "$opt/$name" "$bin/$name"
sed "s|^Exec=$name|Exec=$opt/$name|" "$opt/$name.desktop" >"$apps/$name.desktop"
cp "$opt/icons/$name.svg" "$icons/scalable/apps/$name.svg"
for png in "$opt"/icons/png/*.png; do
    size="$(basename "$png" .png)"
    mkdir -p "$icons/$size/apps"
    cp "$png" "$icons/$size/apps/$name.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$icons" || true
echo "Installed $name $("$opt/$name" --version | awk '{print $NF}') in $opt; start it from the"
echo "applications menu or with \`$name\` ($bin must be on PATH)."
