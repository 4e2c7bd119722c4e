#!/usr/bin/env bash
# PostgreSQL 17 + pgvector for the integration tests, run from a Debian trixie
# root in a chroot (Debian bookworm, which our machines run, has no pgvector
# package; trixie's vector.so needs trixie's glibc and PostgreSQL 17).
#
# Source it and call pg_start / pg_stop (what .ci/run does), or run it:
#
#	bash .ci/pg.sh start   # prints the export line for BEDROCKKIT_PG_DSN
#	bash .ci/pg.sh stop
#
# The root is built once with debootstrap and cached outside the clone
# (BEDROCKKIT_PG_ROOT, default /var/tmp/bedrockkit-pg/trixie), so a second run
# on the same machine skips the download. The Debian mirror is read from this
# machine's apt sources; no host name is written here. The server listens on
# 127.0.0.1 only, on BEDROCKKIT_PG_PORT (default 54329), with a throw-away
# data directory, trust authentication and durability switched off: it is a
# test server, never a place for data.

PG_ROOT=${BEDROCKKIT_PG_ROOT:-/var/tmp/bedrockkit-pg/trixie}
PG_PORT=${BEDROCKKIT_PG_PORT:-54329}
PG_BIN=/usr/lib/postgresql/17/bin
PG_DATA_IN_ROOT="" # set by pg_start: the data directory, as seen inside the root

pg_log() { printf 'pg: %s\n' "$*" >&2; }

