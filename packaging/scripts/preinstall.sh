#!/bin/sh
# Before the files are unpacked (deb: preinst install|upgrade; rpm: %pre
# with 1 = install, 2 = upgrade): the mamori system user and group must
# exist, since /var/lib/mamori and /etc/mamori/mamori.yaml belong to them.
set -e

if ! getent group mamori >/dev/null; then
	groupadd --system mamori
fi
if ! getent passwd mamori >/dev/null; then
	useradd --system --gid mamori --home-dir /var/lib/mamori --no-create-home \
		--shell /usr/sbin/nologin --comment "mamori appliance" mamori
fi
exit 0
