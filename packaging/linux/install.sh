#!/bin/sh
# Install Kindly for the person running this, without administrator rights:
#   ./install.sh               copy Kindly to ~/.local/opt/kindly and add it to the applications menu
#   ./install.sh --uninstall   remove it again (your data and settings stay where they are)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data_home=${XDG_DATA_HOME:-"$HOME/.local/share"}
opt="$HOME/.local/opt/kindly"
bin="$HOME/.local/bin"
id=org.kindly.Kindly

if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$opt"
  rm -f "$bin/kindly" "$data_home/applications/$id.desktop" "$data_home/metainfo/$id.metainfo.xml"
  find "$data_home/icons/hicolor" -name "$id.*" -type f -exec rm -f {} + 2>/dev/null || true
  echo "Kindly is removed. Your data is still in $data_home/Kindly; delete that folder if you no longer need it."
  exit 0
fi

# Copy beside the old version first, then swap, so a failed copy leaves the old one working.
rm -rf "$opt.new"
mkdir -p "$opt.new"
cp -a "$here/kindly" "$here/_internal" "$opt.new/"
rm -rf "$opt"
mv "$opt.new" "$opt"
mkdir -p "$bin"
ln -sf "$opt/kindly" "$bin/kindly"

(cd "$here/share" && find icons metainfo -type f) | while IFS= read -r file; do
  mkdir -p "$data_home/$(dirname "$file")"
  cp "$here/share/$file" "$data_home/$file"
done
mkdir -p "$data_home/applications"
sed "s|^Exec=kindly\$|Exec=\"$opt/kindly\"|" "$here/share/applications/$id.desktop" \
  > "$data_home/applications/$id.desktop"
command -v update-desktop-database >/dev/null 2>&1 &&
  update-desktop-database -q "$data_home/applications" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null 2>&1 &&
  gtk-update-icon-cache -q -t "$data_home/icons/hicolor" 2>/dev/null || true

echo "Kindly is installed. Start it from your applications menu, or run: $opt/kindly"
echo "To check that everything works on this computer: $opt/kindly --self-test"
