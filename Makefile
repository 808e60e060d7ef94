# The tasks a developer and CI run. Each needs only Go (1.26) and the Go
# module proxy; nothing is installed by hand.

GO        ?= go
PKGS      ?= ./...
BENCHTIME ?= 1s
COUNT     ?= 6
FUZZTIME  ?= 10s
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   = golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

.PHONY: all test demo bench fuzz lint

all: test

## test: vet, then every test with the race detector
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)

## demo: an echo server on loopback, a few hundred clients, a graceful shutdown
demo:
	$(GO) run ./examples/echo

## bench: every benchmark beside its plain-Go peer, as benchstat tables
# Each benchmark has sub-benchmarks impl=tether and impl=<peer> (netconn,
# chan, errgroup...), so that benchstat -col /impl puts them side by side:
# one table per package, tether first, as the base. A peer's "vs base" says
# how it differs from tether: +25% means the peer takes 25% longer, so
# tether is 1/1.25 = 0.8x the peer's time. COUNT=6 is the fewest runs for
# which benchstat gives confidence intervals. The raw figures stay in
# bench.txt; a failing benchmark fails the target.
bench:
	@{ $(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) -count=$(COUNT) $(PKGS); \
		echo $$? > bench.txt.status; } | tee bench.txt
	@status=$$(cat bench.txt.status); rm -f bench.txt.status; exit $$status
	$(GO) run $(BENCHSTAT) -col /impl bench.txt

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$target"; \
			$(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) $$pkg; \
		done; \
	done

## lint: vet and staticcheck
lint:
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

## load: Serve holds 9,000 loopback connections, echoes, cancels with Drain(0): memory per connection and shutdown time beside plain net (not part of test)
.PHONY: load
load:
	$(GO) run ./sockets/internal/load
