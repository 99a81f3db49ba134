#!/bin/sh
# After the files are unpacked.
#   deb: postinst configure [old-version] (empty on a first install)
#   rpm: %post 1 (install) or 2+ (upgrade)
# A first install enables mamori.service and starts it when systemd runs
# (never in a chroot or a container without systemd); an upgrade restarts
# the services that were running. mamori-witness is only for a witness
# host: installed, never enabled here.
set -e

action=install
case "${1:-}" in
configure) [ -n "${2:-}" ] && action=upgrade ;;
abort-upgrade | abort-remove | abort-deconfigure) action=upgrade ;;
[2-9] | [1-9][0-9]*) action=upgrade ;;
esac

systemd_running() { [ -d /run/systemd/system ]; }

# /var/lib/mamori is the service's; the config is readable by its group
# (set again on a first install: the archive's owner names may not have
# resolved; an upgrade keeps what the administrator chose).
if [ "$action" = install ]; then
	chown mamori:mamori /var/lib/mamori
	chmod 0700 /var/lib/mamori
	chown root:mamori /etc/mamori/mamori.yaml
	chmod 0640 /etc/mamori/mamori.yaml
fi

# The receive buffers syslog and traps ask for; a container may refuse.
if command -v sysctl >/dev/null; then
	sysctl -q -p /usr/lib/sysctl.d/60-mamori.conf >/dev/null 2>&1 || true
fi

if systemd_running; then
	systemctl daemon-reload || true
fi

started=no
if [ "$action" = install ]; then
	if command -v systemctl >/dev/null; then
		# enable works offline (it only writes symlinks), also in a chroot.
		systemctl enable mamori.service >/dev/null 2>&1 || true
	fi
	if systemd_running; then
		systemctl start mamori.service && started=yes || true
	fi
	host=$(hostname -f 2>/dev/null || hostname 2>/dev/null || echo HOST)
	if [ "$started" = yes ]; then
		echo "mamori installed and started; \`mamori setup-token\` prints the token for https://$host:8443/setup"
	else
		echo "mamori installed; start it: systemctl start mamori; then \`mamori setup-token\` prints the token for https://$host:8443/setup"
	fi
elif systemd_running; then
	systemctl try-restart mamori.service mamori-witness.service || true
fi
exit 0