# pg_mirror prints the first active (uncommented, non-security) Debian mirror
# URI from the machine's apt sources, deb822 files first, then one-line files.
pg_mirror() {
	local f m=""
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# deb822: stanzas separated by blank lines; take URIs of a stanza of
		# Types deb whose Suites are not security suites and that is enabled.
		m=$(awk '
			function flush() {
				if (uris != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && suites !~ /security/ && enabled !~ /^[ \t]*no/) {
					split(uris, u, /[ \t]+/); print u[1]; found = 1; exit
				}
				uris = ""; types = ""; suites = ""; enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "uris:"    { sub(/^[^:]*:[ \t]*/, ""); uris = $0; next }
			tolower($1) == "types:"   { sub(/^[^:]*:[ \t]*/, ""); types = $0; next }
			tolower($1) == "suites:"  { sub(/^[^:]*:[ \t]*/, ""); suites = $0; next }
			tolower($1) == "enabled:" { sub(/^[^:]*:[ \t]*/, ""); enabled = tolower($0); next }
			END { if (!found) flush() }
		' "$f")
		if [ -n "$m" ]; then
			echo "$m"
			return 0
		fi
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		# deb [options] URI SUITE COMPONENTS...
		m=$(awk '
			/^[ \t]*deb[ \t]/ {
				i = 2
				if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
				if ($(i+1) ~ /security/) next
				print $i; exit
			}' "$f")
		if [ -n "$m" ]; then
			echo "$m"
			return 0
		fi
	done
	return 1
}

# pg_build_root creates the trixie root with PostgreSQL 17 and pgvector
# unless a complete one is cached.
pg_build_root() {
	if [ -f "$PG_ROOT/.bedrockkit-complete" ]; then
		pg_log "using cached root $PG_ROOT"
		return 0
	fi
	if ! command -v debootstrap >/dev/null 2>&1; then
		pg_log "installing debootstrap"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	fi
	local mirror
	if ! mirror=$(pg_mirror); then
		pg_log "no active Debian mirror found in /etc/apt/sources*; cannot build the PostgreSQL root"
		return 1
	fi
	mkdir -p "$(dirname "$PG_ROOT")"
	local tmp="$PG_ROOT.partial.$$"
	rm -rf "$tmp"
	pg_log "debootstrap trixie into $tmp (mirror from apt sources)"
	if ! debootstrap --variant=minbase --include=postgresql-17-pgvector trixie "$tmp" "$mirror" >"$tmp.log" 2>&1; then
		tail -n 30 "$tmp.log" >&2
		rm -rf "$tmp"
		return 1
	fi
	rm -f "$tmp.log"
	# Drop what the server never needs to keep the cached root smaller.
	rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"* "$tmp/usr/share/doc" "$tmp/usr/share/man" "$tmp/usr/share/locale"
	touch "$tmp/.bedrockkit-complete"
	# Another run may have finished first; keep whichever landed.
	if ! mv -T "$tmp" "$PG_ROOT" 2>/dev/null; then
		rm -rf "$tmp"
	fi
}

# pg_start builds (or reuses) the root, starts a fresh server and exports
# BEDROCKKIT_PG_DSN.
pg_start() {
	local t0=$SECONDS
	pg_build_root || return 1
	local t1=$SECONDS
	if (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then
		pg_log "port $PG_PORT on 127.0.0.1 is in use; set BEDROCKKIT_PG_PORT to a free port"
		return 1
	fi
	PG_DATA_IN_ROOT=$(chroot "$PG_ROOT" mktemp -d /var/tmp/pgdata.XXXXXX) || return 1
	chroot "$PG_ROOT" chown postgres:postgres "$PG_DATA_IN_ROOT" || return 1
	chroot --userspec=postgres:postgres "$PG_ROOT" "$PG_BIN/initdb" -D "$PG_DATA_IN_ROOT" \
		-U postgres -A trust -E UTF8 --no-locale --no-sync >/dev/null || return 1
	cat >>"$PG_ROOT$PG_DATA_IN_ROOT/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $PG_PORT
		unix_socket_directories = '/tmp'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		dynamic_shared_memory_type = mmap
		max_connections = 200
		shared_buffers = 256MB
		maintenance_work_mem = 512MB
	EOF
	if ! chroot --userspec=postgres:postgres "$PG_ROOT" "$PG_BIN/pg_ctl" -D "$PG_DATA_IN_ROOT" \
		-l "$PG_DATA_IN_ROOT/server.log" -w -t 60 start >/dev/null; then
		tail -n 30 "$PG_ROOT$PG_DATA_IN_ROOT/server.log" >&2 || true
		return 1
	fi
	chroot --userspec=postgres:postgres "$PG_ROOT" "$PG_BIN/psql" -q -X -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
		-c "CREATE DATABASE bedrockkit" >/dev/null || return 1
	chroot --userspec=postgres:postgres "$PG_ROOT" "$PG_BIN/psql" -q -X -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$PG_PORT" -U postgres -d bedrockkit \
		-c "CREATE EXTENSION vector" >/dev/null || return 1
	export BEDROCKKIT_PG_DSN="postgres://postgres@127.0.0.1:$PG_PORT/bedrockkit?sslmode=disable"
	local ver
	ver=$(chroot --userspec=postgres:postgres "$PG_ROOT" "$PG_BIN/psql" -At -X \
		-h 127.0.0.1 -p "$PG_PORT" -U postgres -d bedrockkit \
		-c "SELECT split_part(version(), ' ', 2) || ' pgvector ' || extversion FROM pg_extension WHERE extname = 'vector'")
	pg_log "PostgreSQL $ver on 127.0.0.1:$PG_PORT (root $((t1 - t0)) s, server $((SECONDS - t1)) s)"
}

# pg_stop stops the server pg_start started and removes its data directory.
pg_stop() {
	[ -n "$PG_DATA_IN_ROOT" ] || return 0
	chroot --userspec=postgres:postgres "$PG_ROOT" "$PG_BIN/pg_ctl" -D "$PG_DATA_IN_ROOT" \
		-m fast -w -t 60 stop >/dev/null 2>&1 || true
	rm -rf "${PG_ROOT:?}$PG_DATA_IN_ROOT"
	PG_DATA_IN_ROOT=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case "${1:-}" in
	start)
		pg_start
		printf 'export BEDROCKKIT_PG_DSN=%q\nexport BEDROCKKIT_PG_DATA=%q\n' "$BEDROCKKIT_PG_DSN" "$PG_DATA_IN_ROOT"
		;;
	stop)
		# Standalone stop: the data directory comes from BEDROCKKIT_PG_DATA
		# (printed by start).
		PG_DATA_IN_ROOT=${BEDROCKKIT_PG_DATA:?set BEDROCKKIT_PG_DATA to the directory start printed}
		pg_stop
		;;
	mirror) pg_mirror ;;
	*)
		echo "usage: bash .ci/pg.sh start|stop|mirror" >&2
		exit 2
		;;
	esac
fi
