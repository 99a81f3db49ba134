#!/bin/sh
# Before the files are removed.
#   deb: prerm remove | upgrade NEW | deconfigure | failed-upgrade
#   rpm: %preun 0 (remove) or 1 (upgrade: the new package is already in)
# Only a removal stops and disables the services; an upgrade leaves them
# running, and the new package's postinstall restarts them.
set -e

case "${1:-}" in
remove | 0) ;;
*) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
	systemctl stop mamori.service mamori-witness.service || true
fi
if command -v systemctl >/dev/null; then
	systemctl disable mamori.service mamori-witness.service >/dev/null 2>&1 || true
fi
exit 0
