#!/bin/sh
# After the files are removed.
#   deb: postrm remove | purge | upgrade | disappear | abort-*
#   rpm: %postun 0 (remove) or 1 (upgrade)
# A purge (deb only: rpm has none) deletes everything mamori kept: the
# store, certificates and pair state, the configuration, logs, the witness
# state and the mamori user and group. A plain removal keeps them so that
# a reinstall finds the appliance as it was.
set -e

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi

if [ "${1:-}" = purge ]; then
	rm -rf /var/lib/mamori /var/lib/mamori-witness /var/log/mamori /etc/mamori
	if getent passwd mamori >/dev/null; then
		userdel mamori || true
	fi
	if getent group mamori >/dev/null; then
		groupdel mamori || true
	fi
fi
exit 0
