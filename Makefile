# mamori — build, test, bench, run.
#   make run     single appliance on this machine (data in ./.mamori-data, console and API on https://127.0.0.1:8443)
#   make test    everything CI runs: deps, lint, unit, end-to-end suites (the browser tests among them)
#   make bench   BENCH <name> <value> <unit> lines
#   make soak-hostile  the receive-path floods at full size (about 15 minutes)
#   make ui-test the web console's browser tests alone (Chromium against real mamori processes)
#   make openapi regenerate the console's API types (ui/src/api/types.gen.ts) after a route or its types changed

SHELL     := /bin/bash
.SHELLFLAGS := -eo pipefail -c
GO        ?= go
BIN       := bin/mamori
TAGS      := netgo osusergo sqlite_omit_load_extension
LDFLAGS   := -linkmode external -extldflags -static -X main.version=$(shell git describe --always --dirty 2>/dev/null || echo dev) -X main.commit=$(shell git rev-parse --short=12 HEAD 2>/dev/null) -X main.date=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
E2E_TIMEOUT ?= 35m
NPM       ?= npm

.PHONY: all build run test deps lint unit ui-unit e2e ui-test bench soak soak-hostile clean openapi prev-build package package-test

all: build

build: $(BIN)

# The web console (ui/): npm installs its packages from the committed
# lockfile (only when node_modules is missing or the lockfile changed),
# tsc checks it and Vite builds it into ui/dist/bundle, which the binary
# embeds. `go build` alone still works: without the bundle the binary
# serves a page saying to run make build.
UI_DEPS   := ui/node_modules/.package-lock.json
UI_BUNDLE := ui/dist/bundle/index.html
UI_SRC    := $(shell find ui/src ui/public -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/tsconfig.json ui/package.json

$(UI_DEPS): ui/package-lock.json ui/package.json
	cd ui && $(NPM) ci --no-audit --no-fund
	@touch $@

$(UI_BUNDLE): $(UI_DEPS) $(UI_SRC)
	cd ui && $(NPM) run --silent build

$(BIN): $(shell find . -name '*.go' -not -path './test/*' -not -path './ui/node_modules/*') go.mod go.sum $(UI_BUNDLE)
	@mkdir -p bin
	CGO_ENABLED=1 $(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) .

# The console's API types from the OpenAPI document of the route table
# (api/openapi_routes.go); TestTypesGenUpToDate fails until they are
# regenerated and committed.
openapi:
	$(GO) run ./internal/openapigen -o ui/src/api/types.gen.ts

run: build
	./$(BIN) serve --data-dir ./.mamori-data

test: deps lint unit e2e package-test

# Debian packages the suites use; installed only when missing.
# chromium drives the console's browser tests (playwright-core, never a
# downloaded browser); fonts-noto-cjk renders Japanese in its screenshots;
# fping is the reference the ping monitor kind is compared with; dnsmasq
# (dnsmasq-base: the binary, no service) and chrony (chronyd run by the test
# with -x: it never sets the clock) and aiosmtpd (STARTTLS, SMTPS) are real
# DNS, NTP and SMTP servers for the tcp kind; PostgreSQL and MariaDB are
# what the SQL kind is tested against. rpm reads the rpm package and
# debootstrap makes the clean Debian root the .deb is installed into.
DEB_PKGS := iproute2 openssl iputils-ping sqlite3 slapd ldap-utils snmpd snmp snmptrapd rsyslog bsdutils chromium fonts-noto-cjk postgresql mariadb-server fping dnsmasq-base chrony python3-aiosmtpd rpm debootstrap
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(GO) run $(STATICCHECK) ./...

unit: ui-unit
	$(GO) test -short -count=1 ./...
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 15s ./ingest/syslog
	$(GO) test -run '^$$' -fuzz '^FuzzReadFrames$$' -fuzztime 15s ./ingest/syslog
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 15s ./ingest/trap

e2e: build prev-build
	MAMORI_BIN=$(CURDIR)/$(BIN) MAMORI_PREV_BIN=$(CURDIR)/$(PREV_BIN) $(GO) test -count=1 -timeout $(E2E_TIMEOUT) -v ./test/e2e/

# The build of the previous commit (PREV_REF), which TestRollingUpgrade
# upgrades from: built once per commit in a temporary worktree, kept
# under bin/ (bin/mamori-prev links to it); without the web console (the
# test drives the API), which saves the npm install.
PREV_REF ?= HEAD~1
PREV_BIN := bin/mamori-prev
prev-build:
	@rev=$$(git rev-parse --verify -q '$(PREV_REF)^{commit}') || { echo "prev-build: $(PREV_REF) is not in this clone (a shallow clone? fetch more history, or set PREV_REF)"; exit 1; }; \
	out=bin/mamori-$$rev; mkdir -p bin; \
	if [ ! -x $$out ]; then \
	  echo "building the previous commit $$rev for the rolling-upgrade test ..."; \
	  src=$$(mktemp -d /tmp/mamori-prev.XXXXXX); git worktree add -q --detach $$src $$rev; \
	  (cd $$src && CGO_ENABLED=1 $(GO) build -tags '$(TAGS)' -ldflags '-linkmode external -extldflags -static -X main.version='$$(git -C $$src describe --always) -o $(CURDIR)/$$out .) || { git worktree remove --force $$src; exit 1; }; \
	  git worktree remove --force $$src; \
	fi; \
	ln -sf $$(basename $$out) $(PREV_BIN)

# dist/mamori_<version>_amd64.deb and dist/mamori-<version>-1.x86_64.rpm
# (packaging/nfpm.yaml; version from packaging/version.sh, VERSION=...
# overrides it).
package: build
	packaging/build.sh $(BIN) dist

# The packages' contents, metadata and maintainer scripts, then the .deb
# in a clean Debian root made by debootstrap (cached as a tarball in
# /var/cache/mamori-test: the first run downloads it, minutes), and two
# roots installed from it paired in network namespaces.
package-test: deps build
	MAMORI_BIN=$(abspath $(BIN)) $(GO) test -count=1 -timeout 30m -v ./test/package/

# The console's unit tests: both catalogues hold every key, screens show
# no literal text, the API client retries as the API asks.
ui-unit: $(UI_DEPS)
	cd ui && node --test tests/unit/

# The browser tests alone; screenshots land in test/artifacts/ui/.
ui-test: build
	MAMORI_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 10m -v -run '^(TestConsole|TestWizard|TestConsoleSwitchover)$$' ./test/e2e/

# The HA fault suites at length (about an hour): 20 staged and 20
# simultaneous heals, 15 minutes of generated faults per HA mode over real
# processes, and 20,000 generated schedules of the state-machine simulation.
SOAK_RE := ^(TestStagedHeal|TestSimultaneousHeal|TestRandomPartitions)$$
soak: deps build
	MAMORI_SIM_SEEDS=0:20000 $(GO) test -count=1 -run '^TestSimRandomSchedules$$' ./appliance/ha/
	MAMORI_BIN=$(CURDIR)/$(BIN) MAMORI_HEAL_RUNS=20 MAMORI_RANDOM_BUDGET=900 $(GO) test -count=1 -timeout 120m -v -run '$(SOAK_RE)' ./test/e2e/ \
	  | tee .soak.log | grep -E '^(--- |PASS|FAIL|ok)|SUMMARY|run [0-9]+:|runs passed'

# The receive-path floods of issue 9 at full size (about 15 minutes): each
# alone for 100 s, then all together for 200 s, against one appliance with
# the default memory budget (2 GiB) while numbered good traffic flows from another
# address; prints a summary (RSS, data directory, good traffic lost or
# duplicated, refusals by reason). Not part of `make test`.
soak-hostile: deps build
	MAMORI_BIN=$(CURDIR)/$(BIN) MAMORI_HOSTILE_SOAK=100s $(GO) test -count=1 -timeout 40m -v -run '^TestHostileSoak$$' ./test/e2e/ \
	  | tee .soak-hostile.log | grep -E '^(--- |PASS|FAIL|ok)|SUMMARY|phase '

bench: build
	MAMORI_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 60m -run '^$$' -bench . -benchtime 1x ./test/bench/ | grep -E '^(BENCH|ok|FAIL|---)'
	$(GO) test -count=1 -run '^$$' -bench 'Codec|Add' -benchtime 1s ./pollers/metrics/ | grep -E '^(BENCH|ok|FAIL|---)' # issue 12, metrics: codec and Add
	MAMORI_BIN=$(abspath $(BIN)) $(GO) test -count=1 -timeout 30m -run '^$$' -bench 'InstallToPaired' -benchtime 1x ./test/package/ | grep -E '^(BENCH|ok|FAIL|---)' # issue 13: dpkg -i to a healthy pair
	$(GO) test -count=1 -run '^$$' -bench 'PingVsFping' -benchtime 1x ./pollers/ping/ | grep -E '^(BENCH|ok|FAIL|---)' # ping vs fping on the same loopback targets
	MAMORI_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 10m -v -run '^(TestSwitchoverLossless|TestServiceAddress)$$' ./test/e2e/ | grep -E '^(BENCH|ok|FAIL|---)' # issue 13: switchover_s; service address kill -9 to reachable

clean:
	rm -rf bin dist .mamori-data .e2e.log .soak.log .soak-hostile.log ui/dist/bundle test/artifacts
